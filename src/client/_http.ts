/**
 * The client's only network I/O: one request, its retries, its timeout, and the mapping of every
 * failure to an {@linkcode APIError}. Holds the API key in a private field and removes it from
 * any text that goes into an error.
 */
import type { FetchLike, HeaderValues, RequestOptions } from "./options.ts";
import { retryDelay } from "./_retry.ts";
import { IdleTimer } from "./_timer.ts";
import { redactJson, redactText } from "./_redact.ts";
import { APIConnectionError, APIError, APITimeoutError, errorClassForStatus } from "./errors.ts";
import { Stream } from "./stream.ts";
import type { WithRequestId } from "./types.ts";

/** The resolved settings of a client. */
export interface TransportSettings {
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly defaultHeaders: HeaderValues;
  readonly fetch: FetchLike;
}

/** One API call. */
export interface RequestSpec {
  readonly method: "GET" | "POST";
  /** The path below the base URL, e.g. `/chat/completions`. */
  readonly path: string;
  readonly body?: unknown;
  readonly options?: RequestOptions | undefined;
}

/** A successful answer whose body has not been read (a stream). */
interface OpenResponse {
  readonly response: Response;
  readonly controller: AbortController;
  readonly timer: IdleTimer;
  readonly release: () => void;
}

const MAX_SNIPPET = 500;

/** Sends requests to the gateway on behalf of one client. */
export class Transport {
  readonly #apiKey: string;
  readonly #settings: TransportSettings;

  constructor(apiKey: string, settings: TransportSettings) {
    this.#apiKey = apiKey;
    this.#settings = settings;
  }

