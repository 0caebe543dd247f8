import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.ts";
import {
  type ProviderName,
  resolveRoute,
  type Route,
  type RoutingTable,
} from "../../src/routing/route.ts";

const ALL: readonly ProviderName[] = ["openai", "anthropic", "azure", "gemini"];

function table(
  keyed: readonly ProviderName[],
  supported: readonly ProviderName[] = ALL,
): RoutingTable {
  return { keyed: new Set(keyed), supported: new Set(supported) };
}

function routeOf(model: string, routing: RoutingTable): Route {
  const route = resolveRoute(model, routing);
  assert.ok(!(route instanceof GatewayError), `expected ${model} to route, got ${String(route)}`);
  return route;
}

function notFound(model: string, routing: RoutingTable): GatewayError {
  const route = resolveRoute(model, routing);
  assert.ok(route instanceof GatewayError, `expected ${model} not to route`);
  assert.equal(route.status, 404);
  assert.equal(route.type, "invalid_request_error");
  assert.equal(route.code, "model_not_found");
  assert.equal(route.param, "model");
  assert.ok(route.message.includes(`"${model}"`), route.message);
  return route;
}

Deno.test("resolveRoute() honours an explicit provider prefix", async (t) => {
  const cases: [string, Route][] = [
    ["openai/gpt-4o", { provider: "openai", model: "gpt-4o" }],
    ["openai/my-finetune", { provider: "openai", model: "my-finetune" }],
    ["openai/meta-llama/Llama-3", { provider: "openai", model: "meta-llama/Llama-3" }],
    ["anthropic/claude-sonnet-4-5", { provider: "anthropic", model: "claude-sonnet-4-5" }],
    ["gemini/gemini-2.5-flash", { provider: "gemini", model: "gemini-2.5-flash" }],
    ["azure/gpt4o-prod", { provider: "azure", model: "gpt4o-prod" }],
    ["anthropic/gpt-4o", { provider: "anthropic", model: "gpt-4o" }],
  ];
  for (const [model, expected] of cases) {
    await t.step(model, () => {
      assert.deepEqual(routeOf(model, table(ALL)), expected);
    });
  }
});

Deno.test("resolveRoute() routes a bare name by its family", async (t) => {
  const cases: [string, ProviderName][] = [
    ["gpt-4o", "openai"],
    ["gpt-4.1-mini", "openai"],
    ["o1", "openai"],
    ["o1-preview", "openai"],
    ["o3-mini", "openai"],
    ["o4-mini", "openai"],
    ["chatgpt-4o-latest", "openai"],
    ["text-embedding-3-small", "openai"],
    ["claude-sonnet-4-5", "anthropic"],
    ["claude-3-5-haiku-latest", "anthropic"],
    ["gemini-2.5-flash", "gemini"],
    ["gemini-1.5-pro", "gemini"],
  ];
  for (const [model, provider] of cases) {
    await t.step(`${model} → ${provider}`, () => {
      assert.deepEqual(routeOf(model, table(ALL)), { provider, model });
    });
  }
});

Deno.test("resolveRoute() answers 404 model_not_found for names it cannot route", async (t) => {
  const cases = [
    "llama-3-70b",
    "mistral-large",
    "mistral/mistral-large",
    "GPT-4o",
    "gpt4",
    "claude",
    "gemini",
    "openai/",
    "/gpt-4o",
    "",
    "choreoai/echo2",
    "choreoai/other",
  ];
  for (const model of cases) {
    await t.step(JSON.stringify(model), () => {
      notFound(model, table(ALL));
    });
  }
});

Deno.test("resolveRoute() answers 404 naming the variable of a provider without a key", async (t) => {
  const cases: [string, ProviderName, string][] = [
    ["gpt-4o", "openai", "OPENAI_API_KEY"],
    ["openai/gpt-4o", "openai", "OPENAI_API_KEY"],
    ["claude-sonnet-4-5", "anthropic", "ANTHROPIC_API_KEY"],
    ["gemini-2.5-flash", "gemini", "GEMINI_API_KEY"],
    ["azure/gpt4o-prod", "azure", "AZURE_OPENAI_API_KEY"],
  ];
  for (const [model, provider, variable] of cases) {
    await t.step(`${model} → ${variable}`, () => {
      const error = notFound(model, table(ALL.filter((p) => p !== provider)));
      assert.ok(error.message.includes(variable), error.message);
    });
  }
});

Deno.test("resolveRoute() answers 404 for a provider this build does not support", async (t) => {
  const cases: [string, ProviderName][] = [
    ["claude-sonnet-4-5", "anthropic"],
    ["gemini/gemini-2.5-flash", "gemini"],
    ["azure/gpt4o-prod", "azure"],
  ];
  for (const [model, provider] of cases) {
    await t.step(model, () => {
      const error = notFound(model, table(ALL, ["openai"]));
      assert.ok(error.message.includes(provider), error.message);
    });
  }
  await t.step("a supported provider still routes", () => {
    assert.deepEqual(routeOf("gpt-4o", table(ALL, ["openai"])), {
      provider: "openai",
      model: "gpt-4o",
    });
  });
});

Deno.test("resolveRoute() always routes choreoai/echo", async (t) => {
  const tables: [string, RoutingTable][] = [
    ["no keys", table([])],
    ["no supported provider", table([], [])],
    ["every key", table(ALL)],
  ];
  for (const [name, routing] of tables) {
    await t.step(name, () => {
      assert.deepEqual(routeOf("choreoai/echo", routing), {
        provider: "echo",
        model: "choreoai/echo",
      });
    });
  }
});
