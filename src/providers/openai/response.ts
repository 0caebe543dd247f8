/** Checking an OpenAI-format `chat.completion` before it is passed on byte for byte. */
import { errors, type GatewayError } from "../../errors.ts";
import type { ChatCompletion } from "../mod.ts";

/**
 * Checks only what the gateway reads of an OpenAI-format answer (`choices`, `usage`): it is
 * passed on byte for byte, and a full schema parse of every answer would cost more than the rest
 * of the request. Pure.
 *
 * @param body The provider's parsed JSON.
 * @param provider The provider's name, for the error message.
 * @returns The body itself, or a 502 `upstream_error` when it is not a chat completion.
 *
 * @example Usage
 * ```ts
 * import { fromOpenAIResponse } from "./response.ts";
 * fromOpenAIResponse({ object: "chat.completion", choices: [] }); // the body itself
 * fromOpenAIResponse("oops", "azure"); // 502 upstream_error
 * ```
 */
export function fromOpenAIResponse(
  body: unknown,
  provider = "openai",
): ChatCompletion | GatewayError {
  if (!isChatCompletion(body)) {
    return errors.upstream(`${provider} answered with a body that is not a chat.completion`);
  }
  return body;
}

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
