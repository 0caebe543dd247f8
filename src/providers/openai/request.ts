/** OpenAI request building (FACTS.md T1): the client's body with the upstream model name. */
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import type { ProviderTarget } from "../mod.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

/**
 * The body sent to an OpenAI-format upstream (OpenAI, compatible servers, Azure OpenAI): the
 * client's body with unknown fields kept and `model` set to the upstream name. A stream asks for
 * usage (`stream_options.include_usage: true`, the client's other stream options kept) unless
 * `target.streamUsage` is false, in which case `stream_options` is removed altogether, for
 * servers that reject it.
 *
 * @param body The client's request, already validated.
 * @param target Where the request goes.
 * @returns A new object; `body` is not changed.
 *
 * @example Usage
 * ```ts
 * import { parseChatCompletionRequest } from "../../openai/schema.ts";
 * import { toOpenAIBody } from "./request.ts";
 * const parsed = parseChatCompletionRequest({
 *   model: "openai/gpt-4o",
 *   messages: [{ role: "user", content: "hi" }],
 *   stream: true,
 * });
 * if (parsed.ok) {
 *   const body = toOpenAIBody(parsed.request, { model: "gpt-4o", baseUrl: "", apiKey: "" });
 *   // body.model === "gpt-4o", body.stream_options === { include_usage: true }
 * }
 * ```
 */
export function toOpenAIBody(
  body: ChatCompletionRequest,
  target: ProviderTarget,
): Record<string, unknown> {
  const upstreamBody: Record<string, unknown> = { ...body, model: target.model };
  if (target.streamUsage === false) {
    delete upstreamBody.stream_options;
  } else if (body.stream === true) {
    upstreamBody.stream_options = { ...body.stream_options, include_usage: true };
  }
  return upstreamBody;
}

/**
 * Builds `POST {base}/chat/completions` with {@linkcode toOpenAIBody}'s body. The provider key
 * goes in `Authorization`, never the client's.
 */
export function toOpenAIRequest(
  body: ChatCompletionRequest,
  target: ProviderTarget,
): ProviderRequest {
  return new ProviderRequest(`${target.baseUrl}/chat/completions`, {
    method: "POST",
    headers: {
      // A local server may take no key: then none is sent.
      ...(target.apiKey === "" ? {} : { "authorization": `Bearer ${target.apiKey}` }),
      "content-type": "application/json",
      "accept": body.stream === true ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(toOpenAIBody(body, target)),
  });
}
