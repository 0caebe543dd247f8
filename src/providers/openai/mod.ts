/** The OpenAI adapter: OpenAI's own format, so translation is validation and pass-through. */
import { errors } from "../../errors.ts";
import type { ChatCompletion, ProviderAdapter } from "../mod.ts";
import { fromOpenAIError } from "./error.ts";
import { toOpenAIRequest } from "./request.ts";
import { openAIStream } from "./stream.ts";
import { ModelListSchema } from "./wire.ts";

/** OpenAI, or any OpenAI-compatible server at `OPENAI_BASE_URL`. */
export const openai: ProviderAdapter = {
  name: "openai",
  passThrough: true,
  inlinesImageUrls: false,
  toRequest: (body, target) => ({ request: toOpenAIRequest(body, target), adjusted: [] }),
  fromResponse(body) {
    // Passed on byte for byte: check only what the gateway reads (a full schema parse of every
    // answer costs more than the rest of the request).
    if (!isChatCompletion(body)) {
      return errors.upstream("openai answered with a body that is not a chat.completion");
    }
    return body;
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

function isChatCompletion(body: unknown): body is ChatCompletion {
  if (typeof body !== "object" || body === null) return false;
  const { choices, usage } = body as Record<string, unknown>;
  return Array.isArray(choices) &&
    (usage === undefined || usage === null || isUsage(usage));
}

function isUsage(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { prompt_tokens, completion_tokens, total_tokens } = value as Record<string, unknown>;
  return typeof prompt_tokens === "number" && typeof completion_tokens === "number" &&
    typeof total_tokens === "number";
}
