/**
 * The provider adapter interface: four pure translations between OpenAI's format and a
 * provider's, plus the provider's model list.
 */
import type { GatewayError } from "../errors.ts";
import type { ChatCompletionRequest, Usage } from "../openai/schema.ts";
import type { RecordedUsage } from "../openai/usage.ts";
import type { ProviderRequest } from "../http/provider_request.ts";
import type {
  EmbeddingsContext,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../embeddings/schema.ts";
import type { SseEvent } from "../sse.ts";
import type { SseWriter } from "../streaming/client_stream.ts";

/** Where one upstream call goes and with which credentials (kept server-side). */
export interface ProviderTarget {
  /** Model name as the provider knows it (without a `provider/` prefix). */
  readonly model: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Azure OpenAI's `api-version` query value. */
  readonly apiVersion?: string | undefined;
  /**
   * OpenAI-compatible servers: ask for usage on streams (`stream_options.include_usage`).
   * Default true; some servers reject `stream_options`.
   */
  readonly streamUsage?: boolean | undefined;
}

/** Everything non-deterministic a translation needs, passed in so translations stay pure. */
export interface TranslationContext {
  readonly id: string;
  readonly created: number;
  /** The model name the client sent. */
  readonly model: string;
}

/** An OpenAI `chat.completion` object (only the fields the gateway reads are typed). */
export interface ChatCompletion {
  readonly object: "chat.completion";
  readonly choices: readonly unknown[];
  readonly usage?: Usage | null | undefined;
  readonly [key: string]: unknown;
}

/** What a provider's stream becomes: OpenAI chunks, the end, or a failure. */
export type StreamItem =
  | {
    readonly type: "chunk";
    readonly chunk: Record<string, unknown>;
    /** The chunk's JSON exactly as received, sent as is when the chunk is not changed. */
    readonly raw?: string;
  }
  | {
    /**
     * A chunk already in OpenAI's format, with no usage numbers and no error, sent as is. When
     * `nullUsage`, it has a top-level `"usage":null` (the provider was asked for usage), which a
     * client that did not ask must not see.
     */
    readonly type: "raw";
    readonly raw: string;
    readonly nullUsage: boolean;
  }
  | { readonly type: "done" }
  | { readonly type: "error"; readonly error: GatewayError };

/** A model as a provider lists it. */
export interface ProviderModel {
  readonly id: string;
  /** Unix seconds; 0 when the provider does not say. */
  readonly created: number;
}

/** A built upstream request and the parameters changed to fit the provider. */
export interface UpstreamRequest {
  readonly request: ProviderRequest;
  readonly adjusted: readonly string[];
}

/** Receives the items a translator produces. */
export type Emit = (item: StreamItem) => void;

/**
 * Translates one provider stream, event by event, synchronously. It may keep state across events
 * (tool-call indexes, usage); it emits `done` when the provider ended cleanly.
 */
export interface StreamTranslator {
  /** One provider event → zero or more items. */
  event(event: SseEvent, emit: Emit): void;
  /** The provider's body ended (some providers end without a terminator event). */
  end(emit: Emit): void;
}

/** One upstream provider's translations. All methods are pure. */
export interface ProviderAdapter {
  /**
   * The provider's name, used in messages and the `x-choreoai-provider` header: a built-in name,
   * or a routing file's name for a custom provider (`azure-eu`).
   */
  readonly name: string;
  /** The provider speaks OpenAI's format: a successful non-stream body is sent on byte for byte. */
  readonly passThrough: boolean;
  /**
   * http(s) image URLs are fetched and inlined as `data:` URLs before translation when
   * `CHOREOAI_FETCH_IMAGE_URLS=true` (for servers of this kind that cannot fetch them).
   */
  readonly inlinesImageUrls: boolean;
  /**
   * Builds the upstream request (`stream` requests ask the provider for usage too), or a 400 for
   * a request the provider cannot serve. `adjusted` names parameters changed to fit the provider.
   */
  toRequest(body: ChatCompletionRequest, target: ProviderTarget): UpstreamRequest | GatewayError;
  /** Provider JSON → OpenAI `chat.completion`, or a 502 when the body is not what was promised. */
  fromResponse(body: unknown, ctx: TranslationContext): ChatCompletion | GatewayError;
  /** A translator of this provider's SSE events for one stream. */
  stream(ctx: TranslationContext): StreamTranslator;
  /**
   * Provider error response → the gateway error the client sees. `target`, when given, names the
   * upstream model the request went to (Azure's deployment), for clearer messages.
   */
  fromError(
    status: number,
    body: unknown,
    headers: Headers,
    target?: Pick<ProviderTarget, "model"> | undefined,
  ): GatewayError;
  /** The provider's model-list request; undefined when it has none usable (Azure). */
  listModelsRequest(target: Omit<ProviderTarget, "model">): ProviderRequest | undefined;
  /** Models of a model-list response (empty when the body is not understood). */
  parseModelList(body: unknown): ProviderModel[];
  /** `POST /v1/embeddings` translations; undefined when the provider has no embeddings API. */
  readonly embeddings?: EmbeddingsAdapter | undefined;
  /**
   * The provider speaks Anthropic's Messages API: a Messages request passes through natively
   * instead of being translated to the canonical form. Undefined for other providers.
   */
  readonly messages?: MessagesPassThrough | undefined;
  /**
   * The provider speaks OpenAI's Responses API (OpenAI itself, Azure OpenAI): a Responses
   * request passes through natively instead of being translated. Undefined for other providers.
   */
  readonly responses?: ResponsesPassThrough | undefined;
}

/** The client's Messages headers passed on to Anthropic (null: not sent by the client). */
export interface MessagesHeaders {
  /** `anthropic-version`; the adapter's default when null. */
  readonly version: string | null;
  /** `anthropic-beta`, as the client sent it. */
  readonly beta: string | null;
}

/** A Messages request passed through to a provider that speaks it. All methods are pure. */
export interface MessagesPassThrough {
  /** `POST /v1/messages`: the client's body with `model` set to the upstream name. */
  toRequest(
    body: Readonly<Record<string, unknown>>,
    target: ProviderTarget,
    headers: MessagesHeaders,
  ): ProviderRequest;
  /** `POST /v1/messages/count_tokens`, the same way. */
  countTokensRequest(
    body: Readonly<Record<string, unknown>>,
    target: ProviderTarget,
    headers: MessagesHeaders,
  ): ProviderRequest;
  /** The usage of an answer body, for records and limits; undefined when it has none. */
  answerUsage(body: unknown): RecordedUsage | undefined;
  /** An answer body's finish reason, in OpenAI's words; undefined when it has none. */
  answerFinishReasons(body: unknown): string[] | undefined;
  /** A writer that passes one stream's events on as they are, reading their usage. */
  streamWriter(): SseWriter<SseEvent>;
}

/** A stored response at a provider that speaks Responses, as the client asked for it. */
export interface ResponseResource {
  readonly method: "GET" | "DELETE";
  /** The response id (`resp_…`), as the client sent it. */
  readonly id: string;
  /** `GET …/responses/{id}/input_items` rather than the response itself. */
  readonly inputItems: boolean;
  /** The client's query string (`?after=…&limit=…`, `?include[]=…`), empty for none. */
  readonly search: string;
}

/** The writer of a passed-through Responses stream; it reads the response id on the way. */
export interface ResponsesStreamWriter extends SseWriter<SseEvent> {
  /** The id of `response.created`, once it has passed. */
  readonly responseId: string | undefined;
}

/** A Responses request passed through to a provider that speaks it. All methods are pure. */
export interface ResponsesPassThrough {
  /** `POST …/responses`: the client's body with `model` set to the upstream name. */
  toRequest(body: Readonly<Record<string, unknown>>, target: ProviderTarget): ProviderRequest;
  /** `GET`/`DELETE` of a response the provider keeps, or its input items. */
  resourceRequest(
    resource: ResponseResource,
    target: Omit<ProviderTarget, "model">,
  ): ProviderRequest;
  /** The usage of a `response` object, for records and limits; undefined when it has none. */
  answerUsage(body: unknown): RecordedUsage | undefined;
  /** How a finished `response` object ended, in OpenAI's chat words; undefined if unknown. */
  answerFinishReasons(body: unknown): string[] | undefined;
  /** A writer that passes one stream's events on as they are, reading their usage and id. */
  streamWriter(): ResponsesStreamWriter;
}

/** Translations of `POST /v1/embeddings` for one provider. All methods are pure. */
export interface EmbeddingsAdapter {
  /** The most inputs one upstream request may carry; larger requests are split. */
  readonly maxInputs?: number | undefined;
  /** Builds the upstream request, or a 400 for input the provider cannot take. */
  toRequest(body: EmbeddingsRequest, target: ProviderTarget): ProviderRequest | GatewayError;
  /**
   * Provider JSON → OpenAI's embeddings list (`encoding_format` applied, usage filled in by
   * estimate when the provider reports none), or a 502 when the body is not what was promised.
   */
  fromResponse(body: unknown, ctx: EmbeddingsContext): EmbeddingsResponse | GatewayError;
}
