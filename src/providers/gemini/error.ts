/**
 * Gemini error responses → the gateway error a client sees (FACTS.md §4.4, T36–T38, DESIGN.md's
 * error table).
 *
 * | Gemini | Client |
 * | --- | --- |
 * | 400 with `API_KEY_INVALID` in `details` (or "API key not valid"/"API key expired" in the message), 401, 403 `PERMISSION_DENIED` | 502 `upstream_error`, without Gemini's text (the gateway's key is bad; the text may quote it) |
 * | 400 `INVALID_ARGUMENT` / `FAILED_PRECONDITION`, 404 `NOT_FOUND`, 409, 413 and other 4xx | same status, Gemini's message, `invalid_request_error`; `code` is Gemini's `status` (`model_not_found` for a 404 about a model) |
 * | 429 `RESOURCE_EXHAUSTED` | 429 `rate_limit_error`, message kept; `retry-after` kept, or derived from `google.rpc.RetryInfo.retryDelay` |
 * | 499 `CANCELLED`, 500 `INTERNAL` and other 5xx | 502 `upstream_error`, message kept |
 * | 503 `UNAVAILABLE` | 503 `upstream_overloaded`, message kept, `retry-after` kept |
 * | 504 `DEADLINE_EXCEEDED` | 504 `upstream_timeout`, message kept |
 *
 * A body that is not Google's error shape keeps the status mapping with a generic message.
 * `streamGenerateContent` without `alt=sse` wraps bodies in an array; a one-element array is
 * unwrapped.
 */
import { errors, GatewayError } from "../../errors.ts";
import { type GeminiErrorBody, GeminiErrorBodySchema } from "./wire.ts";

const PROVIDER = "gemini";

const KEY_MESSAGE_REGEXP = /API key (not valid|expired|invalid)/i;
const RETRY_DELAY_REGEXP = /^(\d+(?:\.\d+)?)s$/;

/**
 * Maps a Gemini error response; `headers` supplies `retry-after`. Pure.
 *
 * @example Usage
 * ```ts
 * import { fromGeminiError } from "./error.ts";
 * const error = fromGeminiError(
 *   429,
 *   { error: { code: 429, message: "You exceeded your current quota", status: "RESOURCE_EXHAUSTED" } },
 *   new Headers({ "retry-after": "12" }),
 * );
 * // error.status === 429, error.type === "rate_limit_error", error.headers["retry-after"] === "12"
 * ```
 */
export function fromGeminiError(
  status: number,
  body: unknown,
  headers: Headers,
  provider: string = PROVIDER,
): GatewayError {
  const upstream = parseError(body);
  if (status === 401 || status === 403 || (status === 400 && isKeyError(upstream))) {
    // The gateway's own provider key is bad. The provider's text may echo the key: drop it.
    return errors.upstream(
      `The ${provider} provider rejected the gateway's credentials (HTTP ${status}); ` +
        "the gateway operator must check its provider key",
    );
  }
  const message = nonEmpty(upstream?.message) ?? `The ${provider} provider answered HTTP ${status}`;
  const retryAfter = headers.get("retry-after") ?? retryDelay(upstream);
  const retryHeaders = retryAfter === undefined || retryAfter === null
    ? {}
    : { headers: { "retry-after": retryAfter } };
  if (status === 429) {
    return new GatewayError(message, {
      status,
      type: "rate_limit_error",
      code: nonEmpty(upstream?.status) ?? "RESOURCE_EXHAUSTED",
      ...retryHeaders,
    });
  }
  if (status >= 400 && status < 500 && status !== 499) {
    const notFoundModel = status === 404 && /\bmodels\//.test(message);
    return new GatewayError(message, {
      status,
      type: "invalid_request_error",
      code: notFoundModel ? "model_not_found" : nonEmpty(upstream?.status) ?? null,
      ...(notFoundModel ? { param: "model" } : {}),
      ...retryHeaders,
    });
  }
  if (status === 503) {
    return new GatewayError(`${provider}: ${message}`, {
      status: 503,
      type: "api_error",
      code: "upstream_overloaded",
      ...retryHeaders,
    });
  }
  if (status === 504) return errors.upstreamTimeout(`${provider}: ${message}`);
  return errors.upstream(`${provider}: ${message}`);
}

/**
 * Maps an `{"error": {...}}` chunk that arrived inside a 200 stream (FACTS.md §4.3, T36), by the
 * error's `code` as {@linkcode fromGeminiError} maps statuses (`UNAVAILABLE` → 503
 * `upstream_overloaded`, `DEADLINE_EXCEEDED` → 504, `RESOURCE_EXHAUSTED` → 429, …); a chunk
 * without a usable code is a 502 `upstream_error` keeping Gemini's message.
 *
 * @example Usage
 * ```ts
 * import { fromGeminiStreamError } from "./error.ts";
 * fromGeminiStreamError({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } });
 * // 503, code "upstream_overloaded", message "gemini: The model is overloaded."
 * ```
 */
export function fromGeminiStreamError(body: unknown, provider: string = PROVIDER): GatewayError {
  const upstream = parseError(body);
  if (upstream === undefined) {
    return errors.upstream(`${provider}: the provider reported an error mid-stream`);
  }
  const code = upstream.code ?? statusCode(upstream.status);
  if (typeof code === "number" && code >= 400 && code < 600) {
    return fromGeminiError(code, body, new Headers());
  }
  return errors.upstream(
    `${provider}: ${nonEmpty(upstream.message) ?? "the provider reported an error mid-stream"}`,
  );
}

function parseError(body: unknown): GeminiErrorBody["error"] | undefined {
  const unwrapped = Array.isArray(body) && body.length === 1 ? body[0] : body;
  const parsed = GeminiErrorBodySchema.safeParse(unwrapped);
  return parsed.success ? parsed.data.error : undefined;
}

function isKeyError(error: GeminiErrorBody["error"] | undefined): boolean {
  if (error === undefined) return false;
  if (error.details?.some((detail) => detail.reason === "API_KEY_INVALID") === true) return true;
  return typeof error.message === "string" && KEY_MESSAGE_REGEXP.test(error.message);
}

/** `google.rpc.RetryInfo.retryDelay` ("37s", "1.5s") → whole seconds, rounded up. */
function retryDelay(error: GeminiErrorBody["error"] | undefined): string | undefined {
  for (const detail of error?.details ?? []) {
    const match = typeof detail.retryDelay === "string"
      ? RETRY_DELAY_REGEXP.exec(detail.retryDelay)
      : null;
    if (match !== null) return String(Math.ceil(Number(match[1])));
  }
  return undefined;
}

const STATUS_CODES: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

function statusCode(status: string | null | undefined): number | undefined {
  return typeof status === "string" && Object.hasOwn(STATUS_CODES, status)
    ? STATUS_CODES[status]
    : undefined;
}

function nonEmpty(text: string | null | undefined): string | undefined {
  return typeof text === "string" && text !== "" ? text : undefined;
}
