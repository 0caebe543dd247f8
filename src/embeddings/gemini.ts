/**
 * Embeddings through Gemini's `models/{model}:batchEmbedContents` (generativelanguage v1beta).
 *
 * Wire format, from https://ai.google.dev/api/embeddings (method `models.batchEmbedContents`,
 * `EmbedContentRequest`, `ContentEmbedding`) and google-gemini/cookbook
 * `examples/website_samples/rest/embed.sh`:
 * - request `{"requests": [{"model": "models/{model}", "content": {"parts": [{"text": …}]},
 *   "outputDimensionality"?: N}, …]}`; each request's `model` must match the one in the path;
 * - response `{"embeddings": [{"values": [number, …]}, …]}`, "in the same order as provided in
 *   the batch request"; no usage is reported.
 * Gemini's proto rejects unknown field names (FACTS.md T4), so only these fields are sent: the
 * client's `encoding_format` is applied here, and `user` and unknown fields are dropped. The API
 * takes at most 100 requests per batch (400 "at most 100 requests can be in one batch", as
 * several embedding clients in the code corpus record); more inputs are refused before the call.
 */
import { z } from "zod";
import { errors } from "../errors.ts";
import type { EmbeddingsAdapter } from "../providers/mod.ts";
import { formatEmbedding } from "./encoding.ts";
import { embeddingInputTexts } from "./schema.ts";
import { ProviderRequest } from "../http/provider_request.ts";

/** The most inputs one `batchEmbedContents` call takes. */
export const GEMINI_MAX_BATCH = 100;

const BatchEmbedResponseSchema = z.looseObject({
  embeddings: z.array(z.looseObject({ values: z.array(z.number()) })),
});

/** One `EmbedContentRequest` as the gateway sends it. */
interface GeminiEmbedRequest {
  model: string;
  content: { parts: { text: string }[] };
  outputDimensionality?: number;
}

/** Google's Gemini API: `POST {baseUrl}/v1beta/models/{model}:batchEmbedContents`. */
export const geminiEmbeddings: EmbeddingsAdapter = {
  maxInputs: GEMINI_MAX_BATCH,
  toRequest(body, target) {
    const texts = embeddingInputTexts(body);
    if (texts === undefined) {
      return errors.invalidRequest(
        "Invalid value for 'input': Gemini embeddings take text, not token ids",
        "input",
      );
    }
    if (texts.length > GEMINI_MAX_BATCH) {
      return errors.invalidRequest(
        `Invalid value for 'input': Gemini embeds at most ${GEMINI_MAX_BATCH} inputs per ` +
          `request, got ${texts.length}`,
        "input",
      );
    }
    const model = target.model.replace(/^models\//, "");
    const requests = texts.map((text): GeminiEmbedRequest => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(body.dimensions === undefined ? {} : { outputDimensionality: body.dimensions }),
    }));
    const base = target.baseUrl.replace(/\/+$/, "");
    return new ProviderRequest(
      `${base}/v1beta/models/${encodeURIComponent(model)}:batchEmbedContents`,
      {
        method: "POST",
        headers: {
          "x-goog-api-key": target.apiKey,
          "content-type": "application/json",
          "accept": "application/json",
        },
        body: JSON.stringify({ requests }),
      },
    );
  },
  fromResponse(body, ctx) {
    const parsed = BatchEmbedResponseSchema.safeParse(body);
    if (!parsed.success) {
      return errors.upstream("gemini answered with a body that is not a batchEmbedContents answer");
    }
    const embeddings = parsed.data.embeddings;
    if (embeddings.length !== ctx.inputCount) {
      return errors.upstream(
        `gemini answered with ${embeddings.length} embeddings for ${ctx.inputCount} inputs`,
      );
    }
    return {
      object: "list",
      data: embeddings.map((embedding, index) => ({
        object: "embedding",
        index,
        embedding: formatEmbedding(embedding.values, ctx.encodingFormat),
      })),
      model: ctx.model,
      usage: { prompt_tokens: ctx.estimatedTokens, total_tokens: ctx.estimatedTokens },
    };
  },
};