  /** Sends `spec` and returns its decoded JSON body, with `_request_id` attached. */
  async json<T extends WithRequestId>(spec: RequestSpec): Promise<T> {
    const { response, text } = await this.#send(spec, false, async (open) => {
      try {
        return { response: open.response, text: await open.response.text() };
      } catch (error) {
        throw this.#failure(error, open, spec.options?.signal, "The answer broke off");
      } finally {
        open.release();
      }
    });
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new APIError(
        this.redact(`The answer is not JSON: ${text.slice(0, 200)}`),
        { status: response.status, headers: response.headers },
      );
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new APIError("The answer is not a JSON object", {
        status: response.status,
        headers: response.headers,
        body: redactJson(data, (part) => this.redact(part)),
      });
    }
    Object.defineProperty(data, "_request_id", {
      value: response.headers.get("x-request-id"),
      enumerable: false,
      configurable: true,
      writable: true,
    });
    return data as T;
  }

  /** Sends `spec` and returns the stream of its events, once the answer's headers are in. */
  async stream<T>(spec: RequestSpec): Promise<Stream<T>> {
    const signal = spec.options?.signal;
    const open = await this.#send(spec, true, (open) => Promise.resolve(open));
    const type = open.response.headers.get("content-type")?.toLowerCase() ?? "";
    if (!type.startsWith("text/event-stream")) {
      open.release();
      const text = await open.response.text().catch(() => "");
      throw new APIError(
        this.redact(
          `Expected an event stream, got ${type || "no content type"}: ${text.slice(0, 200)}`,
        ),
        { status: open.response.status, headers: open.response.headers },
      );
    }
    return new Stream<T>(open.response, {
      controller: open.controller,
      timer: open.timer,
      signal,
      release: open.release,
      redact: (text) => this.redact(text),
    });
  }

  /** `text` with the API key replaced by `***`. */
  redact(text: string): string {
    return redactText(text, this.#apiKey);
  }

  /**
   * Tries `spec` until it succeeds or may not be retried. `read` turns a 2xx answer into the
   * result; a failure it throws as an {@linkcode APIConnectionError} is retried like any other.
   */
  async #send<R>(
    spec: RequestSpec,
    stream: boolean,
    read: (open: OpenResponse) => Promise<R>,
  ): Promise<R> {
    const options = spec.options ?? {};
    const maxRetries = options.maxRetries ?? this.#settings.maxRetries;
    const url = this.#url(spec.path, options.query);
    const init = {
      method: spec.method,
      headers: this.#headers(stream, spec.body !== undefined, options.headers),
      body: spec.body === undefined ? null : JSON.stringify(spec.body),
    };
    for (let taken = 0;; taken += 1) {
      let error: APIError;
      try {
        const open = await this.#attempt(url, init, options);
        if (open instanceof APIError) {
          error = open;
        } else {
          return await read(open);
        }
      } catch (thrown) {
        if (!(thrown instanceof APIConnectionError)) throw thrown;
        error = thrown;
      }
      const wait = retryDelay(error, { taken, max: maxRetries });
      if (wait === undefined) throw error;
      await sleep(wait, options.signal);
    }
  }

  /** One try: the open 2xx answer, or the error it came to. */
  async #attempt(
    url: string,
    init: { method: string; headers: Headers; body: string | null },
    options: RequestOptions,
  ): Promise<OpenResponse | APIError> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const controller = new AbortController();
    const timer = new IdleTimer(options.timeout ?? this.#settings.timeout, () => {
      controller.abort(new APITimeoutError());
    });
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      timer.clear();
      signal?.removeEventListener("abort", onAbort);
    };
    const open = { controller, timer, release };
    timer.arm();
    let response: Response;
    try {
      response = await this.#settings.fetch(url, {
        ...init,
        signal: controller.signal,
        redirect: "manual",
      });
    } catch (error) {
      release();
      return this.#failure(error, open, signal, "Connection error");
    }
    if (response.ok) return { ...open, response };
    try {
      return await this.#statusError(response);
    } catch (error) {
      return this.#failure(error, open, signal, "The answer broke off");
    } finally {
      release();
    }
  }

  /** The error for a request that got no (complete) answer; a caller's abort is rethrown. */
  #failure(
    error: unknown,
    open: { readonly timer: IdleTimer },
    signal: AbortSignal | undefined,
    what: string,
  ): APIConnectionError {
    if (signal?.aborted === true) throw signal.reason;
    if (open.timer.fired) return new APITimeoutError(undefined, { cause: error });
    return new APIConnectionError(this.redact(`${what}: ${describe(error)}`), { cause: error });
  }

  async #statusError(response: Response): Promise<APIError> {
    const { status, headers } = response;
    if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
      await response.body?.cancel();
      return new APIError(
        "The server answered with a redirect, which the client does not follow (so the API key " +
          "is never sent elsewhere); check baseURL",
        { status: status === 0 ? undefined : status, headers },
      );
    }
    const raw = await response.text();
    const text = this.redact(raw);
    let body: unknown = text === "" ? undefined : text;
    try {
      if (raw !== "") body = redactJson(JSON.parse(raw), (part) => this.redact(part));
    } catch {
      // Not JSON: the (redacted) text is the body.
    }
    const detail = typeof body === "object" && body !== null
      ? (body as Record<string, unknown>).error ?? body
      : undefined;
    const fields = typeof detail === "object" && detail !== null
      ? detail as Record<string, unknown>
      : { message: detail };
    const message = typeof fields.message === "string" && fields.message !== ""
      ? fields.message
      : text.trim().slice(0, MAX_SNIPPET) || `HTTP ${status} ${response.statusText}`.trim();
    const ErrorClass = errorClassForStatus(status);
    return new ErrorClass(message, {
      status,
      type: stringOrNull(fields.type),
      code: stringOrNull(fields.code),
      param: stringOrNull(fields.param),
      headers,
      body,
    });
  }

  #url(path: string, query: RequestOptions["query"]): string {
    const url = new URL(this.#settings.baseURL + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== null && value !== undefined) url.searchParams.append(name, String(value));
    }
    return url.href;
  }

  #headers(stream: boolean, hasBody: boolean, extra: HeaderValues | undefined): Headers {
    const headers = new Headers({ accept: stream ? "text/event-stream" : "application/json" });
    if (hasBody) headers.set("content-type", "application/json");
    for (const source of [this.#settings.defaultHeaders, extra ?? {}]) {
      for (const [name, value] of Object.entries(source)) {
        if (name.toLowerCase() === "authorization") continue;
        if (value === null || value === undefined) headers.delete(name);
        else headers.set(name, value);
      }
    }
    headers.set("authorization", `Bearer ${this.#apiKey}`);
    return headers;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal?.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function stringOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message === "" ? error.name : `${error.name}: ${error.message}`;
}
