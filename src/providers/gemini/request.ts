/**
 * OpenAI chat completion request → Gemini `POST {baseUrl}/v1beta/models/{model}:generateContent`,
 * or `:streamGenerateContent?alt=sse` for `stream: true` (FACTS.md §4.1, T4–T28).
 *
 * The key goes in the `x-goog-api-key` header, never in the URL. Gemini rejects field names it
 * does not know, so the body is built field by field: no `model`, `messages` or other OpenAI
 * field reaches it (T4). Parameter by parameter:
 *
 * | OpenAI | Gemini |
 * | --- | --- |
 * | `system` and `developer` messages | `systemInstruction.parts`, all of them, in order, wherever they are (T5) |
 * | `user` / `assistant` / `tool` messages | `contents` with roles `user` / `model` / `user`; consecutive turns of one role merged; a merged user turn starts with its `functionResponse` parts (T6, T7, T23) |
 * | assistant `tool_calls` | `functionCall{name, args}` parts after the text, `args` parsed (`""` is `{}`), the `thoughtSignature` decoded from the id put back on the part (T21, T24) |
 * | `tool` messages | `functionResponse{name, response: {output}}`, `name` from the assistant tool call with that `tool_call_id`, `output` the content parsed as JSON, or the text when it is not JSON (T22) |
 * | `image_url` `data:` URL | `inlineData{mimeType, data}` (T25) |
 * | `image_url` http(s) URL | `fileData{fileUri, mimeType}`: Gemini fetches public and signed URLs itself; `mimeType` from the path's extension, left out when it names no image type (T26). With `CHOREOAI_FETCH_IMAGE_URLS=true` the route fetches and inlines such URLs before translating |
 * | `input_audio` | `inlineData` with `audio/wav` or `audio/mp3` |
 * | `max_completion_tokens` ?? `max_tokens` | `generationConfig.maxOutputTokens` (T11) |
 * | `temperature`, `top_p`, `seed` | `temperature`, `topP`, `seed` (T13) |
 * | `top_k` (an extension field, as vLLM takes it; the Messages dialect's `top_k`) | `topK` |
 * | `presence_penalty`, `frequency_penalty` | `presencePenalty`, `frequencyPenalty`, sent only when not 0 (the default; some models refuse the fields) |
 * | `stop` (string or list) | `stopSequences` (a list; empty strings dropped) (T14) |
 * | `n` > 1 | `candidateCount` (T15) |
 * | `response_format` `json_object` | `responseMimeType: "application/json"` (T27) |
 * | `response_format` `json_schema` | `responseMimeType` + `responseSchema`, the schema cleaned by `toGeminiSchema` (T28). Chosen over `responseJsonSchema`, which older models lack, so that one schema subset serves tools and responses; without a schema it is handled as `json_object` |
 * | `tools` | one `tools[0].functionDeclarations` list, parameters cleaned by `toGeminiParameters`, none for a parameterless tool (T19) |
 * | `tool_choice` | `toolConfig.functionCallingConfig.mode`: `auto` AUTO, `none` NONE, `required` ANY, a named function ANY + `allowedFunctionNames` (T20) |
 * | `reasoning_effort` | `thinkingConfig` by the upstream model's family (table below), with `includeThoughts: true` for every effort but `none`, so that the thought summaries come back as `reasoning_content` |
 *
 * `reasoning_effort` → `generationConfig.thinkingConfig` (`thinking.ts`; Google's "Gemini thinking"
 * guide). Gemini 3 and later models (`gemini-3…`, `gemini-flash-latest`, …) take a level and
 * cannot turn thinking off, and Pro models take no `minimal`; Gemini 2.5 models take a budget in
 * tokens, and 2.5 Pro cannot turn thinking off (its budget is 128 to 32,768). Budgets match the
 * Messages dialect's effort bands (below 8,000 low, below 24,000 medium), so a `thinking`
 * budget keeps its band. ✱ marks a value named in `adjusted`:
 *
 * | `reasoning_effort` | Gemini 3+ `thinkingLevel` | Gemini 3+ Pro | 2.5 Flash, Flash-Lite `thinkingBudget` | 2.5 Pro `thinkingBudget` |
 * | --- | --- | --- | --- | --- |
 * | `none` | `minimal` ✱ | `low` ✱ | 0 (off) | 128 ✱ |
 * | `minimal` | `minimal` | `low` ✱ | 512 | 512 |
 * | `low` | `low` | `low` | 4,096 | 4,096 |
 * | `medium` | `medium` | `medium` | 16,384 | 16,384 |
 * | `high` | `high` | `high` | 24,576 | 32,768 |
 * | `xhigh`, `max` | `high` ✱ | `high` ✱ | 24,576 ✱ | 32,768 ✱ |
 *
 * Models that do not think (`gemini-1…`, `gemini-2.0…`, names not starting with `gemini-`) get
 * no `thinkingConfig`, and `reasoning_effort` is named in `adjusted`. A level a newer model does
 * not take is answered by Gemini with a 400, passed on. A value OpenAI does not define is a 400
 * naming `reasoning_effort`. Without `reasoning_effort`, no `thinkingConfig` is sent: the
 * model thinks as it does by default and no thoughts come back.
 *
 * Refused with 400 `invalid_request` naming the parameter, when set to anything but OpenAI's
 * default: `logprobs: true` and `top_logprobs` > 0 (Gemini's `responseLogprobs` exist, but the
 * translations do not carry log probabilities back, so they are refused rather than silently
 * lost), a non-empty `logit_bias`, `audio`, `modalities` other than `["text"]`,
 * `web_search_options`, and the deprecated `functions` and `function_call` (use `tools`). Also
 * refused: the `function` role, content parts other than text, image_url and input_audio, tool
 * types other than `function`, a `tool_choice` naming a function not in `tools`.
 *
 * Adjusted (named in `adjusted`): `parallel_tool_calls: false`, which Gemini cannot express (the
 * model may still call several functions), and `reasoning_effort` where the table above marks it.
 *
 * Dropped silently: `stream_options` (Gemini always reports usage), `user`, `store`, `metadata`,
 * `service_tier`, `prediction`, `verbosity`, `prompt_cache_key`, `image_url.detail`,
 * `tools[].function.strict`, `name` on messages (T10), and any field this file does not know. With
 * no tools, `tool_choice` is dropped.
 */
