/**
 * Anthropic error responses → the gateway error a client sees (FACTS.md T36–T38, DESIGN.md's
 * error table).
 *
 * | Anthropic | Client |
 * | --- | --- |
 * | 401 `authentication_error`, 403 `permission_error` | 502 `upstream_error`, without Anthropic's text (the gateway's key is bad) |
 * | 402 `billing_error` | 502 `upstream_error` with Anthropic's message (the gateway's account) |
 * | 400, 404, 409, 413, 429 and other 4xx | same status, Anthropic's message, OpenAI `type` (`invalid_request_error`, or `rate_limit_error` for 429); `code` is Anthropic's error type (`model_not_found`, param `model`, for a 404 about the model: `model: claude-x`); `retry-after` kept |
 * | 500 `api_error` and other 5xx | 502 `upstream_error`, message kept |
 * | 503, 529 `overloaded_error` | 503 `upstream_overloaded`, message kept, `retry-after` kept |
 * | 504 `timeout_error` | 504 `upstream_timeout`, message kept |
 */
import { errors, GatewayError } from "../../errors.ts";
import { AnthropicErrorBodySchema } from "./wire.ts";

const PROVIDER = "anthropic";

/** How Anthropic words a 404 for an unknown model: `model: claude-x`. */
const MODEL_NOT_FOUND_REGEXP = /^model:\s/i;

/** Anthropic `error.type` → OpenAI `error.type` for errors passed on with their status. */
const OPENAI_TYPES: Readonly<Record<string, string>> = {
  invalid_request_error: "invalid_request_error",
  not_found_error: "invalid_request_error",
  request_too_large: "invalid_request_error",
  conflict_error: "invalid_request_error",
  rate_limit_error: "rate_limit_error",
};

/**
 * Maps an Anthropic error response; `headers` supplies `retry-after`. Pure.
 *
 * @example Usage
 * ```ts
 * import { fromAnthropicError } from "./error.ts";
 * const error = fromAnthropicError(
 *   429,
 *   { type: "error", error: { type: "rate_limit_error", message: "Rate limited" } },
 *   new Headers({ "retry-after": "12" }),
 * );
 * // error.status === 429, error.type === "rate_limit_error", error.headers["retry-after"] === "12"
 * ```
 */
export function fromAnthropicError(
  status: number,
  body: unknown,
  headers: Headers,
  provider: string = PROVIDER,
): GatewayError {
  if (status === 401 || status === 403) {
    // The gateway's own provider key is bad. The provider's text may echo the key: drop it.
    return errors.upstream(
      `The ${provider} provider rejected the gateway's credentials (HTTP ${status}); ` +
        "the gateway operator must check its provider key",
    );
  }
  const parsed = AnthropicErrorBodySchema.safeParse(body);
  const upstream = parsed.success ? parsed.data.error : undefined;
  const message = upstream?.message ?? `The ${provider} provider answered HTTP ${status}`;
  const retryAfter = headers.get("retry-after");
  const retryHeaders = retryAfter === null ? {} : { headers: { "retry-after": retryAfter } };
  if (status === 402) return errors.upstream(`${provider}: ${message}`);
  if (status >= 400 && status < 500) {
    const mapped = upstream === undefined ? undefined : OPENAI_TYPES[upstream.type];
    const notFoundModel = status === 404 && MODEL_NOT_FOUND_REGEXP.test(message);
    return new GatewayError(message, {
      status,
      type: mapped ?? (status === 429 ? "rate_limit_error" : "invalid_request_error"),
      code: notFoundModel ? "model_not_found" : upstream?.type ?? null,
      ...(notFoundModel ? { param: "model" } : {}),
      ...retryHeaders,
    });
  }
  if (status === 503 || status === 529) {
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
 * Maps the data of a stream's `error` event (sent after a 200, FACTS.md §3.3): `overloaded_error`
 * → 503 `upstream_overloaded`, `timeout_error` → 504 `upstream_timeout`, anything else (or a
 * body that is not an error) → 502 `upstream_error`; Anthropic's message is kept.
 *
 * @example Usage
 * ```ts
 * import { fromAnthropicStreamError } from "./error.ts";
 * fromAnthropicStreamError({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
 * // 503, code "upstream_overloaded", message "anthropic: Overloaded"
 * ```
 */
export function fromAnthropicStreamError(body: unknown, provider: string = PROVIDER): GatewayError {
  const parsed = AnthropicErrorBodySchema.safeParse(body);
  if (!parsed.success) {
    return errors.upstream(`${provider}: the provider reported an error mid-stream`);
  }
  const { type, message } = parsed.data.error;
  if (type === "overloaded_error") return errors.upstreamOverloaded(`${provider}: ${message}`);
  if (type === "timeout_error") return errors.upstreamTimeout(`${provider}: ${message}`);
  return errors.upstream(`${provider}: ${message}`);
}
