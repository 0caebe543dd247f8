/**
 * `client.embeddings`: `POST /v1/embeddings`.
 *
 * @module
 */
import type { Transport } from "./_http.ts";
import type { RequestOptions } from "./options.ts";
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from "./types.ts";

/** `client.embeddings`. */
export class Embeddings {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Embeds a text, several texts, or token ids. With `encoding_format: "base64"` each embedding
   * is the server's base64 text (little-endian float32), returned unchanged.
   *
   * @param body `model`, `input`, and optionally `dimensions`, `encoding_format`, `user`.
   * @param options Per-request options.
   * @returns The embeddings, in input order, with usage.
   *
   * @example Embed two texts
   * ```ts
   * import { ChoreoAI } from "./mod.ts";
   *
   * const client = new ChoreoAI({ apiKey: "your-api-key" });
   * const result = await client.embeddings.create({
   *   model: "choreoai/echo",
   *   input: ["first text", "second text"],
   * });
   * for (const item of result.data) console.log(item.index, item.embedding.length);
   * ```
   */
  create(
    body: EmbeddingCreateParams & { encoding_format: "base64" },
    options?: RequestOptions,
  ): Promise<CreateEmbeddingResponse<string>>;
  create(
    body: EmbeddingCreateParams & { encoding_format?: "float" },
    options?: RequestOptions,
  ): Promise<CreateEmbeddingResponse>;
  create(
    body: EmbeddingCreateParams,
    options?: RequestOptions,
  ): Promise<CreateEmbeddingResponse<number[] | string>>;
  create(
    body: EmbeddingCreateParams,
    options?: RequestOptions,
  ): Promise<CreateEmbeddingResponse<number[] | string>> {
    return this.#transport.json({ method: "POST", path: "/embeddings", body, options });
  }
}
