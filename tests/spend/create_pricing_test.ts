/**
 * createPricing(): the cost of each provider's usage shape at the package's prices (the version
 * pinned in deno.lock), tiers and dated prices, the routing file's prices winning, unpriced
 * targets, and worstCase over targets. Expected costs are worked out by hand from the package's
 * prices per million tokens: a token at $P per Mtok costs P micro-dollars.
 */
import assert from "node:assert/strict";
import { createPricing } from "../../src/spend/create_pricing.ts";
import type { BilledUsage, PricedTarget, Prices, RequestCost } from "../../src/spend/pricing.ts";

const NOW = Date.UTC(2026, 11, 1);

function target(
  providerKind: string,
  upstreamModel: string,
  prices?: Prices,
): PricedTarget {
  return {
    providerKind,
    providerName: providerKind,
    upstreamModel,
    publicModel: upstreamModel,
    ...(prices === undefined ? {} : { prices }),
  };
}

const priced = (microUsd: number): RequestCost => ({ microUsd, unpriced: false });
const UNPRICED: RequestCost = { microUsd: 0, unpriced: true };

Deno.test("createPricing() prices each provider's usage as it bills it", async (t) => {
  const pricing = createPricing({ now: () => NOW });
  const cases: [string, PricedTarget, BilledUsage, RequestCost][] = [
    [
      // gpt-4o: $2.50 input, $1.25 cached input, $10 output.
      "OpenAI gpt-4o: cached prompt tokens at the cached price",
      target("openai", "gpt-4o"),
      { prompt_tokens: 1000, completion_tokens: 100, cache_read_tokens: 400 },
      priced(600 * 2.5 + 400 * 1.25 + 100 * 10),
    ],
    [
      // o3-mini: $1.10 input, $4.40 output; reasoning tokens are output tokens, priced once.
      "OpenAI o3-mini: reasoning tokens are output tokens, counted once",
      target("openai", "o3-mini"),
      { prompt_tokens: 1000, completion_tokens: 300, reasoning_tokens: 200 },
      priced(1000 * 1.1 + 300 * 4.4),
    ],
    [
      "OpenAI o3-mini: the same usage without the reasoning detail costs the same",
      target("openai", "o3-mini"),
      { prompt_tokens: 1000, completion_tokens: 300 },
      priced(1000 * 1.1 + 300 * 4.4),
    ],
    [
      // claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
      "Anthropic claude-sonnet-4-5: cache reads and writes at their own prices",
      target("anthropic", "claude-sonnet-4-5"),
      {
        prompt_tokens: 1000,
        completion_tokens: 100,
        cache_read_tokens: 200,
        cache_write_tokens: 300,
      },
      priced(500 * 3 + 200 * 0.3 + 300 * 3.75 + 100 * 15),
    ],
    [
      "Anthropic: a dated model name is matched (claude-sonnet-4-5-20250929)",
      target("anthropic", "claude-sonnet-4-5-20250929"),
      { prompt_tokens: 1000, completion_tokens: 100 },
      priced(1000 * 3 + 100 * 15),
    ],
    [
      // gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output (thoughts included).
      "Gemini gemini-2.5-flash: cached content and thoughts",
      target("gemini", "gemini-2.5-flash"),
      {
        prompt_tokens: 1000,
        completion_tokens: 300,
        cache_read_tokens: 400,
        reasoning_tokens: 200,
      },
      priced(600 * 0.3 + 400 * 0.03 + 300 * 2.5),
    ],
    [
      "Azure: a deployment named like its model (gpt-4o)",
      target("azure", "gpt-4o"),
      { prompt_tokens: 1000, completion_tokens: 100, cache_read_tokens: 200 },
      priced(800 * 2.5 + 200 * 1.25 + 100 * 10),
    ],
    [
      "Azure: a deployment the package cannot know is unpriced",
      target("azure", "prod-deployment-7"),
      { prompt_tokens: 1000, completion_tokens: 100 },
      UNPRICED,
    ],
    [
      // text-embedding-3-small: $0.02 input.
      "OpenAI embeddings: input tokens only",
      target("openai", "text-embedding-3-small"),
      { prompt_tokens: 5000, completion_tokens: 0 },
      priced(5000 * 0.02),
    ],
    [
      "an OpenAI-compatible server is never priced from the package, even for gpt-4o",
      target("openai-compatible", "gpt-4o"),
      { prompt_tokens: 1000, completion_tokens: 100 },
      UNPRICED,
    ],
    [
      "a model the package does not know is unpriced",
      target("openai", "gpt-nonexistent-9"),
      { prompt_tokens: 1000, completion_tokens: 100 },
      UNPRICED,
    ],
    [
      "a cost is rounded to the micro-dollar (gpt-4o-mini: 7 × $0.15 → 1.05 µ$)",
      target("openai", "gpt-4o-mini"),
      { prompt_tokens: 7, completion_tokens: 0 },
      priced(1),
    ],
    [
      "no tokens cost nothing (and are priced)",
      target("anthropic", "claude-sonnet-4-5"),
      { prompt_tokens: 0, completion_tokens: 0 },
      priced(0),
    ],
  ];
  for (const [name, at, usage, expected] of cases) {
    await t.step(name, () => {
      const cost = pricing.cost(at, usage);
      assert.equal(cost.unpriced, expected.unpriced);
      assert.equal(cost.microUsd, Math.round(expected.microUsd));
      assert.ok(Number.isInteger(cost.microUsd));
    });
  }
});

