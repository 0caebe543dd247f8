/**
 * The built-in `choreoai/echo` model: answers with the last user message, stream and
 * non-stream, with usage. It needs no provider key, so every client can be tried at once, and
 * benchmarks can measure the gateway alone. Pure, but for loading the exact tokenizer on first
 * use: the reply's tokens are exact (it is cut at `max_tokens`), the prompt's the gateway's
 * estimate (the one rate limits reserve and `count_tokens` answers).
 */
import type { ChatCompletionRequest, Usage } from "../openai/schema.ts";
import { contentText, estimatePromptTokens } from "../tokens/mod.ts";
import { loadTokenizer } from "../tokens/o200k.ts";
import type { ChatCompletion, TranslationContext } from "./mod.ts";

/** The echo model's reply, after `max_tokens`/`max_completion_tokens`. */
export interface EchoReply {
  readonly text: string;
  readonly finishReason: "stop" | "length";
  readonly usage: Usage;
}

/** Computes the echo reply and its usage for a request. */
export async function echoReply(request: ChatCompletionRequest): Promise<EchoReply> {
  const tokenizer = await loadTokenizer();
  const lastUser = request.messages.findLast((message) => message.role === "user");
  let text = lastUser === undefined ? "" : contentText(lastUser.content);
  let tokens = tokenizer.encode(text);
  let finishReason: EchoReply["finishReason"] = "stop";
  const limit = request.max_completion_tokens ?? request.max_tokens;
  if (typeof limit === "number" && tokens.length > limit) {
    tokens = tokens.slice(0, limit);
    text = tokenizer.decode(tokens);
    finishReason = "length";
  }
  const n = request.n ?? 1;
  const promptTokens = estimatePromptTokens(request.messages);
  const completionTokens = tokens.length * n;
  return {
    text,
    finishReason,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/** The non-stream `chat.completion` answer. */
export function echoCompletion(
  request: ChatCompletionRequest,
  reply: EchoReply,
  ctx: TranslationContext,
): ChatCompletion {
  const choices = Array.from({ length: request.n ?? 1 }, (_, index) => ({
    index,
    message: { role: "assistant", content: reply.text, refusal: null },
    logprobs: null,
    finish_reason: reply.finishReason,
  }));
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices,
    usage: reply.usage,
    system_fingerprint: null,
  };
}

/** Splits text into word-sized pieces that join back to it exactly. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text]);
}

/** The stream's chunks, in order; the usage chunk only when `includeUsage`. */
export function echoChunks(
  request: ChatCompletionRequest,
  reply: EchoReply,
  ctx: TranslationContext,
  includeUsage: boolean,
): Record<string, unknown>[] {
  const base = {
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.created,
    model: ctx.model,
  };
  const usage = includeUsage ? { usage: null } : {};
  const n = request.n ?? 1;
  const chunks: Record<string, unknown>[] = [];
  for (let index = 0; index < n; index++) {
    const choice = (delta: object, finish: string | null) => ({
      ...base,
      choices: [{ index, delta, logprobs: null, finish_reason: finish }],
      ...usage,
    });
    chunks.push(choice({ role: "assistant", content: "", refusal: null }, null));
    for (const piece of pieces(reply.text)) chunks.push(choice({ content: piece }, null));
    chunks.push(choice({}, reply.finishReason));
  }
  if (includeUsage) chunks.push({ ...base, choices: [], usage: reply.usage });
  return chunks;
}
