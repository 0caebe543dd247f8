/** The OpenAI adapter: OpenAI's own format, so translation is validation and pass-through. */
import { openAIEmbeddings } from "../../embeddings/openai.ts";
import type { ProviderAdapter } from "../mod.ts";
import { fromOpenAIError } from "./error.ts";
import { toOpenAIRequest } from "./request.ts";
import { fromOpenAIResponse } from "./response.ts";
import { createResponsesPassThrough, OPENAI_RESPONSES } from "./responses.ts";
import { openAIStream } from "./stream.ts";
import { ModelListSchema } from "./wire.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

/**
 * OpenAI, or any OpenAI-compatible server at `OPENAI_BASE_URL`. Responses requests pass through
 * to `{base}/responses` (`responses.ts`): the built-in provider is taken to be OpenAI itself.
 */
export const openai: ProviderAdapter = {
  name: "openai",
  passThrough: true,
  inlinesImageUrls: false,
  toRequest: (body, target) => ({ request: toOpenAIRequest(body, target), adjusted: [] }),
  fromResponse: (body) => fromOpenAIResponse(body, "openai"),
  stream: () => openAIStream("openai"),
  fromError: (status, body, headers) => fromOpenAIError(status, body, headers, "openai"),
  listModelsRequest: (target) =>
    new ProviderRequest(`${target.baseUrl}/models`, {
      headers: {
        ...(target.apiKey === "" ? {} : { authorization: `Bearer ${target.apiKey}` }),
        accept: "application/json",
      },
    }),
  parseModelList(body) {
    const parsed = ModelListSchema.safeParse(body);
    if (!parsed.success) return [];
    return parsed.data.data.map((model) => ({
      id: model.id,
      created: typeof model.created === "number" ? model.created : 0,
    }));
  },
  embeddings: openAIEmbeddings,
  responses: createResponsesPassThrough("openai", OPENAI_RESPONSES),
};
