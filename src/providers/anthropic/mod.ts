/**
 * The Anthropic adapter: OpenAI chat completions ↔ the Messages API (FACTS.md §3, T2–T38), and
 * Messages requests passed through natively (`native.ts`).
 */
import { z } from "zod";
import type { ProviderAdapter } from "../mod.ts";
import { fromAnthropicError } from "./error.ts";
import { createMessagesPassThrough } from "./native.ts";
import { ANTHROPIC_API_VERSION, toAnthropicRequest } from "./request.ts";
import { fromAnthropicResponse } from "./response.ts";
import { anthropicStream } from "./stream.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

const ModelListSchema = z.looseObject({
  data: z.array(z.looseObject({ id: z.string(), created_at: z.string().optional() })),
});

/**
 * An adapter for Anthropic's Messages API at `ANTHROPIC_BASE_URL`, or for a routing file's provider of
 * kind `anthropic`; `name` is the provider's name in error messages.
 */
export function createAnthropicAdapter(name = "anthropic"): ProviderAdapter {
  return {
    name,
    passThrough: false,
    inlinesImageUrls: false,
    toRequest: toAnthropicRequest,
    fromResponse: fromAnthropicResponse,
    stream: (ctx) => anthropicStream(ctx, name),
    fromError: (status, body, headers) => fromAnthropicError(status, body, headers, name),
    messages: createMessagesPassThrough(name),
    listModelsRequest: (target) =>
      new ProviderRequest(`${target.baseUrl}/v1/models?limit=1000`, {
        headers: { "x-api-key": target.apiKey, "anthropic-version": ANTHROPIC_API_VERSION },
      }),
    parseModelList(body) {
      const parsed = ModelListSchema.safeParse(body);
      if (!parsed.success) return [];
      return parsed.data.data.map((model) => {
        const created = model.created_at === undefined ? NaN : Date.parse(model.created_at);
        return { id: model.id, created: Number.isNaN(created) ? 0 : Math.floor(created / 1000) };
      });
    },
  };
}

/** Anthropic's Messages API at `ANTHROPIC_BASE_URL`. */
export const anthropic: ProviderAdapter = createAnthropicAdapter();
