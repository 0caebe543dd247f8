/** When to try a failed request again, and after how long. */
import { APIConnectionError, type APIError } from "./errors.ts";

/** Statuses worth another try: rate limited, or a server (or its provider) failing. */
const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** A `Retry-After` longer than this (seconds) is not waited for: the error is thrown at once. */
export const MAX_RETRY_AFTER_SECONDS = 60;

const INITIAL_BACKOFF_SECONDS = 0.5;
const MAX_BACKOFF_SECONDS = 8;

/**
 * The server's word on retrying an answer, read from `x-should-retry` as OpenAI's SDKs read it:
 * exactly `true` or `false`; undefined (no word) for anything else.
 */
export function parseShouldRetry(headers: Headers): boolean | undefined {
  const value = headers.get("x-should-retry");
  return value === "true" ? true : value === "false" ? false : undefined;
}

/**
 * Milliseconds to wait before trying again after `error`, or `undefined` to throw it now.
 * `retries.taken` counts the retries already made, up to `retries.max`; `random` is in [0, 1).
 * An answer's `x-should-retry` (see {@linkcode parseShouldRetry}) wins over its status.
 */
export function retryDelay(
  error: APIError,
  retries: { readonly taken: number; readonly max: number },
  random: () => number = Math.random,
): number | undefined {
  if (retries.taken >= retries.max) return undefined;
  const retryable = error instanceof APIConnectionError ||
    (error.status !== undefined &&
      (parseShouldRetry(error.headers) ?? RETRY_STATUSES.has(error.status)));
  if (!retryable) return undefined;
  const retryAfter = error.retryAfter;
  if (retryAfter !== undefined) {
    return retryAfter <= MAX_RETRY_AFTER_SECONDS ? retryAfter * 1000 : undefined;
  }
  const backoff = Math.min(INITIAL_BACKOFF_SECONDS * 2 ** retries.taken, MAX_BACKOFF_SECONDS);
  return backoff * (1 - 0.25 * random()) * 1000;
}
