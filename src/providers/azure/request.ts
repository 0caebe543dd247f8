/**
 * Azure OpenAI request building (FACTS.md T2): the deployment in the path, `api-version` in the
 * query, the key in `api-key`; the body is OpenAI's.
 */
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import type { ProviderTarget } from "../mod.ts";
import { toOpenAIBody } from "../openai/request.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

/** The `api-version` used when the target names none (DESIGN.md's default). */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";

/** The data-plane operations the gateway calls on a deployment. */
export type AzureOperation = "chat/completions" | "embeddings";

/**
 * The URL of one operation on a deployment:
 * `{endpoint}/openai/deployments/{deployment}/{operation}?api-version={version}`. The deployment
 * is `target.model`, percent-encoded; a trailing `/` on the endpoint is ignored.
 *
 * @example Usage
 * ```ts
 * import { azureUrl } from "./request.ts";
 * azureUrl(
 *   { model: "gpt4o prod", baseUrl: "https://eu.openai.azure.com/", apiVersion: "2024-10-21" },
 *   "chat/completions",
 * );
 * // "https://eu.openai.azure.com/openai/deployments/gpt4o%20prod/chat/completions?api-version=2024-10-21"
 * ```
 */
export function azureUrl(
  target: Omit<ProviderTarget, "apiKey">,
  operation: AzureOperation,
): string {
  const endpoint = target.baseUrl.replace(/\/+$/, "");
  const version = encodeURIComponent(target.apiVersion ?? AZURE_DEFAULT_API_VERSION);
  return `${endpoint}/openai/deployments/${
    encodeURIComponent(target.model)
  }/${operation}?api-version=${version}`;
}

/**
 * Builds `POST …/chat/completions` for a deployment. The key goes in `api-key`, never in
 * `Authorization`; the body is the client's with unknown fields kept and `model` set to the
 * deployment, and streams ask for usage unless `target.streamUsage` is false (see
 * {@linkcode toOpenAIBody}). Pure.
 *
 * @example Usage
 * ```ts
 * import { parseChatCompletionRequest } from "../../openai/schema.ts";
 * import { toAzureRequest } from "./request.ts";
 * const parsed = parseChatCompletionRequest({
 *   model: "azure/gpt4o-prod",
 *   messages: [{ role: "user", content: "hi" }],
 * });
 * if (parsed.ok) {
 *   const request = toAzureRequest(parsed.request, {
 *     model: "gpt4o-prod",
 *     baseUrl: "https://eu.openai.azure.com",
 *     apiKey: "azure-key",
 *     apiVersion: "2024-10-21",
 *   });
 *   // request.headers.get("api-key") === "azure-key"
 * }
 * ```
 */
export function toAzureRequest(
  body: ChatCompletionRequest,
  target: ProviderTarget,
): ProviderRequest {
  return new ProviderRequest(azureUrl(target, "chat/completions"), {
    method: "POST",
    headers: {
      "api-key": target.apiKey,
      "content-type": "application/json",
      "accept": body.stream === true ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(toOpenAIBody(body, target)),
  });
}
