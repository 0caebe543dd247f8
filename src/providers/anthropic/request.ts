/**
 * OpenAI chat completion request → Anthropic `POST {baseUrl}/v1/messages` (FACTS.md T3, T5–T28).
 *
 * Anthropic rejects fields it does not know, so the body is built field by field and nothing the
 * client sent is forwarded unread. Parameter by parameter:
 *
 * | OpenAI | Anthropic |
 * | --- | --- |
 * | `messages` | `system` + `messages` (see `messages.ts`) |
 * | `max_completion_tokens` ?? `max_tokens` | `max_tokens`, {@linkcode DEFAULT_ANTHROPIC_MAX_TOKENS} when both are absent (T11, T12) |
 * | `temperature` | `temperature`; above 1 it is clamped to 1 and `adjusted` names it (T13) |
 * | `top_p` | `top_p` |
 * | `stop` (string or list) | `stop_sequences`, whitespace-only entries dropped (T14) |
 * | `user` (or else `safety_identifier`) | `metadata.user_id` (T16) |
 * | `tools`, `tool_choice`, `parallel_tool_calls` | see `tools.ts` (T17, T18, T20) |
 * | `response_format` `json_object` | a last `system` block, {@linkcode JSON_OBJECT_INSTRUCTION}: Anthropic has no JSON mode flag, and a forced tool would turn the reply into a tool call (T27) |
 * | `response_format` `json_schema` | `output_config: {format: {type: "json_schema", schema}}`, the GA structured-output form; `name` and `strict` are dropped; without a `schema` it is handled as `json_object` (T28) |
 * | `stream` | `stream` |
 *
 * Refused with 400 `invalid_request` naming the parameter, when set to anything but OpenAI's
 * default (the default is always accepted): `n` > 1, `logprobs: true`, `top_logprobs` > 0, a
 * non-empty `logit_bias`, a non-zero `presence_penalty` or `frequency_penalty`, `audio`,
 * `modalities` other than `["text"]`, `web_search_options`, and the deprecated `functions` and
 * `function_call` (use `tools`).
 *
 * Dropped silently, having no effect on what the model answers or no Anthropic equivalent the
 * client could rely on: `seed` (Anthropic has no sampling seed), `stream_options` (Anthropic always
 * reports usage; the stream translation decides on the usage chunk), `store`, `metadata`
 * (OpenAI's stored-completion tags, not Anthropic's `metadata`), `service_tier` (OpenAI's tiers),
 * `prediction`, `reasoning_effort` and `verbosity` (extended thinking needs a token budget and
 * constrains `temperature`; not mapped), `prompt_cache_key`, `image_url.detail`, `tools[].function.strict`,
 * `name` on messages, and any field this file does not know.
 */
