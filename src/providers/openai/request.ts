/** OpenAI request building (FACTS.md T1): the client's body with the upstream model name. */
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import type { ProviderTarget } from "../mod.ts";

/** Options of an OpenAI-compatible upstream. */
export interface OpenAIRequestOptions {
  /** Ask for `stream_options.include_usage` on streams (some compatible servers reject it). */
  readonly streamUsage: boolean;
}

/**
 * Builds `POST {base}/chat/completions`. Unknown fields pass through untouched; the provider
 * key goes in `Authorization`, never the client's.
 */
export function toOpenAIRequest(
  body: ChatCompletionRequest,
  target: ProviderTarget,
  options: OpenAIRequestOptions = { streamUsage: true },
): Request {
  const upstreamBody: Record<string, unknown> = { ...body, model: target.model };
  if (body.stream === true && options.streamUsage) {
    upstreamBody.stream_options = { ...body.stream_options, include_usage: true };
  }
  return new Request(`${target.baseUrl}/chat/completions`, {
    method: "POST",
    headers: {
      "authorization": `Bearer ${target.apiKey}`,
      "content-type": "application/json",
      "accept": body.stream === true ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(upstreamBody),
  });
}
