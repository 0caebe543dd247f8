/**
 * Token estimates of requests, for rate-limit reservations, `count_tokens` and usage when a
 * provider reports none: {@linkcode estimateTokens} (no vocabulary, a little over o200k_base),
 * never the exact tokenizer, which only the echo model loads (./o200k.ts).
 */
import type { ChatMessage } from "../openai/schema.ts";
import { estimateTokens } from "./estimate.ts";

export { estimateTokens } from "./estimate.ts";

/** Tokens OpenAI adds around each message, and to prime the reply. */
const PER_MESSAGE = 3;
const REPLY_PRIMER = 3;
/** A rough per-image cost (OpenAI's low-detail tile price). */
const PER_IMAGE = 85;

/** The text of a message's content (string, or the text parts of an array). */
export function contentText(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : ""))
    .join("");
}

function imageCount(content: ChatMessage["content"]): number {
  return Array.isArray(content) ? content.filter((part) => part.type === "image_url").length : 0;
}

/** Estimated prompt tokens of a conversation. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let total = REPLY_PRIMER;
  for (const message of messages) {
    total += PER_MESSAGE + estimateTokens(message.role);
    total += estimateTokens(contentText(message.content));
    total += imageCount(message.content) * PER_IMAGE;
    for (const call of message.tool_calls ?? []) {
      total += estimateTokens(call.function.name) + estimateTokens(call.function.arguments);
    }
  }
  return total;
}
