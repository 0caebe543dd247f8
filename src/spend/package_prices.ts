/**
 * Prices from the maintained `@pydantic/genai-prices` package: the data it ships (or, when the
 * operator turns updates on, the fresher data it was given: `price_updates.ts`), with its model
 * matching, dated prices and tiers. Each provider and model is looked up once; later requests
 * are priced against the model found, without searching the package's data again.
 */
import { calcPrice, type Provider } from "@pydantic/genai-prices";
import type { BilledUsage } from "./pricing.ts";

/**
 * The package's provider for each provider kind priced from it. An `openai-compatible` server
 * is not here: it may serve anything, so it is priced only by the routing file.
 */
export const PACKAGE_PROVIDER_IDS: Readonly<Record<string, string>> = {
  openai: "openai",
  azure: "azure",
  anthropic: "anthropic",
  gemini: "google",
};

/** Prices of the package, looked up once per provider and model. */
export interface PackagePrices {
  /**
   * The cost in US dollars of `usage` with `model` at the package's provider `providerId`, at
   * time `at` (prices may change on a date); undefined when the package knows no price for it.
   */
  cost(providerId: string, model: string, usage: BilledUsage, at: Date): number | undefined;
  /** Forgets the models looked up (the package's data changed). */
  clear(): void;
}

function count(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * The usage as the package takes it: `input_tokens` is the whole prompt and the cache reads and
 * writes are shares of it; `output_tokens` the whole completion and the reasoning a share of it
 * (priced apart only where a model has a reasoning price).
 */
function packageUsage(usage: BilledUsage): Record<string, number> {
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  const cacheRead = Math.min(count(usage.cache_read_tokens), input);
  return {
    input_tokens: input,
    cache_read_tokens: cacheRead,
    cache_write_tokens: Math.min(count(usage.cache_write_tokens), input - cacheRead),
    output_tokens: output,
    output_reasoning_tokens: Math.min(count(usage.reasoning_tokens), output),
  };
}

/**
 * Creates the lookup. At most `maxModels` provider and model pairs are remembered (the names
 * come from clients, through `provider/model`); past that the memory starts afresh.
 */
export function createPackagePrices(maxModels = 4096): PackagePrices {
  /** `providerId \0 model` → a provider holding only the model found, or null for none. */
  const found = new Map<string, Provider | null>();
  const lookup = (providerId: string, model: string, at: Date): Provider | null => {
    const key = `${providerId}\u0000${model}`;
    let provider = found.get(key);
    if (provider !== undefined) return provider;
    provider = null;
    try {
      const result = calcPrice({}, model, { providerId, timestamp: at });
      if (result !== null) {
        provider = {
          id: result.provider.id,
          name: result.provider.name,
          api_pattern: result.provider.api_pattern,
          models: [result.model],
        };
      }
    } catch {
      // A model whose price data the package cannot use has no known price.
    }
    if (found.size >= maxModels) found.clear();
    found.set(key, provider);
    return provider;
  };
  return {
    cost(providerId, model, usage, at) {
      const provider = lookup(providerId, model, at);
      if (provider === null) return undefined;
      try {
        return calcPrice(packageUsage(usage), model, { provider, timestamp: at })?.total_price;
      } catch {
        return undefined;
      }
    },
    clear() {
      found.clear();
    },
  };
}
