/** The OpenAI adapter: OpenAI's own format, so translation is validation and pass-through. */
import { errors } from "../../errors.ts";
import type { ChatCompletion, ProviderAdapter } from "../mod.ts";
import { fromOpenAIError } from "./error.ts";
import { toOpenAIRequest } from "./request.ts";
import { openAIStream } from "./stream.ts";
import { ChatCompletionSchema, ModelListSchema } from "./wire.ts";

/** OpenAI, or any OpenAI-compatible server at `OPENAI_BASE_URL`. */
export const openai: ProviderAdapter = {
  name: "openai",
  passThrough: true,
  toRequest: (body, target) => toOpenAIRequest(body, target),
  fromResponse(body) {
    const parsed = ChatCompletionSchema.safeParse(body);
    if (!parsed.success) {
      return errors.upstream("openai answered with a body that is not a chat.completion");
    }
    return parsed.data as ChatCompletion;
  },
  stream: () => openAIStream("openai"),
  fromError: (status, body, headers) => fromOpenAIError(status, body, headers, "openai"),
  listModelsRequest: (target) =>
    new Request(`${target.baseUrl}/models`, {
      headers: { authorization: `Bearer ${target.apiKey}`, accept: "application/json" },
    }),
  parseModelList(body) {
    const parsed = ModelListSchema.safeParse(body);
    if (!parsed.success) return [];
    return parsed.data.data.map((model) => ({
      id: model.id,
      created: typeof model.created === "number" ? model.created : 0,
    }));
  },
};
