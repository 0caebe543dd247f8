import assert from "node:assert/strict";
import { createLazyPricing } from "../../src/spend/lazy_pricing.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";

const GPT_4O = {
  providerKind: "openai",
  providerName: "openai",
  upstreamModel: "gpt-4o",
  publicModel: "gpt-4o",
} as const;

Deno.test("createLazyPricing() loads once, at the first prepare(), then prices like the pricing it loaded", async () => {
  let loads = 0;
  const lazy = createLazyPricing(() => {
    loads++;
    return Promise.resolve(createPricing({ now: () => Date.UTC(2026, 11, 1) }));
  });
  assert.equal(loads, 0, "nothing loaded at creation");
  assert.equal(lazy.current(), undefined);
  assert.throws(() => lazy.cost(GPT_4O, { prompt_tokens: 1, completion_tokens: 1 }), /not loaded/);
  const first = lazy.prepare();
  const second = lazy.prepare();
  assert.ok(first !== undefined && first === second, "one load for concurrent requests");
  await first;
  assert.equal(lazy.prepare(), undefined, "nothing to wait for once loaded");
  assert.equal(loads, 1);
  assert.deepEqual(lazy.cost(GPT_4O, { prompt_tokens: 1_000, completion_tokens: 100 }), {
    microUsd: 1_000 * 2.5 + 100 * 10,
    unpriced: false,
  });
  assert.deepEqual(lazy.worstCase([GPT_4O], 1_000, 100), { microUsd: 3_500, unpriced: false });
});
