/** Which adapter serves each kind of provider (built-in or declared in the routing file). */
import { createOpenAIEmbeddings } from "../embeddings/openai.ts";
import { anthropic, createAnthropicAdapter } from "./anthropic/mod.ts";
import { createAzureAdapter } from "./azure/mod.ts";
import { createGeminiAdapter, gemini } from "./gemini/mod.ts";
import type { ProviderAdapter } from "./mod.ts";
import { fromOpenAIError } from "./openai/error.ts";
import { openai } from "./openai/mod.ts";
import { fromOpenAIResponse } from "./openai/response.ts";
import { openAIStream } from "./openai/stream.ts";

/** The kinds of provider a routing file may declare. */
export type ProviderKind = "openai-compatible" | "azure" | "anthropic" | "gemini";

/** The adapter for a provider of `kind` called `name` (the name shows in its error messages). */
export function adapterFor(kind: ProviderKind, name: string): ProviderAdapter {
  switch (kind) {
    case "openai-compatible":
      return name === "openai" ? openai : {
        ...openai,
        name,
        stream: () => openAIStream(name),
        fromResponse: (body) => fromOpenAIResponse(body, name),
        embeddings: createOpenAIEmbeddings(name),
        fromError: (status, body, headers) => fromOpenAIError(status, body, headers, name),
        // Most such servers lack /v1/responses: Responses requests are translated for them.
        responses: undefined,
      };
    case "azure":
      return createAzureAdapter(name);
    case "anthropic":
      return name === "anthropic" ? anthropic : createAnthropicAdapter(name);
    case "gemini":
      return name === "gemini" ? gemini : createGeminiAdapter(name);
  }
}
