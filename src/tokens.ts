/**
 * Token estimates (o200k_base), the same ones rate limits use, so the echo model's usage and a
 * key's token budget agree.
 */
import { decode, encode } from "gpt-tokenizer";
import type { ChatMessage } from "./openai/schema.ts";

/** Text that looks like a special token is counted as plain text, never rejected. */
const PLAIN = { disallowedSpecial: new Set<string>() };

/** Tokens OpenAI adds around each message, and to prime the reply. */
const PER_MESSAGE = 3;
const REPLY_PRIMER = 3;
/** A rough per-image cost (OpenAI's low-detail tile price). */
const PER_IMAGE = 85;

/** Encodes text to token ids. */
export function encodeText(text: string): number[] {
  return encode(text, PLAIN);
}

/** Decodes token ids to text. */
export function decodeTokens(tokens: readonly number[]): string {
  return decode(tokens as number[]);
}

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
    total += PER_MESSAGE + encodeText(message.role).length;
    total += encodeText(contentText(message.content)).length;
    total += imageCount(message.content) * PER_IMAGE;
    for (const call of message.tool_calls ?? []) {
      total += encodeText(call.function.name).length + encodeText(call.function.arguments).length;
    }
  }
  return total;
}
