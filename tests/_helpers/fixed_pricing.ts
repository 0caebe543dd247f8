/**
 * A real, simple {@linkcode Pricing} for tests: fixed prices per model (by the upstream model
 * name, else the public name), in US dollars per million tokens. Input and output only: cached
 * tokens at the input price, reasoning tokens at the output price. A model without a price is
 * unpriced and costs 0. Integer arithmetic: `tokens × price per Mtok` is micro-USD exactly when
 * the prices are whole numbers.
 */
import type {
  BilledUsage,
  PricedTarget,
  Prices,
  Pricing,
  RequestCost,
} from "../../src/spend/pricing.ts";

/** Prices by model name. */
export type PriceTable = Readonly<Record<string, Prices>>;

function pricesOf(table: PriceTable, target: PricedTarget): Prices | undefined {
  return target.prices ?? table[target.upstreamModel] ?? table[target.publicModel];
}

function priced(prices: Prices, prompt: number, output: number): number {
  return Math.round(prompt * prices.input_per_mtok + output * prices.output_per_mtok);
}

/** A pricing with the given table, e.g. `fixedPricing({ "gpt-4o": { input_per_mtok: 0, output_per_mtok: 10 } })`. */
export function fixedPricing(table: PriceTable): Pricing {
  return {
    cost(target: PricedTarget, usage: BilledUsage): RequestCost {
      const prices = pricesOf(table, target);
      if (prices === undefined) return { microUsd: 0, unpriced: true };
      return {
        microUsd: priced(prices, usage.prompt_tokens, usage.completion_tokens),
        unpriced: false,
      };
    },
    worstCase(targets, promptTokens, outputTokens): RequestCost {
      let worst = 0;
      let unpriced = targets.length > 0;
      for (const target of targets) {
        const prices = pricesOf(table, target);
        if (prices === undefined) continue;
        unpriced = false;
        worst = Math.max(worst, priced(prices, promptTokens, outputTokens));
      }
      return { microUsd: worst, unpriced };
    },
  };
}
