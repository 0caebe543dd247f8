/**
 * The cost of each finished request, as the server records and logs it: the pricing's answer,
 * and a warning the first time a model turns out to have no known price (it then costs 0 and
 * its records say `unpriced`; the gateway never guesses a price).
 */
import type { Logger } from "../log.ts";
import type { BilledUsage, PricedTarget, Pricing, RequestCost } from "./pricing.ts";

/** Most unpriced models remembered as warned about (names may come from clients). */
const MAX_WARNED = 1_000;

/** Prices one finished request. */
export type CostMeter = (target: PricedTarget, usage: BilledUsage) => RequestCost;

/**
 * A meter over `pricing` that warns once per provider and upstream model without a price.
 *
 * @example Usage
 * ```ts
 * import { createCostMeter } from "./cost_meter.ts";
 * import { createPricing } from "./create_pricing.ts";
 * import { createLogger } from "../log.ts";
 * const meter = createCostMeter(createPricing({ now: Date.now }), createLogger(() => {}, Date.now));
 * meter(
 *   { providerKind: "openai-compatible", providerName: "local", upstreamModel: "llama3", publicModel: "llama" },
 *   { prompt_tokens: 10, completion_tokens: 5 },
 * ); // { microUsd: 0, unpriced: true }, and one warning for local/llama3
 * ```
 */
export function createCostMeter(pricing: Pricing, log: Logger): CostMeter {
  const warned = new Set<string>();
  return (target, usage) => {
    const cost = pricing.cost(target, usage);
    if (!cost.unpriced) return cost;
    const key = `${target.providerName}/${target.upstreamModel}`;
    if (!warned.has(key) && warned.size < MAX_WARNED) {
      warned.add(key);
      log.warn(
        "no price known for this model: its requests cost 0 and are recorded as unpriced " +
          '(set "prices" for it in the routing file)',
        {
          provider: target.providerName,
          upstream_model: target.upstreamModel,
          model: target.publicModel,
        },
      );
    }
    return cost;
  };
}
