/**
 * What spend tracking and budgets agree on: money as integer millionths of a US dollar, the
 * usage a request is priced from, and the {@linkcode Pricing} that turns usage into cost.
 *
 * Costs are integers so that reservations and settlements add up exactly, in process and in
 * Redis (`INCRBY`), and a budget "to the cent" holds over thousands of requests.
 */

/** Money in millionths of a US dollar (an integer). */
export type MicroUsd = number;

/** Micro-USD per US dollar. */
export const MICRO_USD_PER_USD = 1_000_000;

/** Dollars (as configured: `100`, `0.25`) to micro-USD, rounded to the nearest micro-dollar. */
export function toMicroUsd(usd: number): MicroUsd {
  return Math.round(usd * MICRO_USD_PER_USD);
}

/** Micro-USD to dollars, for headers, logs and records. */
export function toUsd(micro: MicroUsd): number {
  return micro / MICRO_USD_PER_USD;
}

/**
 * Token counts a provider bills separately, as reported (or, where a provider reports none,
 * estimated). `prompt_tokens` includes the cached ones and `completion_tokens` the reasoning
 * ones, as in OpenAI's usage; the details say how many of them are priced differently.
 */
export interface BilledUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** Prompt tokens read from the provider's cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`, Gemini `cachedContentTokenCount`). */
  readonly cache_read_tokens?: number;
  /** Prompt tokens written to the cache (Anthropic `cache_creation_input_tokens`). */
  readonly cache_write_tokens?: number;
  /** Completion tokens spent reasoning (OpenAI `reasoning_tokens`, Gemini `thoughtsTokenCount`). */
  readonly reasoning_tokens?: number;
}

/** Prices per million tokens, as a routing file may set them (`"prices": {…}`). */
export interface Prices {
  readonly input_per_mtok: number;
  readonly output_per_mtok: number;
  /** Cached input read; default: `input_per_mtok`. */
  readonly cache_read_per_mtok?: number;
  /** Cached input written; default: `input_per_mtok`. */
  readonly cache_write_per_mtok?: number;
}

/** Where a request was (or may be) served: what its price depends on. */
export interface PricedTarget {
  /** The provider's kind (`openai`, `azure`, `anthropic`, `gemini`, `openai-compatible`). */
  readonly providerKind: string;
  /** The provider's name (built-in or the routing file's). */
  readonly providerName: string;
  /** The model name the provider knows (a deployment for Azure). */
  readonly upstreamModel: string;
  /** The public name the client sent. */
  readonly publicModel: string;
  /** The routing file's prices for this target or its public model, which win over the package's. */
  readonly prices?: Prices | undefined;
}

/** A request's cost, or zero with `unpriced` when no price is known (never guessed). */
export interface RequestCost {
  readonly microUsd: MicroUsd;
  readonly unpriced: boolean;
}

/** Prices requests. Pure apart from the price data it was built with. */
export interface Pricing {
  /** The cost of a finished request at the target that served it. */
  cost(target: PricedTarget, usage: BilledUsage): RequestCost;
  /**
   * The most a request may cost before it is sent: `promptTokens` (the estimate) plus
   * `outputTokens` (its output limit) at the dearest of the targets it may be served by.
   */
  worstCase(
    targets: readonly PricedTarget[],
    promptTokens: number,
    outputTokens: number,
  ): RequestCost;
  /**
   * Loads what pricing needs (price data loaded lazily): a promise to wait for before the first
   * `cost` or `worstCase`, or undefined once they can be called.
   */
  prepare?(): Promise<void> | undefined;
}
