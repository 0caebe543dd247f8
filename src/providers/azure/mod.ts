/**
 * The Azure OpenAI adapter: OpenAI's format behind Azure's URL scheme, key header, stream quirks
 * and error codes (FACTS.md §2, T2).
 */
import { createAzureEmbeddings } from "../../embeddings/openai.ts";
import type { ProviderAdapter } from "../mod.ts";
import { fromOpenAIResponse } from "../openai/response.ts";
import { fromAzureError } from "./error.ts";
import { toAzureRequest } from "./request.ts";
import { AZURE_RESPONSES } from "./responses.ts";
import { createResponsesPassThrough } from "../openai/responses.ts";
import { azureStream } from "./stream.ts";

export { AZURE_DEFAULT_API_VERSION, azureUrl, toAzureRequest } from "./request.ts";
export { fromAzureError } from "./error.ts";
export { azureStream } from "./stream.ts";

/**
 * Creates an Azure OpenAI adapter. `name` is the provider's name in messages and the
 * `x-choreoai-provider` header: `azure` for the built-in provider, or a routing file's name for
 * a custom provider of kind `azure`. Deployments cannot be listed on the data plane, so the
 * adapter has no model list. Embeddings go to the deployment's `/embeddings` operation; Responses
 * requests pass through to the v1 Responses API (`responses.ts`).
 *
 * @example Usage
 * ```ts
 * import { createAzureAdapter } from "./mod.ts";
 * const azureEu = createAzureAdapter("azure-eu");
 * // azureEu.name === "azure-eu"
 * ```
 */
export function createAzureAdapter(name = "azure"): ProviderAdapter {
  return {
    name,
    passThrough: true,
    inlinesImageUrls: false,
    toRequest: (body, target) => ({ request: toAzureRequest(body, target), adjusted: [] }),
    fromResponse: (body) => fromOpenAIResponse(body, name),
    stream: (ctx) => azureStream(ctx, name),
    fromError: (status, body, headers, target) =>
      fromAzureError(status, body, headers, { provider: name, deployment: target?.model }),
    listModelsRequest: () => undefined,
    parseModelList: () => [],
    embeddings: createAzureEmbeddings(name),
    responses: createResponsesPassThrough(name, AZURE_RESPONSES),
  };
}

/** The built-in `azure` provider (`AZURE_OPENAI_*`). */
export const azure: ProviderAdapter = createAzureAdapter();
