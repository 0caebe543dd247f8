/**
 * The {@linkcode Stream} a streamed request returns: its events, parsed by eventsource-parser,
 * handed out one by one as they arrive.
 *
 * @module
 */
import { type EventSourceMessage, EventSourceParserStream } from "eventsource-parser/stream";
import { redactJson } from "./_redact.ts";
import type { IdleTimer } from "./_timer.ts";
import { APIConnectionError, APIError, APITimeoutError, errorClassForType } from "./errors.ts";

/** What a {@linkcode Stream} needs from the request that opened it. */
export interface StreamInit {
  /** Aborts the HTTP request. */
  readonly controller: AbortController;
  /** The idle timer of the request: re-armed before each read, cleared at the end. */
  readonly timer?: IdleTimer | undefined;
  /** The caller's signal: its abort ends the stream with its reason. */
  readonly signal?: AbortSignal | undefined;
  /** Called once when the stream is done with (listeners, timers). */
  readonly release?: (() => void) | undefined;
  /** Removes secrets from text before it goes into an error. */
  readonly redact?: ((text: string) => string) | undefined;
}

/**
 * The chunks of a streamed answer, in order, each as soon as it arrives. Iterate over it once
 * with `for await`; leaving the loop early (or {@linkcode Stream.abort}) releases the connection.
 *
 * An error event from the gateway (`data: {"error": …}`) is thrown as the {@linkcode APIError}
 * subclass its `type` names, with `status` undefined. A stream that stops without `[DONE]` throws
 * {@linkcode APIConnectionError}; one silent for longer than the timeout, {@linkcode APITimeoutError}.
 *
 * @example Print a streamed answer
 * ```ts
 * import { ChoreoAI } from "./mod.ts";
 *
 * const client = new ChoreoAI({ apiKey: "your-api-key" });
 * const stream = await client.chat.completions.create({
 *   model: "choreoai/echo",
 *   messages: [{ role: "user", content: "Tell me a story" }],
 *   stream: true,
 * });
 * for await (const chunk of stream) {
 *   console.log(chunk.choices[0]?.delta.content ?? "");
 * }
 * ```
 */
export class Stream<T> implements AsyncIterable<T> {
  /** The HTTP response whose body is being read. */
  readonly response: Response;
  /** Aborts the HTTP request; {@linkcode Stream.abort} calls it. */
  readonly controller: AbortController;
  readonly #init: StreamInit;
  #iterated = false;
  #closedByCaller = false;
  #released = false;

  constructor(response: Response, init: StreamInit) {
    this.response = response;
    this.controller = init.controller;
    this.#init = init;
  }

  /** The response headers. */
  get headers(): Headers {
    return this.response.headers;
  }

  /** The `x-request-id` response header. */
  get requestId(): string | null {
    return this.response.headers.get("x-request-id");
  }

  /** Stops the stream and releases the connection; iterating ends quietly afterwards. */
  abort(): void {
    this.#closedByCaller = true;
    this.controller.abort();
    this.#release();
  }

  /** Yields each chunk as soon as its event has arrived. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterated) {
      throw new TypeError("Cannot iterate a stream twice: its chunks are read as they arrive");
    }
    this.#iterated = true;
    return this.#chunks();
  }

  async *#chunks(): AsyncGenerator<T, void, undefined> {
    const body = this.response.body;
    if (body === null) {
      this.#release();
      throw this.#connectionError("The stream has no body");
    }
    const reader = body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream())
      .getReader();
    let finished = false;
    try {
      while (true) {
        const event = await this.#read(reader);
        if (event === undefined) break;
        if (event.data === "[DONE]") {
          finished = true;
          return;
        }
        yield this.#decode(event);
      }
      if (this.#closedByCaller) return;
      throw this.#connectionError("The stream ended before it was complete (no [DONE] event)");
    } finally {
      this.#release();
      if (!finished) this.controller.abort();
      await reader.cancel().catch(() => {});
    }
  }

  /** The next event, or `undefined` at the end (or after {@linkcode Stream.abort}). */
  async #read(
    reader: ReadableStreamDefaultReader<EventSourceMessage>,
  ): Promise<EventSourceMessage | undefined> {
    if (this.#closedByCaller) return undefined;
    this.#init.timer?.arm();
    try {
      const result = await reader.read();
      return result.done ? undefined : result.value;
    } catch (error) {
      if (this.#closedByCaller) return undefined;
      const signal = this.#init.signal;
      if (signal?.aborted === true) throw signal.reason;
      if (this.#init.timer?.fired === true) {
        throw new APITimeoutError("The stream stayed silent for longer than the timeout", {
          headers: this.headers,
          cause: error,
        });
      }
      throw this.#connectionError(`The stream broke off: ${describe(error)}`, error);
    } finally {
      this.#init.timer?.clear();
    }
  }

  #decode(event: EventSourceMessage): T {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new APIError(
        this.#redact(`The stream sent an event that is not JSON: ${event.data.slice(0, 200)}`),
        { headers: this.headers },
      );
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new APIError("The stream sent an event that is not a JSON object", {
        headers: this.headers,
        body: redactJson(data, (text) => this.#redact(text)),
      });
    }
    const error = (data as { error?: unknown }).error;
    if (error !== undefined && error !== null) {
      const body = redactJson(data, (text) => this.#redact(text)) as { error: unknown };
      throw this.#streamError(body.error, body);
    }
    return data as T;
  }

  #streamError(error: unknown, body: unknown): APIError {
    const detail = typeof error === "object" && error !== null
      ? error as Record<string, unknown>
      : { message: error };
    const type = text(detail.type);
    const ErrorClass = errorClassForType(type);
    return new ErrorClass(this.#redact(text(detail.message) ?? "The stream failed"), {
      type,
      code: text(detail.code),
      param: text(detail.param),
      headers: this.headers,
      body,
    });
  }

  #connectionError(message: string, cause?: unknown): APIConnectionError {
    return new APIConnectionError(
      this.#redact(message),
      cause === undefined ? { headers: this.headers } : { headers: this.headers, cause },
    );
  }

  #redact(message: string): string {
    return this.#init.redact?.(message) ?? message;
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#init.timer?.clear();
    this.#init.release?.();
  }
}

function text(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
