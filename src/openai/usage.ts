/**
 * Usage as a request's record keeps it: OpenAI's three counts, and the shares of them that
 * providers bill at other prices (cache reads and writes, reasoning), read from the usage
 * objects every path sees (canonical answers, stream chunks, native pass-throughs). Pure.
 */
import type { Usage } from "./schema.ts";

/**
 * OpenAI's counts plus the billed details ({@linkcode BilledUsage} of src/spend/pricing.ts):
 * `prompt_tokens` includes the cached ones and `completion_tokens` the reasoning ones. A detail
 * is present only when it is above 0, so plain usage stays `{prompt, completion, total}`.
 */
export interface RecordedUsage extends Usage {
  /** Prompt tokens read from the provider's cache. */
  cache_read_tokens?: number;
  /** Prompt tokens written to the provider's cache (Anthropic's cache creation). */
  cache_write_tokens?: number;
  /** Completion tokens spent reasoning (thinking). */
  reasoning_tokens?: number;
}

/** The shares of a usage billed at other prices, as a provider reports them (absent: 0). */
export interface BilledDetails {
  readonly cacheRead?: number | undefined;
  readonly cacheWrite?: number | undefined;
  readonly reasoning?: number | undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/**
 * `usage` with its billed details, each kept within what it is a share of: cache reads and
 * writes together at most the prompt, reasoning at most the completion; zeros are left out.
 *
 * @example Usage
 * ```ts
 * import { withBilledDetails } from "./usage.ts";
 * withBilledDetails(
 *   { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
 *   { cacheRead: 80, reasoning: 30 },
 * );
 * // { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150,
 * //   cache_read_tokens: 80, reasoning_tokens: 30 }
 * ```
 */
export function withBilledDetails(usage: Usage, details: BilledDetails): RecordedUsage {
  const { prompt_tokens, completion_tokens, total_tokens } = usage;
  const out: RecordedUsage = { prompt_tokens, completion_tokens, total_tokens };
  const cacheRead = Math.min(count(details.cacheRead), count(prompt_tokens));
  const cacheWrite = Math.min(count(details.cacheWrite), count(prompt_tokens) - cacheRead);
  const reasoning = Math.min(count(details.reasoning), count(completion_tokens));
  if (cacheRead > 0) out.cache_read_tokens = cacheRead;
  if (cacheWrite > 0) out.cache_write_tokens = cacheWrite;
  if (reasoning > 0) out.reasoning_tokens = reasoning;
  return out;
}

/**
 * Reads an OpenAI usage object (a completion's, a chunk's): `prompt_tokens_details.cached_tokens`
 * as cache reads, `prompt_tokens_details.cache_write_tokens` as cache writes (the gateway's
 * Anthropic translation and OpenRouter report them so), `completion_tokens_details.reasoning_tokens`
 * as reasoning; `total_tokens` is `prompt + completion` when missing. Undefined when `value` has
 * no numeric `prompt_tokens` and `completion_tokens`.
 *
 * @example Usage
 * ```ts
 * import { readOpenAIUsage } from "./usage.ts";
 * readOpenAIUsage({
 *   prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200,
 *   prompt_tokens_details: { cached_tokens: 800 },
 *   completion_tokens_details: { reasoning_tokens: 150 },
 * });
 * // { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200,
 * //   cache_read_tokens: 800, reasoning_tokens: 150 }
 * ```
 */
export function readOpenAIUsage(value: unknown): RecordedUsage | undefined {
  const usage = record(value);
  if (usage === undefined) return undefined;
  const { prompt_tokens, completion_tokens, total_tokens } = usage;
  if (typeof prompt_tokens !== "number" || typeof completion_tokens !== "number") return undefined;
  const prompt = record(usage.prompt_tokens_details);
  const completion = record(usage.completion_tokens_details);
  return withBilledDetails({
    prompt_tokens,
    completion_tokens,
    total_tokens: typeof total_tokens === "number"
      ? total_tokens
      : prompt_tokens + completion_tokens,
  }, {
    cacheRead: count(prompt?.cached_tokens),
    cacheWrite: count(prompt?.cache_write_tokens),
    reasoning: count(completion?.reasoning_tokens),
  });
}
