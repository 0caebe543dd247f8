/**
 * The TypeScript client of the ChoreoAI gateway, for Deno, Node and browsers: chat completions
 * (streamed as an async iterator, or not), models and embeddings, typed errors, and retries that
 * honour `Retry-After`. The same surface as the Python client in `clients/python`.
 *
 * It imports nothing but `eventsource-parser`, and reads `CHOREOAI_API_KEY` /
 * `CHOREOAI_BASE_URL` only where the runtime has an environment (never prompting for a
 * permission). In a browser, pass `apiKey` yourself, and let the gateway allow your page's origin
 * with `CHOREOAI_CORS_ORIGINS`.
 *
 * @example Complete and stream
 * ```ts
 * import { ChoreoAI } from "./mod.ts";
 *
 * const client = new ChoreoAI({ apiKey: "your-api-key" }); // or CHOREOAI_API_KEY
 * const completion = await client.chat.completions.create({
 *   model: "choreoai/echo",
 *   messages: [{ role: "user", content: "Hello!" }],
 * });
 * console.log(completion.choices[0]?.message.content);
 *
 * const stream = await client.chat.completions.create({
 *   model: "choreoai/echo",
 *   messages: [{ role: "user", content: "Stream this back" }],
 *   stream: true,
 * });
 * for await (const chunk of stream) console.log(chunk.choices[0]?.delta.content ?? "");
 * ```
 *
 * @module
 */
export { ChoreoAI, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT } from "./client.ts";
export {
  APIConnectionError,
  APIError,
  type APIErrorOptions,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ChoreoAIError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "./errors.ts";
export { Stream } from "./stream.ts";
export type { Chat, Completions } from "./chat.ts";
export type { ModelListPromise, Models } from "./models.ts";
export type { Embeddings } from "./embeddings.ts";
export type { ClientOptions, FetchLike, HeaderValues, RequestOptions } from "./options.ts";
export type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChatCompletionChunkToolCall,
  ChatCompletionContentPart,
  ChatCompletionContentPartImage,
  ChatCompletionContentPartText,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsBase,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionSystemMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
  ChatCompletionToolMessageParam,
  ChatCompletionUserMessageParam,
  CompletionUsage,
  CreateEmbeddingResponse,
  Embedding,
  EmbeddingCreateParams,
  EmbeddingInput,
  FinishReason,
  Model,
  ModelList,
  ResponseFormat,
  WithRequestId,
} from "./types.ts";
