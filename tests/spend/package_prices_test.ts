import assert from "node:assert/strict";
import fc from "fast-check";
import { calcPrice } from "@pydantic/genai-prices";
import { createPackagePrices } from "../../src/spend/package_prices.ts";

const AT = new Date(Date.UTC(2026, 11, 1));

/** The package's own answer for the same usage, without any shortcut. */
function reference(providerId: string, model: string, usage: Record<string, number>) {
  return calcPrice(usage, model, { providerId, timestamp: AT })?.total_price;
}

Deno.test("createPackagePrices() prices like the package itself, below and above price tiers", async (t) => {
  const prices = createPackagePrices();
  const models: Array<[string, string]> = [
    ["openai", "gpt-4o"],
    ["openai", "gpt-4o-mini"],
    ["openai", "o3"],
    ["anthropic", "claude-sonnet-4-5"],
    ["anthropic", "claude-3-5-haiku-latest"],
    ["google", "gemini-2.5-pro"],
    ["google", "gemini-2.5-flash"],
  ];
  for (const [providerId, model] of models) {
    await t.step(`${providerId} ${model}`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 400_000 }),
          fc.integer({ min: 0, max: 100 }),
          fc.integer({ min: 0, max: 100 }),
          fc.integer({ min: 0, max: 50_000 }),
          fc.integer({ min: 0, max: 100 }),
          (prompt, readShare, writeShare, completion, reasoningShare) => {
            const read = Math.floor((prompt * readShare) / 200);
            const write = Math.floor(((prompt - read) * writeShare) / 200);
            const reasoning = Math.floor((completion * reasoningShare) / 100);
            const usage = {
              prompt_tokens: prompt,
              completion_tokens: completion,
              cache_read_tokens: read,
              cache_write_tokens: write,
              reasoning_tokens: reasoning,
            };
            const ours = prices.cost(providerId, model, usage, AT);
            const theirs = reference(providerId, model, {
              input_tokens: prompt,
              cache_read_tokens: read,
              cache_write_tokens: write,
              output_tokens: completion,
              output_reasoning_tokens: reasoning,
            });
            assert.ok(ours !== undefined && theirs !== undefined);
            // Equal to far below a micro-dollar.
            assert.ok(Math.abs(ours - theirs) < 1e-9, `${ours} vs ${theirs}`);
          },
        ),
        { numRuns: 300 },
      );
    });
  }
  await t.step("an unknown model has no price", () => {
    assert.equal(
      prices.cost("openai", "no-such-model-xyz", { prompt_tokens: 1, completion_tokens: 1 }, AT),
      undefined,
    );
  });
});
