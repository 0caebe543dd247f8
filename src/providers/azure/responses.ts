/**
 * Azure OpenAI's Responses API, to which a Responses request passes through natively as to
 * OpenAI (`../openai/responses.ts`). It lives on Azure's v1 API, generally available since
 * August 2025: `{endpoint}/openai/v1/responses`, with the deployment name as `model` in the
 * body (not in the path), the key in `api-key`, and no `api-version` (the v1 API takes none; the
 * chat operations' `api-version` of the provider does not apply). `GET`, `DELETE` and
 * `input_items` are `{endpoint}/openai/v1/responses/{id}[/input_items]`.
 */
import type { ResponsesEndpoint } from "../openai/responses.ts";

/** Azure OpenAI's v1 Responses endpoint. */
export const AZURE_RESPONSES: ResponsesEndpoint = {
  url: (target) => `${target.baseUrl.replace(/\/+$/, "")}/openai/v1/responses`,
  query: () => "",
  auth: (target) => ({ "api-key": target.apiKey }),
};
