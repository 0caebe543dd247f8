/** What a route target's price depends on, as {@linkcode PricedTarget}. Pure. */
import type { ConfiguredProvider, RouteTarget } from "../routing/table.ts";
import type { PricedTarget } from "./pricing.ts";

/**
 * The kind a provider is priced as: the built-in `openai` provider is OpenAI (its kind is
 * `openai-compatible`, since it speaks that format, but it is priced at OpenAI's prices, even
 * with `OPENAI_BASE_URL` set); any other provider by its kind.
 */
export function pricingKind(provider: Pick<ConfiguredProvider, "name" | "kind">): string {
  return provider.kind === "openai-compatible" && provider.name === "openai"
    ? "openai"
    : provider.kind;
}

/**
 * The priced target of a route target, for a request that asked for `publicModel`: its
 * provider, upstream model, and the routing file's prices (the target's, else its model's).
 *
 * @example Usage
 * ```ts
 * import { toPricedTarget } from "./priced_target.ts";
 * import { buildRouting } from "../routing/load.ts";
 * import { parseConfig } from "../config.ts";
 * const routing = buildRouting(parseConfig({ OPENAI_API_KEY: "sk-test" }));
 * const provider = routing.providers.get("openai");
 * if (provider !== undefined) {
 *   toPricedTarget({ provider, model: "gpt-4o", weight: 1, key: "openai/gpt-4o" }, "gpt-4o");
 *   // { providerKind: "openai", providerName: "openai", upstreamModel: "gpt-4o", … }
 * }
 * ```
 */
export function toPricedTarget(target: RouteTarget, publicModel: string): PricedTarget {
  return {
    providerKind: pricingKind(target.provider),
    providerName: target.provider.name,
    upstreamModel: target.model,
    publicModel,
    prices: target.prices,
  };
}