import { errors, GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import type { ProviderTarget, UpstreamRequest } from "../mod.ts";
import {
  type AnthropicRequestMessage,
  type AnthropicTextBlock,
  toAnthropicPrompt,
} from "./messages.ts";
import { type AnthropicToolFields, toAnthropicTools } from "./tools.ts";
import { commonParameterChecks, firstUnsupported } from "../_unsupported.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

/**
 * `max_tokens` when the client sets neither `max_tokens` nor `max_completion_tokens`: Anthropic
 * requires one. 4096 is LiteLLM's default and every Claude model's output cap allows it (T12).
 */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** The Messages API version the translations follow (`anthropic-version` header). */
export const ANTHROPIC_API_VERSION = "2023-06-01";

/** Anthropic's highest `temperature`; OpenAI's goes to 2. */
export const ANTHROPIC_MAX_TEMPERATURE = 1;

/** The `system` block that stands for `response_format: {type: "json_object"}`. */
export const JSON_OBJECT_INSTRUCTION =
  "Respond with a single JSON object and nothing else: no prose, no code fences.";

/** The Messages API request body the gateway sends. */
export interface AnthropicRequestBody extends AnthropicToolFields {
  model: string;
  max_tokens: number;
  system?: AnthropicTextBlock[];
  messages: AnthropicRequestMessage[];
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  metadata?: { user_id: string };
  output_config?: { format: { type: "json_schema"; schema: Record<string, unknown> } };
  stream?: true;
}

/**
 * Builds the upstream request: `x-api-key` and `anthropic-version` headers (never
 * `Authorization`), a JSON body of the translated request. Returns a 400 for a request Anthropic
 * cannot serve. Pure: it only builds a `Request`.
 *
 * @example Usage
 * ```ts
 * import { toAnthropicRequest } from "./request.ts";
 * const built = toAnthropicRequest(
 *   { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }] },
 *   { model: "claude-sonnet-4-5", baseUrl: "https://api.anthropic.com", apiKey: "sk-ant-..." },
 * );
 * // built.request: POST https://api.anthropic.com/v1/messages
 * ```
 */
export function toAnthropicRequest(
  body: ChatCompletionRequest,
  target: ProviderTarget,
): UpstreamRequest | GatewayError {
  const built = toAnthropicBody(body, target.model);
  if (built instanceof GatewayError) return built;
  const request = new ProviderRequest(`${target.baseUrl.replace(/\/+$/, "")}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": target.apiKey,
      "anthropic-version": ANTHROPIC_API_VERSION,
      "content-type": "application/json",
      "accept": body.stream === true ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(built.body),
  });
  return { request, adjusted: built.adjusted };
}

/** The request body alone, and the parameters changed to fit Anthropic. */
export function toAnthropicBody(
  body: ChatCompletionRequest,
  model: string,
): { body: AnthropicRequestBody; adjusted: string[] } | GatewayError {
  const refused = unsupportedParameter(body);
  if (refused !== undefined) return refused;
  const prompt = toAnthropicPrompt(body.messages);
  if (prompt instanceof GatewayError) return prompt;
  const tools = toAnthropicTools(body);
  if (tools instanceof GatewayError) return tools;
  const format = responseFormat(body.response_format);
  if (format instanceof GatewayError) return format;

  const adjusted: string[] = [];
  const system = format === "json_object"
    ? [...prompt.system, { type: "text" as const, text: JSON_OBJECT_INSTRUCTION }]
    : prompt.system;
  const out: AnthropicRequestBody = {
    model,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    ...(system.length > 0 ? { system } : {}),
    messages: prompt.messages,
  };
  if (typeof body.temperature === "number") {
    if (body.temperature > ANTHROPIC_MAX_TEMPERATURE) adjusted.push("temperature");
    out.temperature = Math.min(body.temperature, ANTHROPIC_MAX_TEMPERATURE);
  }
  if (typeof body.top_p === "number") out.top_p = body.top_p;
  const stops = stopSequences(body.stop);
  if (stops.length > 0) out.stop_sequences = stops;
  const user = body.user ?? body.safety_identifier;
  if (typeof user === "string" && user !== "") out.metadata = { user_id: user };
  if (tools.tools !== undefined) out.tools = tools.tools;
  if (tools.tool_choice !== undefined) out.tool_choice = tools.tool_choice;
  if (typeof format === "object") {
    out.output_config = { format: { type: "json_schema", schema: format.schema } };
  }
  if (body.stream === true) out.stream = true;
  return { body: out, adjusted };
}

/** `stop` as a list, without the whitespace-only entries Anthropic rejects. */
function stopSequences(stop: ChatCompletionRequest["stop"]): string[] {
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === "string" ? [stop] : stop;
  return list.filter((sequence) => sequence.trim() !== "");
}

function responseFormat(
  format: ChatCompletionRequest["response_format"],
): undefined | "json_object" | { schema: Record<string, unknown> } | GatewayError {
  if (format === undefined || format === null || format.type === "text") return undefined;
  if (format.type === "json_object") return "json_object";
  const jsonSchema = format.json_schema;
  if (typeof jsonSchema !== "object" || jsonSchema === null || Array.isArray(jsonSchema)) {
    return errors.invalidRequest(
      "Invalid value for 'response_format.json_schema': must be an object",
      "response_format.json_schema",
    );
  }
  const schema = "schema" in jsonSchema ? jsonSchema.schema : undefined;
  if (schema === undefined || schema === null) return "json_object";
  if (typeof schema !== "object" || Array.isArray(schema)) {
    return errors.invalidRequest(
      "Invalid value for 'response_format.json_schema.schema': must be a JSON Schema object",
      "response_format.json_schema.schema",
    );
  }
  return { schema: schema as Record<string, unknown> };
}

/** A 400 for the first parameter set to a non-default value Anthropic has no equivalent for. */
function unsupportedParameter(body: ChatCompletionRequest): GatewayError | undefined {
  return firstUnsupported([
    ["n", typeof body.n === "number" && body.n > 1, "only one choice per request (n=1)"],
    [
      "presence_penalty",
      typeof body.presence_penalty === "number" && body.presence_penalty !== 0,
      "only 0 (the default) is accepted",
    ],
    [
      "frequency_penalty",
      typeof body.frequency_penalty === "number" && body.frequency_penalty !== 0,
      "only 0 (the default) is accepted",
    ],
    ...commonParameterChecks(body),
  ], "Anthropic");
}