import { errors, GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import type { ProviderTarget, UpstreamRequest } from "../mod.ts";
import { type GeminiRequestContent, type GeminiRequestPart, toGeminiContents } from "./contents.ts";
import { type GeminiSchema, toGeminiSchema } from "./schema.ts";
import { type GeminiThinkingConfig, toGeminiThinking } from "./thinking.ts";
import { type GeminiToolFields, toGeminiTools } from "./tools.ts";
import { commonParameterChecks, firstUnsupported } from "../_unsupported.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

export type { GeminiRequestContent, GeminiRequestPart } from "./contents.ts";
export type { GeminiFunctionDeclaration, GeminiToolFields } from "./tools.ts";

/** `generationConfig` as the gateway fills it. */
export interface GeminiGenerationConfig {
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: "application/json";
  responseSchema?: GeminiSchema;
  thinkingConfig?: GeminiThinkingConfig;
}

/** The `GenerateContentRequest` body the gateway sends. */
export interface GeminiRequestBody extends GeminiToolFields {
  contents: GeminiRequestContent[];
  systemInstruction?: { parts: { text: string }[] };
  generationConfig?: GeminiGenerationConfig;
}

/**
 * Builds the upstream request, or returns a 400 for a request Gemini cannot serve. Pure: it only
 * builds a `Request`.
 *
 * @example Usage
 * ```ts
 * import { toGeminiRequest } from "./request.ts";
 * const built = toGeminiRequest(
 *   { model: "gemini-2.5-flash", messages: [{ role: "user", content: "Hi" }] },
 *   { model: "gemini-2.5-flash", baseUrl: "https://generativelanguage.googleapis.com", apiKey: "AIza..." },
 * );
 * // POST https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent
 * ```
 */
export function toGeminiRequest(
  body: ChatCompletionRequest,
  target: ProviderTarget,
): UpstreamRequest | GatewayError {
  const built = toGeminiBody(body, target.model);
  if (built instanceof GatewayError) return built;
  if (/^(models\/)?gemini-3/.test(target.model)) markUnsignedCalls(built.body.contents);
  const stream = body.stream === true;
  const model = encodeURIComponent(target.model.replace(/^models\//, ""));
  const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const url = `${target.baseUrl.replace(/\/+$/, "")}/v1beta/models/${model}:${method}`;
  const request = new ProviderRequest(url, {
    method: "POST",
    headers: {
      "x-goog-api-key": target.apiKey,
      "content-type": "application/json",
      "accept": stream ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(built.body),
  });
  return { request, adjusted: built.adjusted };
}

/**
 * The placeholder Google documents for function calls that carry no thought signature (calls
 * made by another model or provider earlier in the conversation). Gemini 3 refuses a model turn
 * whose first function call has no signature; with this it accepts the turn.
 */
export const UNSIGNED_CALL_SIGNATURE = "skip_thought_signature_validator";

/** Gives the first function call of each model turn the placeholder when it has no signature. */
function markUnsignedCalls(
  contents: readonly { role?: string; parts: GeminiRequestPart[] }[],
): void {
  for (const content of contents) {
    if (content.role !== "model") continue;
    const first = content.parts.find((part) => part.functionCall !== undefined);
    if (first !== undefined && first.thoughtSignature === undefined) {
      first.thoughtSignature = UNSIGNED_CALL_SIGNATURE;
    }
  }
}

/** The request body alone for the upstream `model`, and the parameters changed to fit Gemini. */
export function toGeminiBody(
  body: ChatCompletionRequest,
  model: string,
): { body: GeminiRequestBody; adjusted: string[] } | GatewayError {
  const refused = unsupportedParameter(body);
  if (refused !== undefined) return refused;
  let prompt: { system: { text: string }[]; contents: GeminiRequestContent[] };
  try {
    prompt = toGeminiContents(body.messages);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  const adjusted: string[] = [];
  const out: GeminiRequestBody = { contents: prompt.contents };
  if (prompt.system.length > 0) out.systemInstruction = { parts: prompt.system };

  const tools = toGeminiTools(body);
  if (tools instanceof GatewayError) return tools;
  if (tools.tools !== undefined) {
    out.tools = tools.tools;
    if (tools.toolConfig !== undefined) out.toolConfig = tools.toolConfig;
    if (body.parallel_tool_calls === false) adjusted.push("parallel_tool_calls");
  }

  const config = generationConfig(body);
  if (config instanceof GatewayError) return config;
  if (body.reasoning_effort !== undefined && body.reasoning_effort !== null) {
    const thinking = toGeminiThinking(body.reasoning_effort, model);
    if (thinking instanceof GatewayError) return thinking;
    if (thinking.config !== undefined) config.thinkingConfig = thinking.config;
    if (thinking.adjusted) adjusted.push("reasoning_effort");
  }
  if (Object.keys(config).length > 0) out.generationConfig = config;
  return { body: out, adjusted };
}

// ---------------------------------------------------------------------------------------------
// Generation parameters

function generationConfig(body: ChatCompletionRequest): GeminiGenerationConfig | GatewayError {
  const config: GeminiGenerationConfig = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === "number") config.maxOutputTokens = maxTokens;
  if (typeof body.temperature === "number") config.temperature = body.temperature;
  if (typeof body.top_p === "number") config.topP = body.top_p;
  if (typeof body.top_k === "number") config.topK = body.top_k;
  const stops = body.stop === undefined || body.stop === null
    ? []
    : (typeof body.stop === "string" ? [body.stop] : body.stop).filter((stop) => stop !== "");
  if (stops.length > 0) config.stopSequences = stops;
  if (typeof body.n === "number" && body.n > 1) config.candidateCount = body.n;
  if (typeof body.seed === "number") config.seed = body.seed;
  if (typeof body.presence_penalty === "number" && body.presence_penalty !== 0) {
    config.presencePenalty = body.presence_penalty;
  }
  if (typeof body.frequency_penalty === "number" && body.frequency_penalty !== 0) {
    config.frequencyPenalty = body.frequency_penalty;
  }
  const format = body.response_format;
  if (format === undefined || format === null || format.type === "text") return config;
  config.responseMimeType = "application/json";
  if (format.type === "json_object") return config;
  const jsonSchema = format.json_schema;
  if (typeof jsonSchema !== "object" || jsonSchema === null || Array.isArray(jsonSchema)) {
    return errors.invalidRequest(
      "Invalid value for 'response_format.json_schema': must be an object",
      "response_format.json_schema",
    );
  }
  const schema = "schema" in jsonSchema ? jsonSchema.schema : undefined;
  if (schema === undefined || schema === null) return config;
  if (typeof schema !== "object" || Array.isArray(schema)) {
    return errors.invalidRequest(
      "Invalid value for 'response_format.json_schema.schema': must be a JSON Schema object",
      "response_format.json_schema.schema",
    );
  }
  const name = "name" in jsonSchema && typeof jsonSchema.name === "string"
    ? jsonSchema.name
    : "response";
  const cleaned = toGeminiSchema(schema, {
    param: "response_format.json_schema.schema",
    subject: `response format "${name.slice(0, 100)}"`,
  });
  if (cleaned instanceof GatewayError) return cleaned;
  if (Object.keys(cleaned).length > 0) config.responseSchema = cleaned;
  return config;
}

/** A 400 for the first parameter set to a non-default value the translation cannot carry. */
function unsupportedParameter(body: ChatCompletionRequest): GatewayError | undefined {
  return firstUnsupported(commonParameterChecks(body), "Gemini");
}
