/**
 * Mapping of an Azure OpenAI error response to the gateway error a client sees: OpenAI's mapping
 * (FACTS.md T38) plus Azure's codes (FACTS.md §2).
 */
import { errors, GatewayError } from "../../errors.ts";
import { fromOpenAIError } from "../openai/error.ts";
import { OpenAIErrorBodySchema } from "../openai/wire.ts";

/** Options of {@linkcode fromAzureError}. */
export interface AzureErrorOptions {
  /** The provider's name in messages (a routing file may name an Azure provider `azure-eu`). */
  readonly provider?: string | undefined;
  /** The deployment the request went to, named in a `DeploymentNotFound` message. */
  readonly deployment?: string | undefined;
}

/** "Please retry after 12 seconds" in Azure's 429 messages. */
const RETRY_AFTER_REGEXP = /retry after (\d+) seconds?/i;

interface AzureError {
  readonly message: string | undefined;
  readonly code: string | undefined;
  readonly param: string | null;
}

function parseAzureError(body: unknown): AzureError | undefined {
  const parsed = OpenAIErrorBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { message, code, param } = parsed.data.error;
  return {
    message: message === null || message === undefined || message === "" ? undefined : message,
    code: code === null || code === undefined ? undefined : String(code),
    param: param ?? null,
  };
}

/** Seconds to wait: the `retry-after` header, else `retry-after-ms`, else the message's count. */
function retryAfterOf(headers: Headers, message: string | undefined): string | undefined {
  const header = headers.get("retry-after");
  if (header !== null) return header;
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return String(Math.max(1, Math.ceil(ms / 1000)));
  return message?.match(RETRY_AFTER_REGEXP)?.[1];
}

/**
 * Maps an Azure OpenAI error response to a gateway error. Pure.
 *
 * - 404 `DeploymentNotFound` → 404 `model_not_found`, naming the deployment;
 * - a 404 without an Azure error code (`Resource not found`: a wrong endpoint path or a missing
 *   `api-version`) and 400 `API version not supported` → 502 `upstream_error`: the operator's configuration is
 *   wrong, not the client's request;
 * - 400 `content_filter` → 400 `invalid_request_error` `content_filter`, Azure's message and
 *   `param` kept;
 * - 429 → `rate_limit_error` (code `rate_limit_exceeded` for Azure's code `"429"`), with
 *   `retry-after` from the headers or from Azure's "retry after N seconds";
 * - everything else as {@linkcode fromOpenAIError}: 401/403 → 502 without Azure's text, 500 →
 *   502, 503 → 503, 504 → 504, other 4xx kept.
 *
 * @example Usage
 * ```ts
 * import { fromAzureError } from "./error.ts";
 * const error = fromAzureError(
 *   404,
 *   { error: { code: "DeploymentNotFound", message: "The API deployment for this resource does not exist." } },
 *   new Headers(),
 *   { deployment: "gpt4o-prod" },
 * );
 * // error.status === 404, error.code === "model_not_found"
 * ```
 */
export function fromAzureError(
  status: number,
  body: unknown,
  headers: Headers,
  options: AzureErrorOptions = {},
): GatewayError {
  const provider = options.provider ?? "azure";
  const upstream = parseAzureError(body);
  if (status === 404 && isNotFoundCode(upstream?.code)) {
    return fromNotFound(upstream, provider, options.deployment);
  }
  if (status === 400 && upstream?.message === "API version not supported") {
    return errors.upstream(
      `${provider}: Azure does not support the api-version the gateway is configured with ` +
        "(the gateway operator must check it)",
    );
  }
  if (status === 400 && upstream?.code === "content_filter") {
    return new GatewayError(
      upstream.message ?? "The prompt was filtered by Azure OpenAI's content management policy",
      {
        status: 400,
        type: "invalid_request_error",
        code: "content_filter",
        param: upstream.param,
      },
    );
  }
  if (status === 429) {
    const retryAfter = retryAfterOf(headers, upstream?.message);
    return new GatewayError(upstream?.message ?? `The ${provider} provider answered HTTP 429`, {
      status: 429,
      type: "rate_limit_error",
      code: upstream?.code === undefined || upstream.code === "429"
        ? "rate_limit_exceeded"
        : upstream.code,
      ...(retryAfter === undefined ? {} : { headers: { "retry-after": retryAfter } }),
    });
  }
  return fromOpenAIError(status, body, headers, provider);
}

/** The codes of Azure's 404s that {@linkcode fromNotFound} explains; undefined: no JSON error. */
function isNotFoundCode(code: string | undefined): boolean {
  return code === undefined || code === "DeploymentNotFound" || code === "404" ||
    code === "NotFound";
}

function fromNotFound(
  upstream: AzureError | undefined,
  provider: string,
  deployment: string | undefined,
): GatewayError {
  const detail = upstream?.message === undefined ? "" : `: ${upstream.message}`;
  if (upstream?.code === "DeploymentNotFound") {
    const named = deployment === undefined ? "" : ` "${deployment}"`;
    return errors.modelNotFound(`The Azure deployment${named} does not exist${detail}`);
  }
  return errors.upstream(
    `${provider} answered 404${detail || ": Resource not found"}; the Azure endpoint or ` +
      "api-version configured for the gateway is wrong (the gateway operator must check them)",
  );
}
