/**
 * `POST /v1/embeddings`: the request the gateway accepts and the list it answers with (OpenAI's
 * shapes). Unknown request fields are kept and passed on to OpenAI-format upstreams.
 */

/** `POST /v1/embeddings` request body, validated. */
export interface EmbeddingsRequest {
  readonly model: string;
  /** One text, several texts, one token array, or several token arrays. */
  readonly input: string | readonly string[] | readonly number[] | readonly (readonly number[])[];
  readonly dimensions?: number | undefined;
  readonly encoding_format?: "float" | "base64" | undefined;
  readonly user?: string | undefined;
  readonly [key: string]: unknown;
}

/** What a translation back needs besides the provider's body. */
export interface EmbeddingsContext {
  /** The model name the client sent. */
  readonly model: string;
  readonly encodingFormat: "float" | "base64";
  /** Estimated tokens of the input, for providers that report no usage. */
  readonly estimatedTokens: number;
}

/** One embedding of the answer. */
export interface EmbeddingObject {
  readonly object: "embedding";
  readonly index: number;
  /** Floats, or base64 of little-endian float32 when `encoding_format` is `base64`. */
  readonly embedding: readonly number[] | string;
}

/** OpenAI's embeddings list. */
export interface EmbeddingsResponse {
  readonly object: "list";
  readonly data: readonly EmbeddingObject[];
  readonly model: string;
  readonly usage: { readonly prompt_tokens: number; readonly total_tokens: number };
}
