import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { GatewayError } from "../../src/errors.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { ECHO_MODEL, planRoute, resolveDirect, type RoutePlan } from "../../src/routing/route.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import type { ModelRoute, Routing } from "../../src/routing/table.ts";

type Builtin = "openai" | "anthropic" | "azure" | "gemini";
const ALL: readonly Builtin[] = ["openai", "anthropic", "azure", "gemini"];

const KEY_VARIABLES: Record<Builtin, Record<string, string>> = {
  openai: { OPENAI_API_KEY: "sk-openai" },
  anthropic: { ANTHROPIC_API_KEY: "sk-ant" },
  azure: { AZURE_OPENAI_API_KEY: "az", AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com" },
  gemini: { GEMINI_API_KEY: "gm" },
};

/** A routing table with keys for `keyed` and, optionally, a routing file given as a value. */
function table(
  keyed: readonly Builtin[],
  file?: unknown,
  extra: Record<string, string> = {},
): Routing {
  const env = Object.assign({}, ...keyed.map((p) => KEY_VARIABLES[p]), extra);
  return buildRouting(
    parseConfig(env),
    file === undefined ? undefined : parseRoutingFile(JSON.stringify(file)),
    { VLLM_API_KEY: "vllm-secret" },
  );
}

const WITH_VLLM = {
  providers: {
    "local-vllm": {
      kind: "openai-compatible",
      base_url: "http://127.0.0.1:8001/v1",
      api_key_env: "VLLM_API_KEY",
    },
  },
};

function upstreamPlan(model: string, routing: Routing): RoutePlan & { kind: "upstream" } {
  const plan = planRoute(model, routing);
  assert.ok(!(plan instanceof GatewayError), `expected ${model} to route, got ${String(plan)}`);
  assert.equal(plan.kind, "upstream");
  return plan;
}

/** Where a bare route sends a model: its single target's provider and upstream model name. */
function routeOf(model: string, routing: Routing): { provider: string; model: string } {
  const plan = upstreamPlan(model, routing);
  assert.equal(plan.chain.length, 1);
  const [route] = plan.chain;
  assert.equal(route?.targets.length, 1);
  const target = route?.targets[0];
  assert.ok(target !== undefined);
  return { provider: target.provider.name, model: target.model };
}

function notFound(model: string, routing: Routing): GatewayError {
  const plan = planRoute(model, routing);
  assert.ok(plan instanceof GatewayError, `expected ${model} not to route`);
  assert.equal(plan.status, 404);
  assert.equal(plan.type, "invalid_request_error");
  assert.equal(plan.code, "model_not_found");
  assert.equal(plan.param, "model");
  assert.ok(plan.message.includes(`"${model}"`), plan.message);
  return plan;
}

Deno.test("planRoute() honours an explicit provider prefix", async (t) => {
  const cases: [string, { provider: string; model: string }][] = [
    ["openai/gpt-4o", { provider: "openai", model: "gpt-4o" }],
    ["openai/my-finetune", { provider: "openai", model: "my-finetune" }],
    ["openai/meta-llama/Llama-3", { provider: "openai", model: "meta-llama/Llama-3" }],
    ["anthropic/claude-sonnet-4-5", { provider: "anthropic", model: "claude-sonnet-4-5" }],
    ["gemini/gemini-2.5-flash", { provider: "gemini", model: "gemini-2.5-flash" }],
    ["azure/gpt4o-prod", { provider: "azure", model: "gpt4o-prod" }],
    ["anthropic/gpt-4o", { provider: "anthropic", model: "gpt-4o" }],
    ["local-vllm/llama3", { provider: "local-vllm", model: "llama3" }],
    ["local-vllm/meta-llama/Llama-3-8B", {
      provider: "local-vllm",
      model: "meta-llama/Llama-3-8B",
    }],
  ];
  const routing = table(ALL, WITH_VLLM);
  for (const [model, expected] of cases) {
    await t.step(model, () => {
      assert.deepEqual(routeOf(model, routing), expected);
    });
  }
});

Deno.test("planRoute() routes a bare name by its family", async (t) => {
  const cases: [string, Builtin][] = [
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
  const routing = table(ALL);
  for (const [model, provider] of cases) {
    await t.step(`${model} → ${provider}`, () => {
      assert.deepEqual(routeOf(model, routing), { provider, model });
    });
  }
});

Deno.test("planRoute() gives a built-in route the default timeout and no retries", () => {
  const routing = table(["openai"], undefined, { CHOREOAI_UPSTREAM_TIMEOUT_MS: "12345" });
  const plan = upstreamPlan("openai/meta-llama/Llama-3", routing);
  assert.equal(plan.deadlineMs, 12345);
  const [route] = plan.chain;
  assert.deepEqual(
    { ...route, targets: route?.targets.map((t) => ({ key: t.key, weight: t.weight })) },
    {
      name: "openai/meta-llama/Llama-3",
      targets: [{ key: "openai/meta-llama/Llama-3", weight: 1 }],
      retries: 0,
      timeoutMs: 12345,
      deadlineMs: 12345,
    },
  );
  assert.equal(route?.targets[0]?.provider, routing.providers.get("openai"));
});

Deno.test("planRoute() answers 404 model_not_found for names it cannot route", async (t) => {
  const cases = [
    "llama-3-70b",
    "mistral-large",
    "mistral/mistral-large",
    "mistral/gpt-4o",
    "GPT-4o",
    "gpt4",
    "claude",
    "gemini",
    "openai/",
    "local-vllm/",
    "/gpt-4o",
    "",
    "choreoai/echo2",
    "choreoai/other",
    "smart/",
  ];
  const routing = table(ALL, {
    ...WITH_VLLM,
    models: { smart: { targets: [{ provider: "openai", model: "gpt-4o" }] } },
  });
  for (const model of cases) {
    await t.step(JSON.stringify(model), () => {
      notFound(model, routing);
    });
  }
});

Deno.test("planRoute() answers 404 naming the variable of a provider without a key", async (t) => {
  const cases: [string, Builtin, string][] = [
    ["gpt-4o", "openai", "OPENAI_API_KEY"],
    ["openai/gpt-4o", "openai", "OPENAI_API_KEY"],
    ["text-embedding-3-small", "openai", "OPENAI_API_KEY"],
    ["claude-sonnet-4-5", "anthropic", "ANTHROPIC_API_KEY"],
    ["anthropic/claude-sonnet-4-5", "anthropic", "ANTHROPIC_API_KEY"],
    ["gemini-2.5-flash", "gemini", "GEMINI_API_KEY"],
    ["gemini/gemini-2.5-flash", "gemini", "GEMINI_API_KEY"],
    ["azure/gpt4o-prod", "azure", "AZURE_OPENAI_API_KEY"],
  ];
  for (const [model, provider, variable] of cases) {
    await t.step(`${model} → ${variable}`, () => {
      const error = notFound(model, table(ALL.filter((p) => p !== provider)));
      assert.ok(error.message.includes(variable), error.message);
    });
  }
  await t.step("with no key at all", () => {
    const error = notFound("gpt-4o", table([]));
    assert.ok(error.message.includes("OPENAI_API_KEY"), error.message);
  });
});

Deno.test("planRoute() always routes choreoai/echo", async (t) => {
  const tables: [string, () => Routing][] = [
    ["no keys", () => table([])],
    ["every key", () => table(ALL)],
    ["a routing file", () =>
      table(["openai"], {
        ...WITH_VLLM,
        models: { smart: { targets: [{ provider: "openai", model: "gpt-4o" }] } },
      })],
  ];
  for (const [name, routing] of tables) {
    await t.step(name, () => {
      assert.equal(ECHO_MODEL, "choreoai/echo");
      assert.deepEqual(planRoute("choreoai/echo", routing()), { kind: "echo" });
    });
  }
});

Deno.test("planRoute() lets a public name win over families and prefixes", async (t) => {
  const routing = table(["openai", "anthropic"], {
    ...WITH_VLLM,
    models: {
      "gpt-4o": { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
      "openai/gpt-4o": { targets: [{ provider: "local-vllm", model: "llama3" }] },
      "gemini-2.5-flash": { targets: [{ provider: "openai", model: "gpt-4o-mini" }] },
    },
  });
  const cases: [string, string][] = [
    ["gpt-4o", "anthropic/claude-sonnet-4-5"],
    ["openai/gpt-4o", "local-vllm/llama3"],
    ["gemini-2.5-flash", "openai/gpt-4o-mini"],
    ["gpt-4o-mini", "openai/gpt-4o-mini"],
  ];
  for (const [model, key] of cases) {
    await t.step(`${model} → ${key}`, () => {
      const plan = upstreamPlan(model, routing);
      assert.deepEqual(plan.chain.map((r) => r.targets.map((tg) => tg.key)), [[key]]);
    });
  }
  await t.step("the public route is the one of the table", () => {
    const plan = upstreamPlan("gpt-4o", routing);
    assert.equal(plan.chain[0], routing.models.get("gpt-4o"));
  });
  await t.step("a public name served by a provider whose prefix is unkeyed", () => {
    // gemini has no key, but the public model "gemini-2.5-flash" is served by openai.
    assert.equal(routing.unkeyed.has("gemini"), true);
    assert.equal(upstreamPlan("gemini-2.5-flash", routing).chain.length, 1);
  });
});

Deno.test("planRoute() chains a public model with its fallbacks, under its deadline", () => {
  const routing = table(["openai", "anthropic"], {
    models: {
      smart: {
        targets: [{ provider: "openai", model: "gpt-4o", weight: 3 }, {
          provider: "anthropic",
          model: "claude-opus-4",
        }],
        fallbacks: ["claude", "gpt-4o-mini"],
        timeout_ms: 20000,
        deadline_ms: 45000,
        retries: 2,
      },
      claude: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
    },
  });
  const plan = upstreamPlan("smart", routing);
  const smart = routing.models.get("smart");
  assert.ok(smart !== undefined);
  assert.deepEqual(plan.chain, [smart, ...smart.fallbacks]);
  assert.deepEqual(plan.chain.map((r: ModelRoute) => r.name), ["smart", "claude", "gpt-4o-mini"]);
  assert.equal(plan.deadlineMs, 45000);
  const claude = upstreamPlan("claude", routing);
  assert.deepEqual(claude.chain.map((r) => r.name), ["claude"]);
  assert.equal(claude.deadlineMs, 600000);
});

Deno.test("resolveDirect() explains why a name cannot be routed", async (t) => {
  const routing = table(["anthropic"]);
  await t.step("a name nothing serves lists the ways to name a model", () => {
    const reason = resolveDirect("llama-3-70b", routing);
    assert.ok("reason" in reason);
    assert.match(reason.reason, /"llama-3-70b"/);
    assert.match(reason.reason, /choreoai\/echo/);
    assert.equal(reason.missingKey, undefined, "no key would make it routable");
  });
  await t.step("a provider prefix with no model after it", () => {
    const reason = resolveDirect("anthropic/", routing);
    assert.ok("reason" in reason);
    assert.match(reason.reason, /no model name/);
  });
  await t.step("an unkeyed family names its variable", () => {
    const reason = resolveDirect("gpt-4o", routing);
    assert.ok("reason" in reason);
    assert.match(reason.reason, /OPENAI_API_KEY/);
    assert.equal(reason.missingKey, "OPENAI_API_KEY");
  });
  await t.step("a routable name gives its route", () => {
    const route = resolveDirect("claude-sonnet-4-5", routing);
    assert.ok(!("reason" in route));
    assert.equal(route.targets[0]?.key, "anthropic/claude-sonnet-4-5");
  });
});

Deno.test("planRoute() skips models whose targets all lack a key, and names the keys when none is left", async (t) => {
  const file = {
    models: {
      smart: {
        targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }],
        fallbacks: ["cheap"],
      },
      cheap: { targets: [{ provider: "openai", model: "gpt-4o-mini" }] },
      lonely: { targets: [{ provider: "gemini", model: "gemini-2.5-flash" }] },
    },
  };
  const routing = buildRouting(
    parseConfig({ OPENAI_API_KEY: "sk" }),
    parseRoutingFile(JSON.stringify(file)),
    {},
  );
  await t.step("the primary has no key: its fallback serves", () => {
    const plan = planRoute("smart", routing);
    assert.ok(!(plan instanceof GatewayError) && plan.kind === "upstream");
    assert.deepEqual(plan.chain.map((m) => m.name), ["cheap"]);
  });
  await t.step("nothing left: 404 naming the variable", () => {
    const plan = planRoute("lonely", routing);
    assert.ok(plan instanceof GatewayError);
    assert.equal(plan.code, "model_not_found");
    assert.match(plan.message, /GEMINI_API_KEY/);
  });
});
