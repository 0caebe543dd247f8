/** createCostMeter(): the pricing's cost, and one warning per model without a known price. */
import assert from "node:assert/strict";
import { createCostMeter } from "../../src/spend/cost_meter.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import type { PricedTarget } from "../../src/spend/pricing.ts";
import { createLogger } from "../../src/log.ts";

function collecting() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger((line) => void lines.push(JSON.parse(line)), () => 0) };
}

const local = (model: string): PricedTarget => ({
  providerKind: "openai-compatible",
  providerName: "local-vllm",
  upstreamModel: model,
  publicModel: "llama",
});

Deno.test("createCostMeter() warns once per provider and model without a price", () => {
  const { lines, log } = collecting();
  const meter = createCostMeter(createPricing({ now: () => 0 }), log);
  const usage = { prompt_tokens: 10, completion_tokens: 5 };
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(meter(local("llama3"), usage), { microUsd: 0, unpriced: true });
  }
  meter(local("mistral"), usage);
  const gpt = { ...local("gpt-4o"), providerKind: "openai", providerName: "openai" };
  assert.deepEqual(meter(gpt, usage), { microUsd: 75, unpriced: false });
  assert.deepEqual(
    lines.map((line) => [line.level, line.upstream_model, line.provider, line.model]),
    [["warn", "llama3", "local-vllm", "llama"], ["warn", "mistral", "local-vllm", "llama"]],
  );
  assert.match(String(lines[0]?.msg), /no price known for this model/);
});

Deno.test("createCostMeter() stops remembering past 1,000 unpriced models, and warns no more", () => {
  const { lines, log } = collecting();
  const meter = createCostMeter(createPricing({ now: () => 0 }), log);
  for (let i = 0; i < 1_500; i++) meter(local(`m${i}`), { prompt_tokens: 1, completion_tokens: 1 });
  assert.equal(lines.length, 1_000);
});
