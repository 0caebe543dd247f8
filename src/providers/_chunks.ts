/** Building OpenAI `chat.completion.chunk` items, shared by the stream translators. */
import type { Usage } from "../openai/schema.ts";
import type { StreamItem, TranslationContext } from "./mod.ts";

/** OpenAI's finish reasons that translations produce. */
export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

function chunkOf(ctx: TranslationContext, fields: Record<string, unknown>): StreamItem {
  return {
    type: "chunk",
    chunk: {
      id: ctx.id,
      object: "chat.completion.chunk",
      created: ctx.created,
      model: ctx.model,
      ...fields,
    },
  };
}

/** A chunk with one choice. */
export function choiceChunk(
  ctx: TranslationContext,
  index: number,
  delta: Record<string, unknown>,
  finishReason: OpenAIFinishReason | null,
): StreamItem {
  return chunkOf(ctx, {
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
  });
}

/** The final usage chunk (`choices: []`); the client writer drops it unless it was asked for. */
export function usageChunk(ctx: TranslationContext, usage: Usage): StreamItem {
  return chunkOf(ctx, { choices: [], usage });
}
