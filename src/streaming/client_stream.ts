/**
 * The SSE body sent to the client for a streamed completion, in the client's dialect: the
 * writer passed in renders the items (OpenAI chunks here, Messages events, or a provider's own
 * events passed through).
 *
 * Events are forwarded as soon as they arrive: every chunk read from the upstream is decoded,
 * translated and written at once, and the events that came in one read leave in one write. The
 * stream ends with `[DONE]` when the provider finished cleanly, or with one error event and no
 * `[DONE]` when it failed midway (DESIGN.md). The final usage chunk reaches the client only when
 * it asked for it, though the gateway always asks the provider. Cancelling the body (the client
 * went away) cancels the upstream request at once.
 */
import type { Deadlines } from "../deadlines.ts";
import { errors, type GatewayError, toGatewayError } from "../errors.ts";
import { choiceFinishReasons, scanFinishReason } from "../openai/finish_reasons.ts";
import { readOpenAIUsage, type RecordedUsage } from "../openai/usage.ts";
import type { StreamItem } from "../providers/mod.ts";
import { createSseDecoder, SSE_DONE, sseData, sseError, type SseEvent } from "../sse.ts";

/** How a stream ended, for logs and usage records. */
export interface StreamOutcome {
  readonly usage: RecordedUsage | undefined;
  readonly error: GatewayError | undefined;
  /** The client went away before the end. */
  readonly cancelled: boolean;
  /** The finish reason of each choice, as OpenAI names them (`stop`, `length`, …). */
  readonly finishReasons?: readonly string[] | undefined;
}

/** A chunk's usage, with the shares billed apart (cached, reasoning), when it has one. */
function readUsage(chunk: Record<string, unknown>): RecordedUsage | undefined {
  return readOpenAIUsage(chunk.usage);
}

/**
 * Removes the top-level `"usage":null` member from a chunk's JSON text without re-serialising it.
 * The caller guarantees the key occurs once and is `null` (see the OpenAI translator).
 */
export function stripNullUsage(json: string): string {
  const withComma = json.replace(/,\s*"usage"\s*:\s*null(?=\s*[,}])/, "");
  if (withComma !== json) return withComma;
  return json.replace(/"usage"\s*:\s*null\s*,?\s*/, "");
}

/** The failure that ends a stream: the gateway's own, or the provider's as mapped. */
export interface StreamFailure {
  readonly type: "error";
  readonly error: GatewayError;
}

/**
 * Turns stream items into the client's SSE text, batch by batch. `I` is what the translator
 * produces: OpenAI chunks ({@linkcode StreamItem}) or, for a pass-through, the provider's events.
 */
export interface SseWriter<I = StreamItem> {
  /** Adds one item; ignored once the stream is over. */
  push(item: I | StreamFailure): void;
  /** The text accumulated since the last call. */
  take(): string;
  /** Set once `done` or an error was pushed. */
  readonly finished: boolean;
  /** Set once anything but an error was written (a chunk, `[DONE]`). */
  readonly hasData: boolean;
  readonly usage: RecordedUsage | undefined;
  readonly error: GatewayError | undefined;
  /**
   * The finish reason of each choice so far, in OpenAI's words (`stop`, `length`, `tool_calls`,
   * `content_filter`; a provider's own reasons are mapped to them); undefined before any.
   */
  readonly finishReasons?: readonly string[] | undefined;
}

