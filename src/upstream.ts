/**
 * `sendUpstream`: the gateway's only network I/O towards providers.
 *
 * Each call has an idle timer (CHOREOAI_UPSTREAM_TIMEOUT_MS) that runs while waiting for the
 * response headers and is reset by every event afterwards, so a long but lively stream is never
 * cut, while a silent upstream is. Aborting the call (client gone, shutdown, timeout) cancels
 * the upstream request.
 */
import { errors, type GatewayError } from "./errors.ts";

/** What {@linkcode sendUpstream} needs from the outside. */
export interface UpstreamOptions {
  readonly fetch: typeof fetch;
  readonly idleTimeoutMs: number;
  /** Provider name for messages. */
  readonly provider: string;
  /** Aborts the call from outside (server shutdown). */
  readonly signal?: AbortSignal | undefined;
}

/** An upstream call whose response headers have arrived. */
export interface UpstreamCall {
  readonly response: Response;
  /** Resets the idle timer; call it on every stream event or body chunk. */
  touch(): void;
  /** Stops the timer and cancels the request if it is still running. Idempotent. */
  close(): void;
  /** The client-facing error for a failure while reading the body. */
  explain(error: unknown): GatewayError;
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
  request: Request,
  options: UpstreamOptions,
): Promise<UpstreamCall> {
  const controller = new AbortController();
  const { idleTimeoutMs, provider, signal } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new IdleTimeout()), idleTimeoutMs);
  };
  const onOuterAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onOuterAbort, { once: true });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onOuterAbort);
    if (!controller.signal.aborted) controller.abort();
  };
  const explain = (error: unknown): GatewayError => {
    const reason: unknown = controller.signal.reason;
    if (reason instanceof IdleTimeout) {
      return errors.upstreamTimeout(`${provider} sent nothing for ${idleTimeoutMs} ms`);
    }
    if (signal?.aborted === true) return errors.shuttingDown();
    return errors.upstream(`The connection to ${provider} failed`, 502, error);
  };
  if (signal?.aborted === true) {
    close();
    throw errors.shuttingDown();
  }
  arm();
  try {
    const response = await options.fetch(request, { signal: controller.signal });
    arm();
    return { response, touch: arm, close, explain };
  } catch (error) {
    const gatewayError = explain(error);
    close();
    throw gatewayError.code === "upstream_error"
      ? errors.upstream(`Cannot reach ${provider}`, 502, error)
      : gatewayError;
  }
}

/** Reads a whole upstream body as text, resetting the idle timer on each chunk. */
export async function readUpstreamText(call: UpstreamCall): Promise<string> {
  const body = call.response.body;
  if (body === null) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      call.touch();
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  } catch (error) {
    throw call.explain(error);
  } finally {
    reader.releaseLock();
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
