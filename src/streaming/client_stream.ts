/**
 * The SSE body sent to the client for a streamed completion.
 *
 * Each item is written as soon as it arrives (no buffering). The stream ends with `[DONE]` when
 * the provider finished cleanly, or with one error event and no `[DONE]` when it failed midway
 * (DESIGN.md). The final usage chunk reaches the client only when it asked for it, though the
 * gateway always asks the provider. Cancelling the body (the client went away) cancels the
 * upstream request at once.
 */
import { errors, type GatewayError } from "../errors.ts";
import type { Usage } from "../openai/schema.ts";
import type { StreamItem } from "../providers/mod.ts";
import { encodeSseData, encodeSseError, SSE_DONE } from "../sse.ts";

/** How a stream ended, for logs and usage records. */
export interface StreamOutcome {
  readonly usage: Usage | undefined;
  readonly error: GatewayError | undefined;
  /** The client went away before the end. */
  readonly cancelled: boolean;
}

/** Inputs of {@linkcode createClientStream}. */
export interface ClientStreamOptions {
  readonly items: ReadableStream<StreamItem>;
  readonly includeUsage: boolean;
  /** Maps a read failure (timeout, reset) to the error event. */
  explain(error: unknown): GatewayError;
  /** Releases the upstream call (stops timers, aborts if running). */
  close(): void;
  /** Called exactly once when the stream ends, however it ends. */
  onEnd(outcome: StreamOutcome): void;
  /** Called once, when the first bytes are handed to the client. */
  onFirstByte?(): void;
  /** Ends the stream from outside (server shutdown). */
  readonly signal?: AbortSignal | undefined;
}

function readUsage(chunk: Record<string, unknown>): Usage | undefined {
  const usage = chunk.usage;
  if (typeof usage !== "object" || usage === null) return undefined;
  const { prompt_tokens, completion_tokens, total_tokens } = usage as Record<string, unknown>;
  if (typeof prompt_tokens !== "number" || typeof completion_tokens !== "number") return undefined;
  return {
    prompt_tokens,
    completion_tokens,
    total_tokens: typeof total_tokens === "number"
      ? total_tokens
      : prompt_tokens + completion_tokens,
  };
}

/** Turns stream items into the client's SSE bytes. */
export function createClientStream(options: ClientStreamOptions): ReadableStream<Uint8Array> {
  const reader = options.items.getReader();
  let usage: Usage | undefined;
  let ended = false;
  const end = (error: GatewayError | undefined, cancelled: boolean) => {
    if (ended) return;
    ended = true;
    options.close();
    reader.cancel().catch(() => {});
    options.onEnd({ usage, error, cancelled });
  };

  /** Encodes one item; `undefined` means nothing to send for it. */
  const encode = (item: StreamItem & { type: "chunk" }): Uint8Array | undefined => {
    const chunkUsage = readUsage(item.chunk);
    if (chunkUsage !== undefined) usage = chunkUsage;
    const choices = item.chunk.choices;
    const isUsageChunk = Array.isArray(choices) && choices.length === 0 && chunkUsage !== undefined;
    if (options.includeUsage) return encodeSseData(item.raw ?? JSON.stringify(item.chunk));
    if (isUsageChunk) return undefined;
    if ("usage" in item.chunk) {
      const { usage: _dropped, ...rest } = item.chunk;
      return encodeSseData(JSON.stringify(rest));
    }
    return encodeSseData(item.raw ?? JSON.stringify(item.chunk));
  };

  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(rawController) {
      const controller = {
        enqueue(bytes: Uint8Array) {
          if (first) {
            first = false;
            options.onFirstByte?.();
          }
          rawController.enqueue(bytes);
        },
        close: () => rawController.close(),
      };
      while (!ended) {
        let result: ReadableStreamReadResult<StreamItem>;
        try {
          if (options.signal?.aborted === true) throw options.signal.reason;
          result = await reader.read();
        } catch (error) {
          const gatewayError = options.signal?.aborted === true
            ? errors.shuttingDown()
            : options.explain(error);
          controller.enqueue(encodeSseError(gatewayError));
          controller.close();
          end(gatewayError, false);
          return;
        }
        if (result.done) {
          const error = errors.upstream("The provider ended the stream before it was complete");
          controller.enqueue(encodeSseError(error));
          controller.close();
          end(error, false);
          return;
        }
        const item = result.value;
        if (item.type === "chunk") {
          const bytes = encode(item);
          if (bytes === undefined) continue;
          controller.enqueue(bytes);
          return;
        }
        if (item.type === "done") {
          controller.enqueue(SSE_DONE);
          controller.close();
          end(undefined, false);
          return;
        }
        controller.enqueue(encodeSseError(item.error));
        controller.close();
        end(item.error, false);
        return;
      }
    },
    cancel() {
      end(undefined, true);
    },
  }, { highWaterMark: 0 });
}