Deno.test("createPricing() applies tiered prices by the whole prompt", async (t) => {
  const pricing = createPricing({ now: () => NOW });
  // gemini-2.5-pro: $1.25 / $10 up to 200,000 prompt tokens; $2.50 / $15 above.
  // claude-sonnet-4-5: $3 / $0.30 / $3.75 / $15 up to 200,000; $6 / $0.60 / $7.50 / $22.50 above.
  const cases: [string, PricedTarget, BilledUsage, number][] = [
    [
      "gemini-2.5-pro at 200,000 prompt tokens: base prices",
      target("gemini", "gemini-2.5-pro"),
      { prompt_tokens: 200_000, completion_tokens: 1000 },
      200_000 * 1.25 + 1000 * 10,
    ],
    [
      "gemini-2.5-pro above 200,000: every token at the higher tier, output too",
      target("gemini", "gemini-2.5-pro"),
      { prompt_tokens: 300_000, completion_tokens: 1000 },
      300_000 * 2.5 + 1000 * 15,
    ],
    [
      "claude-sonnet-4-5 above 200,000, cache tokens counted in the prompt",
      target("anthropic", "claude-sonnet-4-5"),
      {
        prompt_tokens: 250_000,
        completion_tokens: 1000,
        cache_read_tokens: 150_000,
        cache_write_tokens: 50_000,
      },
      50_000 * 6 + 150_000 * 0.6 + 50_000 * 7.5 + 1000 * 22.5,
    ],
  ];
  for (const [name, at, usage, micro] of cases) {
    await t.step(name, () => assert.deepEqual(pricing.cost(at, usage), priced(micro)));
  }
});

Deno.test("createPricing() prices at the time of the request (prices that change on a date)", () => {
  // claude-opus-4-6 was tiered above 200,000 prompt tokens until 2026-03-13, flat after.
  const usage = { prompt_tokens: 300_000, completion_tokens: 100 };
  const opus = target("anthropic", "claude-opus-4-6");
  const before = createPricing({ now: () => Date.UTC(2026, 0, 1) });
  const after = createPricing({ now: () => Date.UTC(2026, 3, 1) });
  assert.deepEqual(before.cost(opus, usage), priced(300_000 * 10 + 100 * 37.5));
  assert.deepEqual(after.cost(opus, usage), priced(300_000 * 5 + 100 * 25));
});