/** Creates a writer; `includeUsage` keeps the final usage chunk and `usage` keys. */
export function createSseWriter(includeUsage: boolean): SseWriter {
  let out = "";
  let finished = false;
  let hasData = false;
  let usage: RecordedUsage | undefined;
  let error: GatewayError | undefined;
  let finishReasons: string[] | undefined;
  const chunkText = (item: StreamItem & { type: "chunk" }): string => {
    const chunkUsage = readUsage(item.chunk);
    if (chunkUsage !== undefined) usage = chunkUsage;
    const reasons = choiceFinishReasons(item.chunk.choices);
    if (reasons !== undefined) (finishReasons ??= []).push(...reasons);
    if (includeUsage) return sseData(item.raw ?? JSON.stringify(item.chunk));
    const choices = item.chunk.choices;
    if (Array.isArray(choices) && choices.length === 0 && chunkUsage !== undefined) return "";
    if ("usage" in item.chunk) {
      const { usage: _dropped, ...rest } = item.chunk;
      return sseData(JSON.stringify(rest));
    }
    return sseData(item.raw ?? JSON.stringify(item.chunk));
  };
  return {
    push(item) {
      if (finished) return;
      if (item.type === "raw") {
        out += sseData(item.nullUsage && !includeUsage ? stripNullUsage(item.raw) : item.raw);
        hasData = true;
        const reason = scanFinishReason(item.raw);
        if (reason !== undefined) (finishReasons ??= []).push(reason);
      } else if (item.type === "chunk") {
        const text = chunkText(item);
        out += text;
        if (text !== "") hasData = true;
      } else if (item.type === "done") {
        out += SSE_DONE;
        finished = true;
        hasData = true;
      } else {
        out += sseError(item.error);
        error = item.error;
        finished = true;
      }
    },
    take() {
      const text = out;
      out = "";
      return text;
    },
    get finished() {
      return finished;
    },
    get hasData() {
      return hasData;
    },
    get usage() {
      return usage;
    },
    get error() {
      return error;
    },
    get finishReasons() {
      return finishReasons;
    },
  };
}

/** Translates one provider stream into a writer's items, event by event, synchronously. */
export interface EventTranslator<I> {
  /** One provider event → zero or more items. */
  event(event: SseEvent, emit: (item: I | StreamFailure) => void): void;
  /** The provider's body ended. */
  end(emit: (item: I | StreamFailure) => void): void;
}

/** Text sent to the client while the provider is silent, once the stream has started. */
export interface KeepAlive {
  /** Silence, in ms, before each keep-alive. */
  readonly everyMs: number;
  /** The keep-alive text (a whole SSE event, such as Messages' `ping`). */
  readonly text: string;
  /** Where the silence timer is kept. */
  readonly deadlines: Deadlines;
}

/** Inputs of {@linkcode openUpstreamStream}. */
export interface UpstreamStreamOptions<I> {
  readonly body: ReadableStream<Uint8Array>;
  readonly translator: EventTranslator<I>;
  /** Renders the translator's items in the client's dialect. */
  readonly writer: SseWriter<I>;
  /** Keep-alive events while the provider is silent; none when undefined. */
  readonly keepAlive?: KeepAlive | undefined;
  /** Resets the upstream idle timer; called on every event. */
  touch(): void;
  /** Maps a read failure (timeout, reset) to the error event. */
  explain(error: unknown): GatewayError;
  /**
   * Releases the upstream call (stops its idle timer and abort listeners), once the stream is
   * over. It does not abort the call: the stream cancels the body itself when it stops early.
   */
  close(): void;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd(outcome: StreamOutcome): void;
  /** Called once, when the first bytes are handed to the client. */
  onFirstByte?(): void;
  /** Ends the stream from outside (server shutdown). */
  readonly signal?: AbortSignal | undefined;
}

const encoder = new TextEncoder();

/**
 * Opens the client's SSE body for an upstream stream. The upstream is read until its first
 * output: if that is an error (the provider failed before saying anything), the error is
 * returned instead of a stream and the upstream released, so the caller can still answer with a
 * plain HTTP error, retry or fall back: nothing has reached the client yet.
 */
