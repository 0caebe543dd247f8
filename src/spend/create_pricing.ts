/**
 * `createPricing`: the {@linkcode Pricing} of the gateway. A target's price comes from the
 * routing file when it gives one (the target's `"prices"`, else its public model's), else from
 * `@pydantic/genai-prices` for the provider kinds it knows (OpenAI, Azure OpenAI, Anthropic,
 * Gemini). Anything else, an OpenAI-compatible server without prices in the routing file
 * included, is unpriced: it costs 0 and says so, never a guess.
 */
import { costAtPrices } from "./file_prices.ts";
import { createPackagePrices, PACKAGE_PROVIDER_IDS } from "./package_prices.ts";
import {
  type BilledUsage,
  type PricedTarget,
  type Pricing,
  type RequestCost,
  toMicroUsd,
} from "./pricing.ts";

/** Options of {@linkcode createPricing}. */
export interface PricingOptions {
  /** Milliseconds since the epoch: the package's prices may change on a date. */
  readonly now: () => number;
}

/** The gateway's pricing; `clearCache()` after the package's price data changed. */
export interface PackagePricing extends Pricing {
  /** Forgets the models looked up in the package, so the next requests use its new data. */
  clearCache(): void;
}

const UNPRICED: RequestCost = Object.freeze({ microUsd: 0, unpriced: true });

/**
 * Creates the pricing. Results are whole micro-dollars (rounded once per request).
 *
 * @example Usage
 * ```ts
 * import { createPricing } from "./create_pricing.ts";
 * const pricing = createPricing({ now: () => Date.UTC(2026, 0, 1) });
 * pricing.cost(
 *   { providerKind: "openai", providerName: "openai", upstreamModel: "gpt-4o", publicModel: "gpt-4o" },
 *   { prompt_tokens: 1000, completion_tokens: 100, cache_read_tokens: 500 },
 * ); // { microUsd: 2875, unpriced: false }: 500 × $2.50 + 500 × $1.25 + 100 × $10 per Mtok
 * ```
 */
export function createPricing(options: PricingOptions): PackagePricing {
  const packagePrices = createPackagePrices();
  const cost = (target: PricedTarget, usage: BilledUsage): RequestCost => {
    if (target.prices !== undefined) {
      return { microUsd: Math.round(costAtPrices(target.prices, usage)), unpriced: false };
    }
    const providerId = PACKAGE_PROVIDER_IDS[target.providerKind];
    if (providerId === undefined) return UNPRICED;
    const at = new Date(options.now());
    const usd = packagePrices.cost(providerId, target.upstreamModel, usage, at);
    return usd === undefined || !Number.isFinite(usd)
      ? UNPRICED
      : { microUsd: toMicroUsd(usd), unpriced: false };
  };
  return {
    cost,
    worstCase(targets, promptTokens, outputTokens) {
      const usage: BilledUsage = { prompt_tokens: promptTokens, completion_tokens: outputTokens };
      let worst: RequestCost = UNPRICED;
      for (const target of targets) {
        const each = cost(target, usage);
        if (!each.unpriced && (worst.unpriced || each.microUsd > worst.microUsd)) worst = each;
      }
      return worst;
    },
    clearCache() {
      packagePrices.clear();
    },
  };
}
