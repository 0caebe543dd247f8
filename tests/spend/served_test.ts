import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { planRoute } from "../../src/routing/route.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import { planTargets, worstCaseCost } from "../../src/spend/served.ts";

const config = parseConfig({ OPENAI_API_KEY: "sk-test", ANTHROPIC_API_KEY: "sk-ant-test" });
const routing = buildRouting(
  config,
  parseRoutingFile(JSON.stringify({
    providers: { local: { kind: "openai-compatible", base_url: "http://127.0.0.1:9/v1" } },
    models: {
      smart: {
        targets: [
          {
            provider: "openai",
            model: "gpt-4o",
            weight: 3,
            prices: { input_per_mtok: 2, output_per_mtok: 10 },
          },
          { provider: "anthropic", model: "claude-sonnet-4-5" },
        ],
        prices: { input_per_mtok: 3, output_per_mtok: 15 },
        fallbacks: ["cheap", "gpt-4o"],
      },
      cheap: {
        targets: [{
          provider: "openai",
          model: "gpt-4o-mini",
          prices: { input_per_mtok: 0.15, output_per_mtok: 0.6 },
        }],
      },
      llama: { targets: [{ provider: "local", model: "llama3" }] },
    },
  })),
);

function plan(model: string) {
  const planned = planRoute(model, routing);
  assert.ok(!(planned instanceof Error));
  return planned;
}

Deno.test("planTargets() lists every target of a plan with its prices there, fallbacks included", async (t) => {
  await t.step("a public name with fallbacks", () => {
    assert.deepEqual(
      planTargets(plan("smart"), "smart").map((t) => [
        t.providerName,
        t.upstreamModel,
        t.publicModel,
        t.prices?.output_per_mtok,
      ]),
      [
        ["openai", "gpt-4o", "smart", 10],
        ["anthropic", "claude-sonnet-4-5", "smart", 15], // the public model's prices
        ["openai", "gpt-4o-mini", "smart", 0.6],
        ["openai", "gpt-4o", "smart", undefined], // the same model, at the package's prices
      ],
    );
  });
  await t.step("echo: none", () => assert.deepEqual(planTargets(plan("choreoai/echo"), "x"), []));
});

Deno.test("worstCaseCost() prices the dearest target; nothing without targets or prices", async (t) => {
  const pricing = createPricing({ now: () => Date.UTC(2026, 11, 1) });
  const tokens = { prompt: 1_000, output: 500 };
  await t.step("the dearest of the chain (Claude at the routing file's $3 / $15)", () => {
    assert.deepEqual(worstCaseCost(pricing, planTargets(plan("smart"), "smart"), tokens), {
      microUsd: 10_500,
      unpriced: false,
    });
  });
  await t.step("no targets", () => {
    assert.deepEqual(worstCaseCost(pricing, [], tokens), { microUsd: 0, unpriced: false });
  });
  await t.step("no pricing", () => {
    const targets = planTargets(plan("smart"), "smart");
    assert.deepEqual(worstCaseCost(undefined, targets, tokens), { microUsd: 0, unpriced: false });
  });
  await t.step("an unpriced model reserves nothing", () => {
    const targets = planTargets(plan("llama"), "llama");
    assert.deepEqual(worstCaseCost(pricing, targets, tokens), { microUsd: 0, unpriced: true });
  });
});
