/**
 * `sendUpstream`: the calls to providers made by the chat and embeddings routes.
 *
 * All of the gateway's HTTP goes through the `fetch` main.ts passes in: here, in the model
 * catalog (`src/models/catalog.ts`, the providers' model lists) and in the image fetcher
 * (`src/http/image_fetch.ts`, image URLs for providers that take bytes only). Redis, for shared
 * limits, is reached by `src/limits/redis.ts`.
 *
 * Each call has an idle timer (CHOREOAI_UPSTREAM_TIMEOUT_MS) that runs while waiting for the
 * response headers and is reset by every event afterwards, so a long but lively stream is never
 * cut, while a silent upstream is. Aborting the call (client gone, shutdown, timeout) cancels
 * the upstream request.
 */
import type { Deadlines } from "./deadlines.ts";
import { errors, GatewayError } from "./errors.ts";
import { readAtMost } from "./http/bounded_read.ts";
import type { ProviderRequest } from "./http/provider_request.ts";
import { whenAborted } from "./abort_listeners.ts";

/** The default of `CHOREOAI_MAX_RESPONSE_BYTES`: 64 MiB. */
export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** What {@linkcode sendUpstream} needs from the outside. */
export interface UpstreamOptions {
  readonly fetch: typeof fetch;
  readonly idleTimeoutMs: number;
  /**
   * Wait for the response headers, when shorter than the idle timeout (a deadline over several
   * attempts is near). Default: the idle timeout.
   */
  readonly firstTimeoutMs?: number | undefined;
  /** Where the idle deadline is kept. */
  readonly deadlines: Deadlines;
  /** Provider name for messages. */
  readonly provider: string;
  /** Aborts the call from outside (server shutdown). */
  readonly signal?: AbortSignal | undefined;
  /** Aborts the call because the client went away. */
  readonly clientSignal?: AbortSignal | undefined;
  /**
   * The most bytes {@linkcode readUpstreamText} reads of a whole (non-streamed) answer or error
   * body: `CHOREOAI_MAX_RESPONSE_BYTES`. Default {@linkcode DEFAULT_MAX_ANSWER_BYTES}.
   */
  readonly maxAnswerBytes?: number | undefined;
}

/** An upstream call whose response headers have arrived. */
export interface UpstreamCall {
  readonly response: Response;
  /** Resets the idle timer; call it on every stream event or body chunk. */
  touch(): void;
  /** Stops the idle timer and the shutdown hook. Idempotent. Cancel the body to abort. */
  close(): void;
  /** The client-facing error for a failure while reading the body. */
  explain(error: unknown): GatewayError;
  /** The provider's name, for messages. */
  readonly provider: string;
  /** The most bytes of a whole answer {@linkcode readUpstreamText} reads. */
  readonly maxAnswerBytes: number;
}

class IdleTimeout extends Error {
  override name = "IdleTimeout";
}

/**
 * Sends a request upstream and waits for its headers.
 *
 * @throws {GatewayError} 504 `upstream_timeout` when the headers do not come in time, 502
 *   `upstream_error` when the upstream cannot be reached, 503 when the server shuts down.
 */
export async function sendUpstream(
  request: ProviderRequest,
  options: UpstreamOptions,
): Promise<UpstreamCall> {
  const { idleTimeoutMs, provider, signal, clientSignal } = options;
  if (signal?.aborted === true) throw errors.shuttingDown();
  if (clientSignal?.aborted === true) throw errors.clientClosed();
  const controller = new AbortController();
  // The shutdown signal is shared by every call in flight: listened to through a set.
  const stopOuter = signal === undefined
    ? undefined
    : whenAborted(signal, () => controller.abort(signal.reason));
  const onClientAbort = () => controller.abort(clientSignal?.reason);
  clientSignal?.addEventListener("abort", onClientAbort, { once: true });
  const firstTimeoutMs = Math.min(options.firstTimeoutMs ?? idleTimeoutMs, idleTimeoutMs);
  let waitedMs = firstTimeoutMs;
  const idle = options.deadlines.start(firstTimeoutMs, () => controller.abort(new IdleTimeout()));
  const touch = () => {
    if (waitedMs === idleTimeoutMs) return idle.reset();
    waitedMs = idleTimeoutMs;
    idle.reset(idleTimeoutMs);
  };
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    idle.cancel();
    stopOuter?.();
    clientSignal?.removeEventListener("abort", onClientAbort);
    // No abort here: a body read to its end leaves the connection to be reused, and cancelling
    // an unfinished body (the client left) already cancels the request.
  };
  const explain = (error: unknown): GatewayError => {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof IdleTimeout) {
      return errors.upstreamTimeout(`${provider} sent nothing for ${waitedMs} ms`);
    }
    if (signal?.aborted === true) return errors.shuttingDown();
    if (clientSignal?.aborted === true) return errors.clientClosed();
    return errors.upstream(`The connection to ${provider} failed`, 502, error);
  };
  try {
    const response = await options.fetch(request.url, request.init(controller.signal));
    // Headers are a sign of life. Under a deadline shorter than the idle timeout (retries and
    // fallbacks to come), the wait for the first event keeps counting from the same start.
    if (waitedMs === idleTimeoutMs) idle.reset();
    const maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    return { response, touch, close, explain, provider, maxAnswerBytes };
  } catch (error) {
    const gatewayError = explain(error);
    close();
    throw gatewayError.code === "upstream_error"
      ? errors.upstream(`Cannot reach ${provider}`, 502, error)
      : gatewayError;
  }
}

/**
 * Reads a whole upstream body as text, at most `call.maxAnswerBytes` of it; the idle timer keeps
 * running meanwhile.
 *
 * @throws {GatewayError} 502 `upstream_error` naming the limit and `CHOREOAI_MAX_RESPONSE_BYTES`
 *   as soon as the body (or its `Content-Length`) passes the limit; the rest is cancelled, unread.
 *   A failure while reading is explained by the call.
 */
export async function readUpstreamText(call: UpstreamCall): Promise<string> {
  const { response, maxAnswerBytes } = call;
  const tooLarge = () =>
    errors.upstream(
      `The answer from ${call.provider} is larger than the gateway's limit of ` +
        `${maxAnswerBytes} bytes (CHOREOAI_MAX_RESPONSE_BYTES)`,
    );
  const declared = response.headers.get("content-length");
  const length = declared === null ? NaN : Number(declared);
  if (length > maxAnswerBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  try {
    // A declared length within the limit bounds the body (HTTP reads no byte past it), so the
    // whole-body read serves it (without asking for `response.body` first, which would make
    // Deno wrap a body it holds whole in a stream); only a body of unknown length is counted
    // piece by piece.
    if (Number.isSafeInteger(length) && length >= 0) return await response.text();
    if (response.body === null) return "";
    const bytes = await readAtMost(response.body.getReader(), {
      maxBytes: maxAnswerBytes,
      tooLarge,
    });
    return new TextDecoder().decode(bytes);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw call.explain(error);
  }
}

/** Parses an upstream body as JSON; `undefined` when it is not JSON. */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