Deno.test("createPricing(): the routing file's prices win over the package's", async (t) => {
  const pricing = createPricing({ now: () => NOW });
  const usage: BilledUsage = {
    prompt_tokens: 1000,
    completion_tokens: 100,
    cache_read_tokens: 400,
    cache_write_tokens: 100,
    reasoning_tokens: 50,
  };
  const cases: [string, PricedTarget, number][] = [
    [
      "on a model the package knows",
      target("openai", "gpt-4o", { input_per_mtok: 1, output_per_mtok: 2 }),
      // Cache prices default to the input price; reasoning is output.
      1000 * 1 + 100 * 2,
    ],
    [
      "with cache prices",
      target("anthropic", "claude-sonnet-4-5", {
        input_per_mtok: 2,
        output_per_mtok: 10,
        cache_read_per_mtok: 0.2,
        cache_write_per_mtok: 2.5,
      }),
      500 * 2 + 400 * 0.2 + 100 * 2.5 + 100 * 10,
    ],
    [
      "an OpenAI-compatible server with prices",
      target("openai-compatible", "meta-llama/Llama-3.1-8B-Instruct", {
        input_per_mtok: 0.05,
        output_per_mtok: 0.1,
      }),
      1000 * 0.05 + 100 * 0.1,
    ],
    [
      "free by the routing file",
      target("openai-compatible", "local", { input_per_mtok: 0, output_per_mtok: 0 }),
      0,
    ],
  ];
  for (const [name, at, micro] of cases) {
    await t.step(name, () => assert.deepEqual(pricing.cost(at, usage), priced(Math.round(micro))));
  }
});

Deno.test("worstCase() is the dearest priced target; unpriced only when none is", async (t) => {
  const pricing = createPricing({ now: () => NOW });
  const mini = target("openai", "gpt-4o-mini"); // $0.15 / $0.60
  const gpt4o = target("openai", "gpt-4o"); // $2.50 / $10
  const local = target("openai-compatible", "llama");
  const cheapLocal = target("openai-compatible", "llama", {
    input_per_mtok: 1,
    output_per_mtok: 1,
  });
  const cases: [string, PricedTarget[], RequestCost][] = [
    ["one target", [mini], priced(10_000 * 0.15 + 2_000 * 0.6)],
    ["the dearer of two", [mini, gpt4o], priced(10_000 * 2.5 + 2_000 * 10)],
    ["an unpriced target does not hide the priced ones", [local, mini], priced(2_700)],
    ["routing-file prices count", [local, cheapLocal], priced(12_000)],
    ["none priced", [local, target("azure", "my-deployment")], UNPRICED],
    ["no targets", [], UNPRICED],
  ];
  for (const [name, targets, expected] of cases) {
    await t.step(name, () => assert.deepEqual(pricing.worstCase(targets, 10_000, 2_000), expected));
  }
  await t.step("tiers apply to the worst case's prompt", () => {
    const pro = target("gemini", "gemini-2.5-pro");
    assert.deepEqual(pricing.worstCase([pro], 300_000, 1_000), priced(300_000 * 2.5 + 1_000 * 15));
  });
});

Deno.test("createPricing() keeps within what usage details may be", async (t) => {
  const pricing = createPricing({ now: () => NOW });
  const gpt4o = target("openai", "gpt-4o");
  const cases: [string, BilledUsage, number][] = [
    [
      "cached tokens above the prompt count as the whole prompt",
      { prompt_tokens: 100, completion_tokens: 0, cache_read_tokens: 500 },
      100 * 1.25,
    ],
    [
      "reasoning above the completion is the completion",
      { prompt_tokens: 0, completion_tokens: 10, reasoning_tokens: 50 },
      10 * 10,
    ],
    [
      "negative and NaN counts are not counted",
      { prompt_tokens: -5, completion_tokens: 10, cache_read_tokens: Number.NaN },
      10 * 10,
    ],
  ];
  for (const [name, usage, micro] of cases) {
    await t.step(name, () => assert.deepEqual(pricing.cost(gpt4o, usage), priced(micro)));
  }
});
