/** The Gemini adapter: OpenAI chat completions ↔ generateContent (FACTS.md §4, T4–T38). */
import { z } from "zod";
import { geminiEmbeddings } from "../../embeddings/gemini.ts";
import type { ProviderAdapter } from "../mod.ts";
import { fromGeminiError } from "./error.ts";
import { toGeminiRequest } from "./request.ts";
import { fromGeminiResponse } from "./response.ts";
import { geminiStream } from "./stream.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

const ModelListSchema = z.looseObject({
  models: z.array(
    z.looseObject({
      name: z.string(),
      supportedGenerationMethods: z.array(z.string()).optional(),
    }),
  ),
});

/**
 * An adapter for Google's Gemini API at `GEMINI_BASE_URL` (v1beta), or for a routing file's provider of
 * kind `gemini`; `name` is the provider's name in error messages.
 */
export function createGeminiAdapter(name = "gemini"): ProviderAdapter {
  return {
    name,
    passThrough: false,
    inlinesImageUrls: true,
    toRequest: toGeminiRequest,
    fromResponse: fromGeminiResponse,
    stream: (ctx) => geminiStream(ctx, name),
    fromError: (status, body, headers) => fromGeminiError(status, body, headers, name),
    listModelsRequest: (target) =>
      new ProviderRequest(`${target.baseUrl}/v1beta/models?pageSize=1000`, {
        headers: { "x-goog-api-key": target.apiKey },
      }),
    parseModelList(body) {
      const parsed = ModelListSchema.safeParse(body);
      if (!parsed.success) return [];
      return parsed.data.models
        .filter((m) => m.supportedGenerationMethods?.includes("generateContent") ?? true)
        .map((m) => ({ id: m.name.replace(/^models\//, ""), created: 0 }));
    },
    embeddings: geminiEmbeddings,
  };
}

/** Google's Gemini API at `GEMINI_BASE_URL` (v1beta). */
export const gemini: ProviderAdapter = createGeminiAdapter();
