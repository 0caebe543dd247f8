/**
 * Mapping of an OpenAI (or OpenAI-compatible) error response to the gateway error a client sees
 * (DESIGN.md's error table, FACTS.md T38).
 */
import { errors, GatewayError } from "../../errors.ts";
import { OpenAIErrorBodySchema } from "./wire.ts";

/** Statuses whose upstream error concerns the client's own request and is passed on as is. */
const CLIENT_STATUSES = new Set([400, 404, 409, 413, 422, 429]);

/** Maps an OpenAI-format error response to a gateway error. Pure. */
export function fromOpenAIError(
  status: number,
  body: unknown,
  headers: Headers,
  provider = "openai",
): GatewayError {
  if (status === 401 || status === 403) {
    // The gateway's own provider key is bad. The provider's text may echo the key: drop it.
    return errors.upstream(
      `The ${provider} provider rejected the gateway's credentials (HTTP ${status}); ` +
        "the gateway operator must check its provider key",
    );
  }
  const parsed = OpenAIErrorBodySchema.safeParse(body);
  const upstream = parsed.success ? parsed.data.error : undefined;
  const message = upstream?.message ?? `The ${provider} provider answered HTTP ${status}`;
  if (CLIENT_STATUSES.has(status)) {
    const retryAfter = headers.get("retry-after");
    const code = upstream?.code;
    return new GatewayError(message, {
      status,
      type: upstream?.type ?? (status === 429 ? "rate_limit_error" : "invalid_request_error"),
      code: code === undefined || code === null ? null : String(code),
      param: upstream?.param ?? null,
      ...(retryAfter === null ? {} : { headers: { "retry-after": retryAfter } }),
    });
  }
  if (status === 503) return errors.upstreamOverloaded(`${provider}: ${message}`);
  if (status === 504) return errors.upstreamTimeout(`${provider}: ${message}`);
  if (status >= 400 && status < 500) {
    return new GatewayError(message, {
      status,
      type: upstream?.type ?? "invalid_request_error",
      code: upstream?.code === undefined || upstream.code === null ? null : String(upstream.code),
      param: upstream?.param ?? null,
    });
  }
  return errors.upstream(`${provider}: ${message}`);
}

/** Maps an error object found inside a stream (`data: {"error": ...}`). */
export function fromOpenAIStreamError(body: unknown, provider = "openai"): GatewayError {
  const parsed = OpenAIErrorBodySchema.safeParse(body);
  const upstream = parsed.success ? parsed.data.error : undefined;
  return new GatewayError(
    `${provider}: ${upstream?.message ?? "the provider reported an error mid-stream"}`,
    {
      status: 502,
      type: upstream?.type ?? "api_error",
      code: upstream?.code === undefined || upstream.code === null
        ? "upstream_error"
        : String(upstream.code),
      param: upstream?.param ?? null,
    },
  );
}
