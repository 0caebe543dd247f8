import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { planRoute } from "../../src/routing/route.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { billedUsage, planTargets, worstCaseCost } from "../../src/spend/served.ts";
import { fixedPricing } from "../_helpers/fixed_pricing.ts";

const config = parseConfig({ OPENAI_API_KEY: "sk-test", ANTHROPIC_API_KEY: "sk-ant-test" });
const routing = buildRouting(
  config,
  parseRoutingFile(JSON.stringify({
    models: {
      smart: {
        targets: [
          { provider: "openai", model: "gpt-4o", weight: 3 },
          { provider: "anthropic", model: "claude-sonnet-4-5" },
        ],
        fallbacks: ["cheap", "gpt-4o"],
      },
      cheap: { targets: [{ provider: "openai", model: "gpt-4o-mini" }] },
    },
  })),
);

function plan(model: string) {
  const planned = planRoute(model, routing);
  assert.ok(!(planned instanceof Error));
  return planned;
}

Deno.test("planTargets() lists every target of a plan once, fallbacks included", async (t) => {
  await t.step("a public name with fallbacks", () => {
    assert.deepEqual(
      planTargets(plan("smart"), "smart").map((t) => [t.providerName, t.upstreamModel]),
      [
        ["openai", "gpt-4o"],
        ["anthropic", "claude-sonnet-4-5"],
        ["openai", "gpt-4o-mini"],
      ],
    );
  });
  await t.step("the public name the client sent, and the provider's kind", () => {
    assert.deepEqual(planTargets(plan("claude-sonnet-4-5"), "claude-sonnet-4-5"), [{
      providerKind: "anthropic",
      providerName: "anthropic",
      upstreamModel: "claude-sonnet-4-5",
      publicModel: "claude-sonnet-4-5",
      prices: undefined,
    }]);
  });
  await t.step("echo: none", () => assert.deepEqual(planTargets(plan("choreoai/echo"), "x"), []));
});

Deno.test("worstCaseCost() prices the dearest target; nothing without targets or prices", async (t) => {
  const pricing = fixedPricing({
    "gpt-4o": { input_per_mtok: 2, output_per_mtok: 10 },
    "claude-sonnet-4-5": { input_per_mtok: 3, output_per_mtok: 15 },
  });
  const targets = planTargets(plan("smart"), "smart");
  const tokens = { prompt: 1_000, output: 500 };
  await t.step("the dearest of the chain", () => {
    assert.deepEqual(worstCaseCost(pricing, targets, tokens), {
      microUsd: 10_500,
      unpriced: false,
    });
  });
  await t.step("no targets", () => {
    assert.deepEqual(worstCaseCost(pricing, [], tokens), { microUsd: 0, unpriced: false });
  });
  await t.step("no pricing", () => {
    assert.deepEqual(worstCaseCost(undefined, targets, tokens), { microUsd: 0, unpriced: false });
  });
  await t.step("an unpriced model", () => {
    const unknown = planTargets(plan("cheap"), "cheap");
    assert.deepEqual(worstCaseCost(pricing, unknown, tokens), { microUsd: 0, unpriced: true });
  });
});

Deno.test("billedUsage() passes prompt and completion tokens on", () => {
  assert.deepEqual(billedUsage({ prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 }), {
    prompt_tokens: 9,
    completion_tokens: 6,
  });
});
