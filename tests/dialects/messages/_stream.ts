/** Builders of canonical stream items and readers of Messages SSE text, for the stream tests. */
import type { StreamItem } from "../../../src/providers/mod.ts";
import { createSseDecoder } from "../../../src/sse.ts";

type Json = Record<string, unknown>;

/** A chunk item with one choice, as OpenAI sends it. */
export function delta(value: Json, finish: string | null = null, extra: Json = {}): StreamItem {
  return {
    type: "chunk",
    chunk: {
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o",
      choices: [{ index: 0, delta: value, logprobs: null, finish_reason: finish }],
      ...extra,
    },
  };
}

/** A tool-call argument piece (`id` and `name` on a call's first piece). */
export function toolPiece(index: number, args: string, id?: string, name?: string): StreamItem {
  const call: Json = { index, function: { arguments: args, ...(name ? { name } : {}) } };
  if (id !== undefined) Object.assign(call, { id, type: "function" });
  return delta({ tool_calls: [call] });
}

/** OpenAI's final usage chunk (`choices: []`). */
export function usage(prompt: number, completion: number, cached?: number): StreamItem {
  const details = cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } };
  return {
    type: "chunk",
    chunk: {
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o",
      choices: [],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        ...details,
      },
    },
  };
}

/** One SSE event of the output: its `event:` name and parsed data. */
export interface Event {
  readonly event: string | undefined;
  readonly data: Json;
}

/** Parses SSE text into events (with the gateway's own SSE decoder). */
export function eventsOf(text: string): Event[] {
  const events: Event[] = [];
  const decoder = createSseDecoder(
    (event) => events.push({ event: event.event, data: JSON.parse(event.data) }),
    (message) => {
      throw new Error(message);
    },
  );
  decoder.feed(new TextEncoder().encode(text));
  decoder.end();
  return events;
}

/** The events as `name` or `name:index` or `name:index:deltaType`, for sequence checks. */
export function outline(events: readonly Event[]): string[] {
  return events.map(({ event, data }) => {
    const parts = [event ?? "?"];
    if (typeof data.index === "number") parts.push(String(data.index));
    const d = data.delta as Json | undefined;
    if (event === "content_block_delta" && typeof d?.type === "string") parts.push(d.type);
    const block = data.content_block as Json | undefined;
    if (typeof block?.type === "string") parts.push(block.type);
    return parts.join(":");
  });
}
