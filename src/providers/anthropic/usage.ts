/** Anthropic usage → OpenAI usage (FACTS.md T31), for responses, streams and records. */
import type { Usage } from "../../openai/schema.ts";
import { type RecordedUsage, withBilledDetails } from "../../openai/usage.ts";

/** The usage counts the mapping reads (a parsed `AnthropicUsageSchema`, or a stream's totals). */
export interface AnthropicUsageCounts {
  readonly input_tokens?: number | null | undefined;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens?: number | null | undefined;
  readonly cache_read_input_tokens?: number | null | undefined;
}

/** OpenAI usage with the cached share of the prompt (and the cache writes, when any). */
export interface AnthropicOpenAIUsage extends Usage {
  prompt_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
}

/**
 * Maps usage. Anthropic's `input_tokens` excludes cache reads and writes, OpenAI's
 * `prompt_tokens` includes them: `prompt_tokens = input + cache_read + cache_creation`, and the
 * cache reads are also shown as `prompt_tokens_details.cached_tokens` (a subset, as on OpenAI).
 * Cache writes, which Anthropic bills at their own price, are shown as
 * `prompt_tokens_details.cache_write_tokens` when there are any (OpenRouter's name for them).
 *
 * @example Usage
 * ```ts
 * import { fromAnthropicUsage } from "./usage.ts";
 * fromAnthropicUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100 });
 * // { prompt_tokens: 110, completion_tokens: 5, total_tokens: 115,
 * //   prompt_tokens_details: { cached_tokens: 100 } }
 * ```
 */
export function fromAnthropicUsage(usage: AnthropicUsageCounts): AnthropicOpenAIUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const promptTokens = (usage.input_tokens ?? 0) + cacheRead + cacheWrite;
  const completionTokens = usage.output_tokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: cacheWrite > 0
      ? { cached_tokens: cacheRead, cache_write_tokens: cacheWrite }
      : { cached_tokens: cacheRead },
  };
}

/**
 * The usage a record keeps of Anthropic's counts: prompt tokens as {@linkcode fromAnthropicUsage}
 * counts them, with the cache reads and writes (priced apart) as its shares.
 *
 * @example Usage
 * ```ts
 * import { recordedAnthropicUsage } from "./usage.ts";
 * recordedAnthropicUsage({
 *   input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100,
 *   cache_creation_input_tokens: 40,
 * });
 * // { prompt_tokens: 150, completion_tokens: 5, total_tokens: 155,
 * //   cache_read_tokens: 100, cache_write_tokens: 40 }
 * ```
 */
export function recordedAnthropicUsage(usage: AnthropicUsageCounts): RecordedUsage {
  return withBilledDetails(fromAnthropicUsage(usage), {
    cacheRead: usage.cache_read_input_tokens ?? 0,
    cacheWrite: usage.cache_creation_input_tokens ?? 0,
  });
}
