/** The cost of a usage at a routing file's prices (`"prices": {…}`). Pure. */
import type { BilledUsage, Prices } from "./pricing.ts";

function count(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * The cost in micro-USD, unrounded: a token at `P` dollars per million tokens costs `P`
 * micro-dollars. Cache reads and writes are prompt tokens priced at their own rates (default:
 * the input price), the rest of the prompt at the input price; the whole completion, reasoning
 * included, at the output price (as OpenAI, Anthropic and Gemini bill reasoning).
 *
 * @example Usage
 * ```ts
 * import { costAtPrices } from "./file_prices.ts";
 * costAtPrices(
 *   { input_per_mtok: 2, output_per_mtok: 8, cache_read_per_mtok: 0.5 },
 *   { prompt_tokens: 1000, completion_tokens: 100, cache_read_tokens: 600 },
 * ); // 400 * 2 + 600 * 0.5 + 100 * 8 = 1900 (micro-USD)
 * ```
 */
export function costAtPrices(prices: Prices, usage: BilledUsage): number {
  const prompt = count(usage.prompt_tokens);
  const cacheRead = Math.min(count(usage.cache_read_tokens), prompt);
  const cacheWrite = Math.min(count(usage.cache_write_tokens), prompt - cacheRead);
  const input = prompt - cacheRead - cacheWrite;
  return input * prices.input_per_mtok +
    cacheRead * (prices.cache_read_per_mtok ?? prices.input_per_mtok) +
    cacheWrite * (prices.cache_write_per_mtok ?? prices.input_per_mtok) +
    count(usage.completion_tokens) * prices.output_per_mtok;
}
