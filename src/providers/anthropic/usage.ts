/** Anthropic usage → OpenAI usage (FACTS.md T31), for responses and streams. */
import type { Usage } from "../../openai/schema.ts";

/** The usage counts the mapping reads (a parsed `AnthropicUsageSchema`, or a stream's totals). */
export interface AnthropicUsageCounts {
  readonly input_tokens?: number | null | undefined;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens?: number | null | undefined;
  readonly cache_read_input_tokens?: number | null | undefined;
}

/** OpenAI usage with the cached share of the prompt. */
export interface AnthropicOpenAIUsage extends Usage {
  prompt_tokens_details: { cached_tokens: number };
}

/**
 * Maps usage. Anthropic's `input_tokens` excludes cache reads and writes, OpenAI's
 * `prompt_tokens` includes them: `prompt_tokens = input + cache_read + cache_creation`, and the
 * cache reads are also shown as `prompt_tokens_details.cached_tokens` (a subset, as on OpenAI).
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
  const promptTokens = (usage.input_tokens ?? 0) + cacheRead +
    (usage.cache_creation_input_tokens ?? 0);
  const completionTokens = usage.output_tokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}
