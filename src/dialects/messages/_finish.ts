/** How an answer ended and what it cost, in Messages terms; shared by the answer and the stream. */
import type { Usage } from "../../openai/schema.ts";

/** The `stop_reason` values a translated answer can have. */
export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/** Messages `usage`. `input_tokens` excludes cache reads, as Anthropic counts it. */
export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** What the answer showed, besides its finish reason. */
export interface FinishFacts {
  readonly finishReason: unknown;
  readonly toolUse: boolean;
  readonly refusal: boolean;
  /** The requested stop sequence that was hit, when one can be told (see {@linkcode matchedStop}). */
  readonly stopSequence: string | undefined;
}

/**
 * `stop_reason` and `stop_sequence` from OpenAI's `finish_reason`: `length` → `max_tokens`,
 * `content_filter` → `refusal`, `tool_calls` → `tool_use`. `stop` (or none) is `tool_use` when
 * the answer has tool calls (some servers say `stop` then), `refusal` when it has a refusal,
 * `stop_sequence` when a requested stop sequence can be told, else `end_turn`.
 */
export function toStopReason(
  facts: FinishFacts,
): { stop_reason: StopReason; stop_sequence: string | null } {
  const plain = (stop_reason: StopReason) => ({ stop_reason, stop_sequence: null });
  switch (facts.finishReason) {
    case "length":
      return plain("max_tokens");
    case "content_filter":
      return plain("refusal");
    case "tool_calls":
    case "function_call":
      return plain("tool_use");
  }
  if (facts.toolUse) return plain("tool_use");
  if (facts.refusal) return plain("refusal");
  if (facts.stopSequence !== undefined) {
    return { stop_reason: "stop_sequence", stop_sequence: facts.stopSequence };
  }
  return plain("end_turn");
}

/**
 * The requested stop sequence that ended an answer, when it can be told. OpenAI's `stop` does
 * not say whether a stop sequence or the model's own end stopped it, nor which sequence, and
 * leaves the sequence out of the text. So a sequence is reported only when the provider names
 * it (vLLM's `stop_reason` extension on the choice) or the text ends with it (servers that keep
 * the matched text); otherwise the answer reads `end_turn`.
 */
export function matchedStop(
  stopSequences: readonly string[],
  providerStop: unknown,
  textTail: string,
): string | undefined {
  if (typeof providerStop === "string" && stopSequences.includes(providerStop)) {
    return providerStop;
  }
  let best: string | undefined;
  for (const stop of stopSequences) {
    if (stop !== "" && textTail.endsWith(stop) && stop.length > (best?.length ?? 0)) best = stop;
  }
  return best;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** OpenAI usage with the prompt's cache reads and writes. */
export type CachedUsage = Usage & { cached_tokens: number; cache_write_tokens: number };

/** OpenAI's usage object of a chunk or answer, when it has one. */
export function readUsage(value: unknown): CachedUsage | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  if (typeof usage.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") {
    return undefined;
  }
  const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined;
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  const cached = Math.min(count(details?.cached_tokens), prompt);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: typeof usage.total_tokens === "number" ? usage.total_tokens : prompt + completion,
    cached_tokens: cached,
    cache_write_tokens: Math.min(count(details?.cache_write_tokens), prompt - cached),
  };
}

/**
 * Messages usage from OpenAI's: `input_tokens = prompt_tokens − cached_tokens −
 * cache_write_tokens`, `cache_read_input_tokens = cached_tokens`, `cache_creation_input_tokens =
 * cache_write_tokens` (0 unless the provider reports cache writes, as OpenRouter does),
 * `output_tokens = completion_tokens`.
 */
export function toMessagesUsage(
  usage: CachedUsage | undefined,
  fallbackInput = 0,
): MessagesUsage {
  if (usage === undefined) {
    return {
      input_tokens: fallbackInput,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    };
  }
  return {
    input_tokens: usage.prompt_tokens - usage.cached_tokens - usage.cache_write_tokens,
    output_tokens: usage.completion_tokens,
    cache_creation_input_tokens: usage.cache_write_tokens,
    cache_read_input_tokens: usage.cached_tokens,
  };
}

/** The reasoning text a provider put on a message or delta (`reasoning_content` or `reasoning`). */
export function reasoningOf(message: Record<string, unknown>): string {
  const value = message.reasoning_content ?? message.reasoning;
  return typeof value === "string" ? value : "";
}
