/**
 * startPriceUpdates(): fresher price data through the package's own update mechanism, fetched in
 * the background at start and once per interval (when a request is priced after it), failures
 * logged with the prices in use kept. The package's data is global: this file is the only one
 * that changes it (each test file runs in its own isolate).
 */
import assert from "node:assert/strict";
import { findProvider, REMOTE_DATA_JSON_URL } from "@pydantic/genai-prices";
import { createLogger } from "../../src/log.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import { startPriceUpdates } from "../../src/spend/price_updates.ts";
import type { PricedTarget } from "../../src/spend/pricing.ts";

const GPT_4O: PricedTarget = {
  providerKind: "openai",
  providerName: "openai",
  upstreamModel: "gpt-4o",
  publicModel: "gpt-4o",
};
const CLAUDE: PricedTarget = {
  ...GPT_4O,
  providerKind: "anthropic",
  upstreamModel: "claude-sonnet-4-5",
};
const USAGE = { prompt_tokens: 1000, completion_tokens: 100 };

/** The package's OpenAI provider with gpt-4o at $100 / $200 per million tokens. */
function fresherData(): unknown[] {
  const openai = findProvider({ providerId: "openai" });
  assert.ok(openai !== undefined);
  return [{
    ...openai,
    models: openai.models.map((model) =>
      model.id === "gpt-4o" ? { ...model, prices: { input_mtok: 100, output_mtok: 200 } } : model
    ),
  }];
}

Deno.test("startPriceUpdates() keeps the prices in use on failure, then takes fresher data", async () => {
  let clock = 1_000_000;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger((line) => void lines.push(JSON.parse(line)), () => clock);
  const answers: (() => Response | Promise<Response>)[] = [
    () => new Response("unavailable", { status: 503 }),
    () => Response.json({ not: "a list" }),
    () => Response.json(fresherData()),
  ];
  const fetched: string[] = [];
  const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    fetched.push(String(input));
    assert.ok(init?.signal instanceof AbortSignal, "the fetch has a time limit");
    const answer = answers.shift();
    if (answer === undefined) return Promise.reject(new TypeError("error sending request"));
    return Promise.resolve(answer());
  };
  const pricing = createPricing({ now: () => clock });
  let updated = Promise.withResolvers<void>();
  const first = startPriceUpdates({
    fetch,
    now: () => clock,
    log,
    intervalMs: 60_000,
    onUpdated: () => {
      pricing.clearCache();
      updated.resolve();
    },
  });
  const shipped = pricing.cost(GPT_4O, USAGE);
  assert.deepEqual(shipped, { microUsd: 1000 * 2.5 + 100 * 10, unpriced: false });

  // The first fetch fails: logged, and the shipped prices stay.
  await first;
  assert.deepEqual(fetched, [REMOTE_DATA_JSON_URL]);
  assert.equal(lines.at(-1)?.level, "warn");
  assert.match(String(lines.at(-1)?.msg), /price data update failed/);
  assert.equal(lines.at(-1)?.error, "HTTP 503");
  assert.deepEqual(pricing.cost(GPT_4O, USAGE), shipped);

  // Pricing before the interval is over fetches nothing.
  clock += 59_000;
  pricing.cost(GPT_4O, USAGE);
  assert.equal(fetched.length, 1);

  // After it, pricing a request starts the next fetch in the background (never waited for).
  clock += 1_000;
  assert.deepEqual(pricing.cost(GPT_4O, USAGE), shipped);
  assert.equal(fetched.length, 2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.match(String(lines.at(-1)?.error), /not a list of providers/);
  assert.deepEqual(pricing.cost(GPT_4O, USAGE), shipped);

  // The third fetch brings fresher data: new prices once it is in force.
  clock += 60_000;
  pricing.cost(GPT_4O, USAGE);
  await updated.promise;
  assert.equal(fetched.length, 3);
  assert.deepEqual(lines.at(-1), {
    ...lines.at(-1),
    level: "info",
    msg: "price data updated",
    providers: 1,
  });
  assert.deepEqual(pricing.cost(GPT_4O, USAGE), {
    microUsd: 1000 * 100 + 100 * 200,
    unpriced: false,
  });
  // The fresher data is the whole data: a provider it lacks has no prices now.
  assert.deepEqual(pricing.cost(CLAUDE, USAGE), { microUsd: 0, unpriced: true });
  updated = Promise.withResolvers<void>();

  // A network failure is logged too.
  clock += 60_000;
  pricing.cost(GPT_4O, USAGE);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(fetched.length, 4);
  assert.equal(lines.at(-1)?.level, "warn");
  assert.deepEqual(pricing.cost(GPT_4O, USAGE), {
    microUsd: 1000 * 100 + 100 * 200,
    unpriced: false,
  });
});
