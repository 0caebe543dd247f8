/**
 * Usage for streams from servers that cannot be asked for it (`stream_usage: false`): the text
 * and tool-call arguments of the chunks are counted with the gateway's token estimate, and when
 * the stream ends without a usage chunk of its own, one is added before `[DONE]`. So a client
 * that set `stream_options.include_usage` still gets exactly one usage chunk (FACTS.md T35), and
 * usage records and token limits see the tokens instead of zero.
 */
import { estimateTokens } from "../tokens/mod.ts";
import type { Emit, StreamItem, StreamTranslator } from "../providers/mod.ts";

interface Identity {
  id: unknown;
  created: unknown;
  model: unknown;
}

/** The text a chunk adds: each choice's content, refusal and tool-call arguments. */
function chunkText(chunk: Record<string, unknown>): string {
  const choices = chunk.choices;
  if (!Array.isArray(choices)) return "";
  let text = "";
  for (const choice of choices) {
    const delta = (choice as { delta?: Record<string, unknown> } | null)?.delta;
    if (typeof delta !== "object" || delta === null) continue;
    if (typeof delta.content === "string") text += delta.content;
    if (typeof delta.refusal === "string") text += delta.refusal;
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)
          ?.function;
        if (typeof fn?.name === "string") text += fn.name;
        if (typeof fn?.arguments === "string") text += fn.arguments;
      }
    }
  }
  return text;
}

/** A raw chunk's object; `{}` when it is not JSON (it is passed on as is, and counts nothing). */
function parseChunk(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

function hasUsage(chunk: Record<string, unknown>): boolean {
  return typeof chunk.usage === "object" && chunk.usage !== null;
}

/**
 * Wraps a translator so that a stream ending without usage gets an estimated usage chunk.
 *
 * @param promptTokens the prompt's estimate (the one token limits reserved).
 */
export function withEstimatedUsage(
  translator: StreamTranslator,
  promptTokens: number,
): StreamTranslator {
  let text = "";
  let reported = false;
  let identity: Identity | undefined;
  const see = (chunk: Record<string, unknown>) => {
    identity ??= { id: chunk.id, created: chunk.created, model: chunk.model };
    if (hasUsage(chunk)) reported = true;
    text += chunkText(chunk);
  };
  const wrap = (emit: Emit): Emit => (item: StreamItem) => {
    if (item.type === "chunk") see(item.chunk);
    if (item.type === "raw") see(parseChunk(item.raw));
    if (item.type === "done" && !reported) {
      const completion = estimateTokens(text);
      emit({
        type: "chunk",
        chunk: {
          id: identity?.id,
          object: "chat.completion.chunk",
          created: identity?.created,
          model: identity?.model,
          choices: [],
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completion,
            total_tokens: promptTokens + completion,
          },
        },
      });
    }
    emit(item);
  };
  return {
    event: (event, emit) => translator.event(event, wrap(emit)),
    end: (emit) => translator.end(wrap(emit)),
  };
}
