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

/** Tokens per unit when the linear prices are measured (below every tier's start). */
const UNIT = 1_000;

/**
 * A model's prices as dollars per token of each kind, measured through the package itself so
 * that they mean what it means; valid while the prompt is under `below` (the first tier).
 */
interface LinearPrices {
  readonly perRequest: number;
  readonly input: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
  readonly output: number;
  readonly reasoning: number;
  readonly below: number;
}

/** What the package knows of one provider and model at one date. */
interface Found {
  readonly provider: Provider;
  readonly linear: LinearPrices | undefined;
  /** When the package itself last priced a request of it (ms since the epoch). */
  calculatedAt: number;
}

/**
 * How often a model's requests still go through the package's own calculation: that is what
 * lets the package's update hook (`price_updates.ts`) see time pass and fetch fresher data.
 */
const PACKAGE_CALL_INTERVAL_MS = 1_000;

function measureLinear(provider: Provider, model: string, at: Date): LinearPrices | undefined {
  const starts = [...JSON.stringify(provider.models[0]?.prices ?? {}).matchAll(/"start":(\d+)/g)]
    .map((match) => Number(match[1]));
  const below = Math.min(Infinity, ...starts);
  if (below <= UNIT) return undefined;
  const total = (usage: Record<string, number>) =>
    calcPrice(usage, model, { provider, timestamp: at })?.total_price;
  const base = total({});
  const parts = [
    total({ input_tokens: UNIT }),
    total({ input_tokens: UNIT, cache_read_tokens: UNIT }),
    total({ input_tokens: UNIT, cache_write_tokens: UNIT }),
    total({ output_tokens: UNIT }),
    total({ output_tokens: UNIT, output_reasoning_tokens: UNIT }),
  ];
  if (base === undefined || parts.some((part) => part === undefined)) return undefined;
  const [input, cacheRead, cacheWrite, output, reasoning] = parts.map((part) =>
    ((part as number) - base) / UNIT
  ) as [number, number, number, number, number];
  return { perRequest: base, input, cacheRead, cacheWrite, output, reasoning, below };
}

/** The cost of `usage` (the package's shape) at linear prices. */
function linearCost(prices: LinearPrices, usage: Record<string, number>): number {
  const input = usage.input_tokens ?? 0;
  const read = usage.cache_read_tokens ?? 0;
  const write = usage.cache_write_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  const reasoning = usage.output_reasoning_tokens ?? 0;
  return prices.perRequest + prices.input * (input - read - write) + prices.cacheRead * read +
    prices.cacheWrite * write + prices.output * (output - reasoning) +
    prices.reasoning * reasoning;
}

const DAY_MS = 86_400_000;

/**
 * Creates the lookup. At most `maxModels` provider and model pairs are remembered (the names
 * come from clients, through `provider/model`); past that the memory starts afresh. A model's
 * prices are measured once a day (prices may change on a date): below its first tier a request
 * is priced by a few multiplications; above it, for prices that are not linear, and once a
 * second (so the package's update hook runs), by the package's own calculation (about 20 µs).
 */
export function createPackagePrices(maxModels = 4096): PackagePrices {
  /** `providerId \0 model \0 day` → what the package knows, or null for no price. */
  const found = new Map<string, Found | null>();
  const lookup = (providerId: string, model: string, at: Date): Found | null => {
    const key = `${providerId}\u0000${model}\u0000${Math.floor(at.getTime() / DAY_MS)}`;
    let entry = found.get(key);
    if (entry !== undefined) return entry;
    entry = null;
    try {
      const result = calcPrice({}, model, { providerId, timestamp: at });
      if (result !== null) {
        const provider: Provider = {
          id: result.provider.id,
          name: result.provider.name,
          api_pattern: result.provider.api_pattern,
          models: [result.model],
        };
        entry = { provider, linear: measureLinear(provider, model, at), calculatedAt: -Infinity };
      }
    } catch {
      // A model whose price data the package cannot use has no known price.
    }
    if (found.size >= maxModels) found.clear();
    found.set(key, entry);
    return entry;
  };
  return {
    cost(providerId, model, usage, at) {
      const entry = lookup(providerId, model, at);
      if (entry === null) return undefined;
      const asked = packageUsage(usage);
      const { linear } = entry;
      const time = at.getTime();
      if (
        linear !== undefined && (asked.input_tokens ?? 0) < linear.below &&
        time - entry.calculatedAt < PACKAGE_CALL_INTERVAL_MS
      ) {
        return linearCost(linear, asked);
      }
      entry.calculatedAt = time;
      try {
        return calcPrice(asked, model, { provider: entry.provider, timestamp: at })?.total_price;
      } catch {
        return undefined;
      }
    },
    clear() {
      found.clear();
    },
  };
}
