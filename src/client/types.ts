/**
 * Types of the OpenAI surface the gateway serves: request parameters and the objects it answers
 * with. Parameters carry an index signature, so a parameter OpenAI adds later passes through
 * untouched without waiting for a new release of this client.
 *
 * @module
 */

/** One part of a message's content: text. */
export interface ChatCompletionContentPartText {
  type: "text";
  text: string;
}

/** One part of a message's content: an image, by `data:` or http(s) URL. */
export interface ChatCompletionContentPartImage {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}

/** A part of a user message's content. */
export type ChatCompletionContentPart =
  | ChatCompletionContentPartText
  | ChatCompletionContentPartImage;

/** A tool call, as an assistant message carries it. */
export interface ChatCompletionMessageToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A system or developer message. */
export interface ChatCompletionSystemMessageParam {
  role: "system" | "developer";
  content: string | ChatCompletionContentPartText[];
  name?: string;
}

/** A user message. */
export interface ChatCompletionUserMessageParam {
  role: "user";
  content: string | ChatCompletionContentPart[];
  name?: string;
}

/** An assistant message: earlier answers, tool calls included. */
export interface ChatCompletionAssistantMessageParam {
  role: "assistant";
  content?: string | ChatCompletionContentPartText[] | null;
  name?: string;
  refusal?: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
}

/** The result of a tool call. */
export interface ChatCompletionToolMessageParam {
  role: "tool";
  content: string | ChatCompletionContentPartText[];
  tool_call_id: string;
}

/** One message of the conversation. */
export type ChatCompletionMessageParam =
  | ChatCompletionSystemMessageParam
  | ChatCompletionUserMessageParam
  | ChatCompletionAssistantMessageParam
  | ChatCompletionToolMessageParam;

/** A function the model may call. */
export interface ChatCompletionTool {
  type: "function";
  function: {
    name: string;
    description?: string;
    /** A JSON Schema object. */
    parameters?: Record<string, unknown>;
    strict?: boolean | null;
  };
}

/** Which tool the model must (or may) call. */
export type ChatCompletionToolChoiceOption =
  | "none"
  | "auto"
  | "required"
  | { type: "function"; function: { name: string } };

/** The format of the answer. */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
    type: "json_schema";
    json_schema: {
      name: string;
      description?: string;
      schema?: Record<string, unknown>;
      strict?: boolean | null;
    };
  };

/** Parameters of `chat.completions.create`, streaming or not. */
export interface ChatCompletionCreateParamsBase {
  /** The model name, e.g. `"gpt-4o"` or `"choreoai/echo"`. */
  model: string;
  messages: ChatCompletionMessageParam[];
  stream?: boolean | null;
  /** With `include_usage`, a stream ends with a chunk carrying `usage` and no choices. */
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  user?: string;
  tools?: ChatCompletionTool[];
  tool_choice?: ChatCompletionToolChoiceOption;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  logit_bias?: Record<string, number> | null;
  metadata?: Record<string, string> | null;
  reasoning_effort?: "minimal" | "low" | "medium" | "high" | null;
  /** Any other parameter is sent as given. */
  [key: string]: unknown;
}

/** Parameters of a chat completion that is not streamed. */
export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}

/** Parameters of a streamed chat completion. */
export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
}

/** Parameters of `chat.completions.create`. */
export type ChatCompletionCreateParams =
  | ChatCompletionCreateParamsNonStreaming
  | ChatCompletionCreateParamsStreaming;

/** Why the model stopped. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

/** Token counts of a request. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number };
}

/** The assistant message of an answer. */
export interface ChatCompletionMessage {
  role: "assistant";
  content: string | null;
  refusal?: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
  annotations?: unknown[];
}

/** One choice of a `chat.completion`. */
export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

/** Present on every answer object: the gateway's `x-request-id` (not enumerable). */
export interface WithRequestId {
  /** The `x-request-id` response header; not enumerable, so JSON output leaves it out. */
  readonly _request_id?: string | null;
}

/** A `chat.completion` object: the answer to a request without streaming. */
export interface ChatCompletion extends WithRequestId {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

/** A tool call fragment in a stream chunk. */
export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** One choice of a `chat.completion.chunk`. */
export interface ChatCompletionChunkChoice {
  index: number;
  delta: {
    role?: "assistant";
    content?: string | null;
    refusal?: string | null;
    tool_calls?: ChatCompletionChunkToolCall[];
  };
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

/** One `chat.completion.chunk` of a stream; the final usage chunk has `choices: []`. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  usage?: CompletionUsage | null;
  system_fingerprint?: string | null;
}

/** One model the key may use. */
export interface Model extends WithRequestId {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/**
 * The answer of `GET /v1/models`: read `data`, or iterate over the list itself (as over the
 * Python client's `ModelList`).
 */
export interface ModelList extends WithRequestId, Iterable<Model> {
  object: "list";
  data: Model[];
}

/** What `embeddings.create` embeds: a text, texts, token ids, or lists of token ids. */
export type EmbeddingInput = string | string[] | number[] | number[][];

/** Parameters of `embeddings.create`. */
export interface EmbeddingCreateParams {
  model: string;
  input: EmbeddingInput;
  /** The vector length, for models that can shorten theirs. */
  dimensions?: number;
  /** `base64`: each embedding is the server's base64 text (little-endian float32), unchanged. */
  encoding_format?: "float" | "base64";
  user?: string;
  /** Any other parameter is sent as given. */
  [key: string]: unknown;
}

/** One embedding: numbers, or base64 text when `encoding_format` was `base64`. */
export interface Embedding<T extends number[] | string = number[]> {
  object: "embedding";
  index: number;
  embedding: T;
}

/** The answer of `POST /v1/embeddings`. */
export interface CreateEmbeddingResponse<T extends number[] | string = number[]>
  extends WithRequestId {
  object: "list";
  data: Embedding<T>[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
