/**
 * Pricing whose price data is loaded on first need rather than at start: the package's data
 * costs about 45 ms of start-up and 8 MiB of memory, which a gateway that serves only `/health`
 * (or has not served a model request yet) need not pay. The server waits for
 * {@linkcode Pricing.prepare} before the first request that may be priced.
 */
import type { Pricing } from "./pricing.ts";

/** A {@linkcode Pricing} over one loaded later; `current()` is it once loaded. */
export interface LazyPricing extends Pricing {
  prepare(): Promise<void> | undefined;
  /** The loaded pricing, or undefined before. */
  current(): Pricing | undefined;
}

/** Wraps `load`, called once, at the first {@linkcode Pricing.prepare}. */
export function createLazyPricing(load: () => Promise<Pricing>): LazyPricing {
  let loaded: Pricing | undefined;
  let loading: Promise<void> | undefined;
  const inner = (): Pricing => {
    if (loaded === undefined) throw new Error("prices are not loaded yet: await prepare() first");
    return loaded;
  };
  return {
    cost: (target, usage) => inner().cost(target, usage),
    worstCase: (targets, promptTokens, outputTokens) =>
      inner().worstCase(targets, promptTokens, outputTokens),
    prepare() {
      if (loaded !== undefined) return undefined;
      loading ??= load().then((pricing) => void (loaded = pricing));
      return loading;
    },
    current: () => loaded,
  };
}