export async function openUpstreamStream<I>(
  options: UpstreamStreamOptions<I>,
): Promise<ReadableStream<Uint8Array> | GatewayError> {
  const { translator, signal, writer, keepAlive } = options;
  const reader = options.body.getReader();
  const decoder = createSseDecoder(
    (event) => {
      options.touch();
      translator.event(event, writer.push);
    },
    (message) =>
      writer.push({
        type: "error",
        error: errors.upstream(`The provider's stream broke: ${message}`),
      }),
    // A keep-alive comment is a sign of life too.
    () => options.touch(),
  );
  const aborted = () => signal?.aborted === true;
  let bodyDone = false;
  /** Reads one upstream chunk into the writer. */
  const step = async () => {
    if (aborted()) return writer.push({ type: "error", error: errors.shuttingDown() });
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      const reason = aborted() ? errors.shuttingDown() : options.explain(error);
      return writer.push({ type: "error", error: reason });
    }
    try {
      if (!result.done) return decoder.feed(result.value);
      bodyDone = true;
      decoder.end();
      translator.end(writer.push);
      if (!writer.finished) {
        writer.push({
          type: "error",
          error: errors.upstream("The provider ended the stream before it was complete"),
        });
      }
    } catch (error) {
      writer.push({ type: "error", error: toGatewayError(error) });
    }
  };

  let pending = "";
  while (pending === "") {
    await step();
    if (writer.finished && !writer.hasData) {
      options.close();
      reader.cancel().catch(() => {});
      return writer.error ?? errors.upstream("The provider's stream failed");
    }
    pending = writer.take();
  }

  /**
   * After a clean end (`[DONE]`) the provider's body is read to its end rather than cancelled, so
   * its connection goes back to the pool: a cancelled body closes it, and the next request pays a
   * new TCP and TLS handshake. Anything but a prompt end of body is cancelled; the idle timer,
   * still running meanwhile, bounds the wait.
   */
  const release = async (clean: boolean) => {
    try {
      if (clean && !bodyDone) {
        const { done } = await reader.read();
        if (done) return;
      }
      if (!bodyDone) await reader.cancel();
    } catch {
      // The upstream failed or timed out while draining: nothing more to release.
    } finally {
      options.close();
    }
  };

  /** The read in progress, kept across a keep-alive so that no chunk is lost. */
  let reading: Promise<void> | undefined;
  /** One step, or "ping" when the keep-alive's silence passes first. */
  const stepOrPing = async (alive: KeepAlive): Promise<"ping" | undefined> => {
    const current = reading ??= step();
    const silence = Promise.withResolvers<"ping">();
    const timer = alive.deadlines.start(alive.everyMs, () => silence.resolve("ping"));
    const winner = await Promise.race([current, silence.promise]);
    timer.cancel();
    if (winner === "ping") return "ping";
    reading = undefined;
    return undefined;
  };

  let ended = false;
  let first = true;
  const end = (cancelled: boolean) => {
    if (ended) return;
    ended = true;
    void release(!cancelled && writer.error === undefined);
    options.onEnd({
      usage: writer.usage,
      error: writer.error,
      cancelled,
      finishReasons: writer.finishReasons,
    });
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!ended) {
        let text = pending;
        pending = "";
        if (text === "" && !writer.finished) {
          if (keepAlive === undefined) await step();
          else if (await stepOrPing(keepAlive) === "ping") {
            if (!ended) controller.enqueue(encoder.encode(keepAlive.text));
            return;
          }
          if (ended) return; // the client left while the read was pending
        }
        // A read that outlived a keep-alive may have finished the stream since the last pull:
        // what it wrote is taken even then, or the stream's ending would be lost.
        if (text === "") text = writer.take();
        if (text !== "") {
          if (first) {
            first = false;
            options.onFirstByte?.();
          }
          controller.enqueue(encoder.encode(text));
        }
        if (writer.finished) {
          controller.close();
          end(false);
          return;
        }
        if (text !== "") return;
      }
    },
    cancel() {
      end(true);
    },
  }, { highWaterMark: 0 });
}

/** Renders a stream whose items are all known now (the echo model) as one SSE text. */
export function renderStream(
  items: readonly StreamItem[],
  includeUsage: boolean,
): { text: string; usage: RecordedUsage | undefined } {
  const writer = createSseWriter(includeUsage);
  for (const item of items) writer.push(item);
  return { text: writer.take(), usage: writer.usage };
}
