/** toPricedTarget(): what a route target's price depends on, the routing file's prices included. */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { pricingKind, toPricedTarget } from "../../src/spend/priced_target.ts";

const KEYS = {
  OPENAI_API_KEY: "sk-openai",
  ANTHROPIC_API_KEY: "sk-ant",
  AZURE_OPENAI_API_KEY: "az-key",
  AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com",
  GEMINI_API_KEY: "gm-key",
};

Deno.test("pricingKind() prices the built-in openai provider as OpenAI, others by their kind", async (t) => {
  const cases: [
    string,
    { name: string; kind: "openai-compatible" | "azure" | "anthropic" | "gemini" },
    string,
  ][] = [
    ["built-in openai", { name: "openai", kind: "openai-compatible" }, "openai"],
    [
      "a declared OpenAI-compatible server",
      { name: "groq", kind: "openai-compatible" },
      "openai-compatible",
    ],
    ["built-in azure", { name: "azure", kind: "azure" }, "azure"],
    ["a declared azure", { name: "azure-eu", kind: "azure" }, "azure"],
    ["anthropic", { name: "anthropic", kind: "anthropic" }, "anthropic"],
    ["gemini", { name: "team-gemini", kind: "gemini" }, "gemini"],
  ];
  for (const [name, provider, kind] of cases) {
    await t.step(name, () => assert.equal(pricingKind(provider), kind));
  }
});

Deno.test("toPricedTarget() carries the target's prices, else its model's", () => {
  const file = parseRoutingFile(JSON.stringify({
    providers: { local: { kind: "openai-compatible", base_url: "http://127.0.0.1:9/v1" } },
    models: {
      mixed: {
        prices: { input_per_mtok: 1, output_per_mtok: 2 },
        targets: [
          { provider: "openai", model: "gpt-4o" },
          {
            provider: "local",
            model: "llama",
            prices: { input_per_mtok: 0.1, output_per_mtok: 0.2, cache_read_per_mtok: 0.01 },
          },
        ],
      },
      plain: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
    },
  }));
  const routing = buildRouting(parseConfig(KEYS), file, {});
  const mixed = routing.models.get("mixed");
  assert.deepEqual(mixed?.prices, { input_per_mtok: 1, output_per_mtok: 2 });
  const [openai, local] = mixed?.targets ?? [];
  assert.ok(openai !== undefined && local !== undefined);
  assert.deepEqual(toPricedTarget(openai, "mixed"), {
    providerKind: "openai",
    providerName: "openai",
    upstreamModel: "gpt-4o",
    publicModel: "mixed",
    prices: { input_per_mtok: 1, output_per_mtok: 2 },
  });
  assert.deepEqual(toPricedTarget(local, "mixed").prices, {
    input_per_mtok: 0.1,
    output_per_mtok: 0.2,
    cache_read_per_mtok: 0.01,
  });
  const plain = routing.models.get("plain")?.targets[0];
  assert.ok(plain !== undefined);
  assert.equal(toPricedTarget(plain, "plain").prices, undefined);
  assert.equal(toPricedTarget(plain, "plain").providerKind, "anthropic");
});
