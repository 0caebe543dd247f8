/**
 * Span names and attributes of the gateway's traces, after OpenTelemetry's GenAI semantic
 * conventions (`gen_ai.*`), with ChoreoAI's own details under `choreoai.*`. Pure.
 */
import type { ProviderKind } from "../providers/registry.ts";
import type { AccessFields } from "../routes/context.ts";
import type { Attempt, AttemptOutcome } from "../routing/attempts.ts";
import { attemptOutcome } from "./labels.ts";

/** Span attributes (OpenTelemetry's `Attributes`, with no undefined values). */
export type SpanAttributes = Record<string, string | number | boolean | string[]>;

/**
 * `gen_ai.operation.name` of each model endpoint. `count_tokens` is not a GenAI convention
 * operation (there is none for counting): it is named after the endpoint.
 */
const OPERATIONS: ReadonlyMap<string, string> = new Map([
  ["/v1/chat/completions", "chat"],
  ["/v1/messages", "chat"],
  ["/v1/responses", "chat"],
  ["/v1/embeddings", "embeddings"],
  ["/v1/messages/count_tokens", "count_tokens"],
]);

/**
 * The GenAI operation of a request: `chat`, `embeddings` or `count_tokens` for a `POST` to a
 * model endpoint; undefined for everything else (health, metrics, model lists, stored responses).
 *
 * @example Usage
 * ```ts
 * import { operationOf } from "./gen_ai.ts";
 * operationOf("POST", "/v1/messages"); // "chat"
 * operationOf("GET", "/v1/models"); // undefined
 * ```
 */
export function operationOf(method: string, path: string): string | undefined {
  return method === "POST" ? OPERATIONS.get(path) : undefined;
}

const PROVIDER_NAMES: Readonly<Record<ProviderKind, string>> = {
  "openai-compatible": "openai",
  azure: "azure.ai.openai",
  anthropic: "anthropic",
  gemini: "gcp.gemini",
};

/**
 * `gen_ai.provider.name` of a provider kind, as the conventions spell it (a routing file's
 * provider may have any name: its kind says which API it speaks).
 *
 * @example Usage
 * ```ts
 * import { genAiProviderName } from "./gen_ai.ts";
 * genAiProviderName("azure"); // "azure.ai.openai"
 * ```
 */
export function genAiProviderName(kind: ProviderKind): string {
  return PROVIDER_NAMES[kind];
}

/**
 * A GenAI span's name: `{operation} {model}`, or the operation alone while the model is unknown.
 *
 * @example Usage
 * ```ts
 * import { spanName } from "./gen_ai.ts";
 * spanName("chat", "gpt-4o"); // "chat gpt-4o"
 * ```
 */
export function spanName(operation: string, model: string | undefined): string {
  return model === undefined ? operation : `${operation} ${model}`;
}

/** How one traced request ended. */
export interface RequestEnd {
  /** The HTTP status answered. */
  readonly status: number;
  readonly requestId: string;
  /** What the access log says of it (model, provider, usage, finish reasons, error code, …). */
  readonly fields: AccessFields;
  /** The kind of the provider last tried; undefined when none was. */
  readonly providerKind?: ProviderKind | undefined;
}

/** Whether a request failed: an error status, or an error after the answer began (a stream's). */
export function requestFailed(end: Pick<RequestEnd, "status" | "fields">): boolean {
  return end.status >= 400 || end.fields.error_code !== undefined;
}

/**
 * The request span's attributes: the GenAI ones (operation, provider, models, token usage,
 * finish reasons), the HTTP status, `error.type` (the error code, else the status) when it
 * failed, and ChoreoAI's own (request id, provider name, stream, attempts, cancelled).
 */
export function requestAttributes(operation: string, end: RequestEnd): SpanAttributes {
  const { fields } = end;
  const provider = end.providerKind === undefined
    ? fields.provider === "choreoai" ? "choreoai" : undefined
    : genAiProviderName(end.providerKind);
  return defined({
    "gen_ai.operation.name": operation,
    "gen_ai.provider.name": provider,
    "gen_ai.request.model": fields.model,
    "gen_ai.response.model": fields.upstream_model,
    "gen_ai.usage.input_tokens": fields.usage?.prompt_tokens,
    // An embedding has no output tokens (the usage record counts 0).
    "gen_ai.usage.output_tokens": operation === "embeddings"
      ? undefined
      : fields.usage?.completion_tokens,
    "gen_ai.response.finish_reasons": fields.finish_reasons === undefined
      ? undefined
      : [...fields.finish_reasons],
    "http.response.status_code": end.status,
    "error.type": requestFailed(end) ? fields.error_code ?? String(end.status) : undefined,
    "choreoai.request.id": end.requestId,
    "choreoai.provider": fields.provider,
    "choreoai.stream": fields.stream,
    "choreoai.attempts": fields.attempts,
    "choreoai.cancelled": fields.cancelled,
  });
}

/** One upstream attempt about to be made. */
export interface AttemptStart {
  readonly attempt: Attempt;
  /** The first attempt of a request, a `retry` of the same model, or a `fallback` model's. */
  readonly kind: "first" | "retry" | "fallback";
}

/**
 * An attempt span's attributes at its start: the GenAI ones of the call to the provider (the
 * provider's kind, the model it knows), the provider's host, and ChoreoAI's (provider name,
 * target, attempt number and kind).
 */
export function attemptAttributes(
  operation: string | undefined,
  start: AttemptStart,
): SpanAttributes {
  const { target, number } = start.attempt;
  return defined({
    "gen_ai.operation.name": operation,
    "gen_ai.provider.name": genAiProviderName(target.provider.kind),
    "gen_ai.request.model": target.model,
    "server.address": URL.parse(target.provider.baseUrl)?.hostname,
    "choreoai.provider": target.provider.name,
    "choreoai.target": target.key,
    "choreoai.attempt.number": number,
    "choreoai.attempt.kind": start.kind,
  });
}

/** An attempt span's attributes at its end: its outcome, and `error.type` when it failed. */
export function attemptEndAttributes(outcome: AttemptOutcome<unknown>): SpanAttributes {
  return defined({
    "choreoai.attempt.outcome": attemptOutcome(outcome),
    "error.type": outcome.ok ? undefined : outcome.error.code ?? String(outcome.error.status),
  });
}

function defined(
  attributes: Record<string, string | number | boolean | string[] | undefined>,
): SpanAttributes {
  const result: SpanAttributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) result[key] = value;
  }
  return result;
}
