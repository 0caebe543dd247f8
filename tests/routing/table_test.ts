import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { buildRouting, type Environment } from "../../src/routing/load.ts";
import { parseRoutingFile, RoutingFileError } from "../../src/routing/routing_file.ts";
import type { ConfiguredProvider, ModelRoute, Routing } from "../../src/routing/table.ts";

/** Every built-in provider keyed. */
const ALL_KEYS = {
  OPENAI_API_KEY: "sk-openai",
  ANTHROPIC_API_KEY: "sk-ant",
  AZURE_OPENAI_API_KEY: "az-key",
  AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com",
  GEMINI_API_KEY: "gm-key",
};

/** The routing table for `env` (the gateway's variables) and a routing file given as a value. */
function build(
  env: Record<string, string>,
  file?: unknown,
  keys: Environment = {},
): Routing {
  return buildRouting(
    parseConfig(env),
    file === undefined ? undefined : parseRoutingFile(JSON.stringify(file)),
    keys,
  );
}

/** The problems buildRouting reports. */
function problemsOf(env: Record<string, string>, file: unknown, keys: Environment = {}): string[] {
  try {
    build(env, file, keys);
  } catch (error) {
    assert.ok(error instanceof RoutingFileError, `expected a RoutingFileError, got ${error}`);
    return [...error.problems];
  }
  assert.fail("expected the routing file to be refused");
}

/** What a user can observe of a provider (its adapter is a function table). */
function describe(provider: ConfiguredProvider | undefined) {
  assert.ok(provider !== undefined, "provider expected");
  return {
    name: provider.name,
    kind: provider.kind,
    baseUrl: provider.baseUrl,
    apiKey: provider.apiKey,
    apiVersion: provider.apiVersion,
    streamUsage: provider.streamUsage,
    headers: provider.headers,
  };
}

/** A route's targets as `provider/model×weight`, and its numbers. */
function summary(route: ModelRoute | undefined) {
  assert.ok(route !== undefined, "route expected");
  return {
    name: route.name,
    targets: route.targets.map((t) => `${t.provider.name}:${t.model}×${t.weight} [${t.key}]`),
    retries: route.retries,
    timeoutMs: route.timeoutMs,
    deadlineMs: route.deadlineMs,
  };
}

const VLLM = {
  kind: "openai-compatible",
  base_url: "http://127.0.0.1:8001/v1",
  api_key_env: "VLLM_API_KEY",
};

Deno.test("buildRouting() has only the built-in providers that have a key", async (t) => {
  await t.step("no keys: no provider; each unkeyed one names its variable", () => {
    const routing = build({});
    assert.equal(routing.providers.size, 0);
    assert.equal(routing.models.size, 0);
    assert.deepEqual(
      Object.fromEntries(routing.unkeyed),
      {
        openai: "OPENAI_API_KEY",
        anthropic: "ANTHROPIC_API_KEY",
        azure: "AZURE_OPENAI_API_KEY",
        gemini: "GEMINI_API_KEY",
      },
    );
  });
  await t.step("an empty key counts as unset", () => {
    const routing = build({ OPENAI_API_KEY: "" });
    assert.equal(routing.providers.has("openai"), false);
    assert.equal(routing.unkeyed.get("openai"), "OPENAI_API_KEY");
  });
  await t.step("OpenAI alone", () => {
    const routing = build({ OPENAI_API_KEY: "sk-openai" });
    assert.deepEqual([...routing.providers.keys()], ["openai"]);
    assert.deepEqual([...routing.unkeyed.keys()].sort(), ["anthropic", "azure", "gemini"]);
    assert.deepEqual(describe(routing.providers.get("openai")), {
      name: "openai",
      kind: "openai-compatible",
      baseUrl: "https://api.openai.com/v1",
      apiKey: "sk-openai",
      apiVersion: undefined,
      streamUsage: true,
      headers: {},
    });
  });
  await t.step("every provider, with the configured URLs and Azure's version", () => {
    const routing = build({
      ...ALL_KEYS,
      OPENAI_BASE_URL: "http://127.0.0.1:9000/v1/",
      AZURE_OPENAI_API_VERSION: "2025-01-01-preview",
    });
    assert.equal(routing.unkeyed.size, 0);
    assert.deepEqual(
      [...routing.providers.values()].map(describe).sort((a, b) => a.name.localeCompare(b.name)),
      [
        {
          name: "anthropic",
          kind: "anthropic",
          baseUrl: "https://api.anthropic.com",
          apiKey: "sk-ant",
          apiVersion: undefined,
          streamUsage: true,
          headers: {},
        },
        {
          name: "azure",
          kind: "azure",
          baseUrl: "https://res.openai.azure.com",
          apiKey: "az-key",
          apiVersion: "2025-01-01-preview",
          streamUsage: true,
          headers: {},
        },
        {
          name: "gemini",
          kind: "gemini",
          baseUrl: "https://generativelanguage.googleapis.com",
          apiKey: "gm-key",
          apiVersion: undefined,
          streamUsage: true,
          headers: {},
        },
        {
          name: "openai",
          kind: "openai-compatible",
          baseUrl: "http://127.0.0.1:9000/v1",
          apiKey: "sk-openai",
          apiVersion: undefined,
          streamUsage: true,
          headers: {},
        },
      ],
    );
  });
  await t.step("built-in Azure's version defaults to 2024-10-21", () => {
    const routing = build(ALL_KEYS);
    assert.equal(routing.providers.get("azure")?.apiVersion, "2024-10-21");
  });
});

Deno.test("buildRouting() compiles DESIGN.md's example", () => {
  const routing = build(
    { OPENAI_API_KEY: "sk-openai", ANTHROPIC_API_KEY: "sk-ant" },
    {
      providers: {
        "local-vllm": VLLM,
        "azure-eu": {
          kind: "azure",
          endpoint: "https://eu.example.azure.com",
          api_key_env: "AZURE_EU_KEY",
          api_version: "2024-10-21",
        },
      },
      models: {
        smart: {
          targets: [
            { provider: "azure-eu", model: "gpt4o-prod", weight: 3 },
            { provider: "openai", model: "gpt-4o", weight: 1 },
          ],
          fallbacks: ["claude"],
          timeout_ms: 60000,
          retries: 2,
        },
        claude: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
      },
    },
    { VLLM_API_KEY: "vllm-secret", AZURE_EU_KEY: "eu-secret" },
  );
  assert.deepEqual(describe(routing.providers.get("azure-eu")), {
    name: "azure-eu",
    kind: "azure",
    baseUrl: "https://eu.example.azure.com",
    apiKey: "eu-secret",
    apiVersion: "2024-10-21",
    streamUsage: true,
    headers: {},
  });
  assert.equal(routing.providers.get("local-vllm")?.apiKey, "vllm-secret");
  const smart = routing.models.get("smart");
  assert.deepEqual(summary(smart), {
    name: "smart",
    targets: ["azure-eu:gpt4o-prod×3 [azure-eu/gpt4o-prod]", "openai:gpt-4o×1 [openai/gpt-4o]"],
    retries: 2,
    timeoutMs: 60000,
    deadlineMs: 60000,
  });
  assert.deepEqual(smart?.fallbacks.map(summary), [{
    name: "claude",
    targets: ["anthropic:claude-sonnet-4-5×1 [anthropic/claude-sonnet-4-5]"],
    retries: 0,
    timeoutMs: 600000,
    deadlineMs: 600000,
  }]);
  assert.deepEqual(routing.models.get("claude")?.fallbacks, []);
});

Deno.test("buildRouting() configures declared providers", async (t) => {
  await t.step("the key comes from the variable api_key_env names", () => {
    const routing = build({}, { providers: { "local-vllm": VLLM } }, { VLLM_API_KEY: "v-1" });
    assert.deepEqual(describe(routing.providers.get("local-vllm")), {
      name: "local-vllm",
      kind: "openai-compatible",
      baseUrl: "http://127.0.0.1:8001/v1",
      apiKey: "v-1",
      apiVersion: undefined,
      streamUsage: true,
      headers: {},
    });
  });
  await t.step("openai-compatible without api_key_env: an empty key", () => {
    const routing = build({}, {
      providers: { ollama: { kind: "openai-compatible", base_url: "http://localhost:11434/v1" } },
    });
    assert.equal(routing.providers.get("ollama")?.apiKey, "");
  });
  await t.step("stream_usage false and headers are carried", () => {
    const routing = build({}, {
      providers: {
        vllm: { ...VLLM, stream_usage: false, headers: { "X-Team": "search", "OpenAI-Beta": "x" } },
      },
    }, { VLLM_API_KEY: "v" });
    const provider = routing.providers.get("vllm");
    assert.equal(provider?.streamUsage, false);
    assert.deepEqual(provider?.headers, { "X-Team": "search", "OpenAI-Beta": "x" });
  });
  await t.step("azure: api_version defaults to 2024-10-21, endpoint is the base URL", () => {
    const routing = build({}, {
      providers: {
        "azure-eu": { kind: "azure", endpoint: "https://eu.example.azure.com/", api_key_env: "EU" },
      },
    }, { EU: "eu-secret" });
    assert.deepEqual(describe(routing.providers.get("azure-eu")), {
      name: "azure-eu",
      kind: "azure",
      baseUrl: "https://eu.example.azure.com",
      apiKey: "eu-secret",
      apiVersion: "2024-10-21",
      streamUsage: true,
      headers: {},
    });
  });
  await t.step("azure: an explicit api_version and stream_usage false", () => {
    const routing = build({}, {
      providers: {
        az: {
          kind: "azure",
          endpoint: "https://a.example",
          api_key_env: "EU",
          api_version: "2025-03-01-preview",
          stream_usage: false,
        },
      },
    }, { EU: "k" });
    assert.equal(routing.providers.get("az")?.apiVersion, "2025-03-01-preview");
    assert.equal(routing.providers.get("az")?.streamUsage, false);
  });
  await t.step("anthropic and gemini: default and given base URLs", () => {
    const routing = build({}, {
      providers: {
        "claude-eu": { kind: "anthropic", api_key_env: "A" },
        "claude-proxy": { kind: "anthropic", api_key_env: "A", base_url: "https://p.example/" },
        "gem": { kind: "gemini", api_key_env: "G" },
      },
    }, { A: "a-key", G: "g-key" });
    assert.deepEqual(describe(routing.providers.get("claude-eu")), {
      name: "claude-eu",
      kind: "anthropic",
      baseUrl: "https://api.anthropic.com",
      apiKey: "a-key",
      apiVersion: undefined,
      streamUsage: true,
      headers: {},
    });
    assert.equal(routing.providers.get("claude-proxy")?.baseUrl, "https://p.example");
    assert.deepEqual(describe(routing.providers.get("gem")), {
      name: "gem",
      kind: "gemini",
      baseUrl: "https://generativelanguage.googleapis.com",
      apiKey: "g-key",
      apiVersion: undefined,
      streamUsage: true,
      headers: {},
    });
  });
  await t.step("declared providers sit beside the keyed built-in ones", () => {
    const routing = build({ OPENAI_API_KEY: "sk" }, { providers: { vllm: VLLM } }, {
      VLLM_API_KEY: "v",
    });
    assert.deepEqual([...routing.providers.keys()].sort(), ["openai", "vllm"]);
  });
});

Deno.test("buildRouting() leaves out a declared provider whose key variable is missing, saying so", async (t) => {
  const cases: [string, Environment][] = [
    ["unset", {}],
    ["empty", { VLLM_API_KEY: "" }],
    ["another variable set", { VLLM_KEY: "v" }],
  ];
  for (const [name, keys] of cases) {
    await t.step(name, () => {
      const routing = build({}, { providers: { "local-vllm": VLLM } }, keys);
      assert.equal(routing.providers.has("local-vllm"), false);
      assert.equal(routing.unkeyed.get("local-vllm"), "VLLM_API_KEY");
      assert.equal(routing.warnings.length, 1, JSON.stringify(routing.warnings));
      const [warning = ""] = routing.warnings;
      assert.ok(warning.startsWith("providers.local-vllm.api_key_env: "), warning);
      assert.ok(warning.includes("VLLM_API_KEY"), warning);
    });
  }
  await t.step("its targets are left out, and said so", () => {
    const routing = build({}, {
      providers: { "local-vllm": VLLM },
      models: { llama: { targets: [{ provider: "local-vllm", model: "llama3" }] } },
    });
    assert.deepEqual(routing.models.get("llama")?.targets, []);
    assert.deepEqual(routing.warnings.map((w) => w.slice(0, w.indexOf(": "))), [
      "providers.local-vllm.api_key_env",
      "models.llama.targets[0].provider",
    ]);
  });
});

Deno.test("buildRouting() compiles public models", async (t) => {
  await t.step("weight defaults to 1, retries to 0, keys are provider/model", () => {
    const routing = build({ ...ALL_KEYS, CHOREOAI_UPSTREAM_TIMEOUT_MS: "45000" }, {
      models: {
        mixed: {
          targets: [
            { provider: "openai", model: "gpt-4o" },
            { provider: "azure", model: "gpt4o-prod", weight: 2.5 },
            { provider: "gemini", model: "gemini-2.5-flash" },
          ],
        },
      },
    });
    assert.deepEqual(summary(routing.models.get("mixed")), {
      name: "mixed",
      targets: [
        "openai:gpt-4o×1 [openai/gpt-4o]",
        "azure:gpt4o-prod×2.5 [azure/gpt4o-prod]",
        "gemini:gemini-2.5-flash×1 [gemini/gemini-2.5-flash]",
      ],
      retries: 0,
      timeoutMs: 45000,
      deadlineMs: 45000,
    });
  });
  await t.step("a target's provider is the configured provider", () => {
    const routing = build(ALL_KEYS, {
      providers: { vllm: VLLM },
      models: { llama: { targets: [{ provider: "vllm", model: "meta-llama/Llama-3" }] } },
    }, { VLLM_API_KEY: "v" });
    const target = routing.models.get("llama")?.targets[0];
    assert.equal(target?.provider, routing.providers.get("vllm"));
    assert.equal(target?.key, "vllm/meta-llama/Llama-3");
  });
  await t.step(
    "timeout_ms defaults to CHOREOAI_UPSTREAM_TIMEOUT_MS; deadline_ms to timeout_ms",
    () => {
      const routing = build({ ...ALL_KEYS, CHOREOAI_UPSTREAM_TIMEOUT_MS: "30000" }, {
        models: {
          plain: { targets: [{ provider: "openai", model: "gpt-4o" }] },
          timed: { targets: [{ provider: "openai", model: "gpt-4o" }], timeout_ms: 5000 },
          deadlined: {
            targets: [{ provider: "openai", model: "gpt-4o" }],
            timeout_ms: 5000,
            deadline_ms: 20000,
            retries: 3,
          },
          deadline_only: { targets: [{ provider: "openai", model: "gpt-4o" }], deadline_ms: 90000 },
        },
      });
      assert.equal(routing.defaultTimeoutMs, 30000);
      const numbers = (name: string) => {
        const { retries, timeoutMs, deadlineMs } = summary(routing.models.get(name));
        return { retries, timeoutMs, deadlineMs };
      };
      assert.deepEqual(numbers("plain"), { retries: 0, timeoutMs: 30000, deadlineMs: 30000 });
      assert.deepEqual(numbers("timed"), { retries: 0, timeoutMs: 5000, deadlineMs: 5000 });
      assert.deepEqual(numbers("deadlined"), { retries: 3, timeoutMs: 5000, deadlineMs: 20000 });
      assert.deepEqual(numbers("deadline_only"), {
        retries: 0,
        timeoutMs: 30000,
        deadlineMs: 90000,
      });
    },
  );
  await t.step("the idle timeout default is 600000 ms", () => {
    assert.equal(build({}).defaultTimeoutMs, 600000);
  });
});

Deno.test("buildRouting() refuses targets naming no provider, and leaves out unkeyed ones", async (t) => {
  await t.step("an unknown provider", () => {
    const problems = problemsOf(ALL_KEYS, {
      models: {
        smart: {
          targets: [{ provider: "openai", model: "gpt-4o" }, {
            provider: "mistral",
            model: "large",
          }],
        },
      },
    });
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.ok(problems[0]?.startsWith("models.smart.targets[1].provider: "), problems[0]);
    assert.ok(problems[0]?.includes('"mistral"'), problems[0]);
  });
  const unkeyed: [string, string][] = [
    ["openai", "OPENAI_API_KEY"],
    ["anthropic", "ANTHROPIC_API_KEY"],
    ["azure", "AZURE_OPENAI_API_KEY"],
    ["gemini", "GEMINI_API_KEY"],
  ];
  for (const [provider, variable] of unkeyed) {
    await t.step(`unkeyed ${provider}: left out, the warning names ${variable}`, () => {
      const routing = build({}, {
        models: { m: { targets: [{ provider, model: "x" }] } },
      });
      assert.deepEqual(routing.models.get("m")?.targets, []);
      assert.equal(routing.warnings.length, 1, JSON.stringify(routing.warnings));
      assert.ok(routing.warnings[0]?.startsWith("models.m.targets[0].provider: "));
      assert.ok(routing.warnings[0]?.includes(variable), routing.warnings[0]);
    });
  }
  await t.step("choreoai is not a provider a target can name", () => {
    const problems = problemsOf(ALL_KEYS, {
      models: { m: { targets: [{ provider: "choreoai", model: "echo" }] } },
    });
    assert.equal(problems.length, 1);
    assert.ok(problems[0]?.startsWith("models.m.targets[0].provider: "), problems[0]);
  });
});

Deno.test("buildRouting() resolves fallbacks", async (t) => {
  const env = {
    OPENAI_API_KEY: "sk",
    ANTHROPIC_API_KEY: "ant",
    CHOREOAI_UPSTREAM_TIMEOUT_MS: "7000",
  };
  const primary = { targets: [{ provider: "openai", model: "gpt-4o" }] };
  await t.step("to public names, in order, without their own fallbacks", () => {
    const routing = build(env, {
      models: {
        smart: { ...primary, fallbacks: ["claude", "cheap"] },
        claude: {
          targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }],
          fallbacks: ["cheap"],
          retries: 1,
          timeout_ms: 3000,
        },
        cheap: { targets: [{ provider: "openai", model: "gpt-4o-mini" }] },
      },
    });
    const fallbacks = routing.models.get("smart")?.fallbacks ?? [];
    assert.deepEqual(fallbacks.map(summary), [
      {
        name: "claude",
        targets: ["anthropic:claude-sonnet-4-5×1 [anthropic/claude-sonnet-4-5]"],
        retries: 1,
        timeoutMs: 3000,
        deadlineMs: 3000,
      },
      {
        name: "cheap",
        targets: ["openai:gpt-4o-mini×1 [openai/gpt-4o-mini]"],
        retries: 0,
        timeoutMs: 7000,
        deadlineMs: 7000,
      },
    ]);
    assert.ok(fallbacks.every((f) => !("fallbacks" in f)), "a fallback's fallbacks are not used");
  });
  await t.step("to built-in names: provider/model and a family", () => {
    const routing = build(env, {
      models: { smart: { ...primary, fallbacks: ["anthropic/claude-sonnet-4-5", "gpt-4o"] } },
    });
    assert.deepEqual(routing.models.get("smart")?.fallbacks.map(summary), [
      {
        name: "anthropic/claude-sonnet-4-5",
        targets: ["anthropic:claude-sonnet-4-5×1 [anthropic/claude-sonnet-4-5]"],
        retries: 0,
        timeoutMs: 7000,
        deadlineMs: 7000,
      },
      {
        name: "gpt-4o",
        targets: ["openai:gpt-4o×1 [openai/gpt-4o]"],
        retries: 0,
        timeoutMs: 7000,
        deadlineMs: 7000,
      },
    ]);
  });
  await t.step("to a declared provider's model", () => {
    const routing = build(env, {
      providers: { vllm: VLLM },
      models: { smart: { ...primary, fallbacks: ["vllm/llama3"] } },
    }, { VLLM_API_KEY: "v" });
    assert.deepEqual(routing.models.get("smart")?.fallbacks.map((f) => f.targets[0]?.key), [
      "vllm/llama3",
    ]);
  });
  await t.step("a public name wins over a built-in name", () => {
    const routing = build(env, {
      models: {
        smart: { ...primary, fallbacks: ["gpt-4o"] },
        "gpt-4o": { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
      },
    });
    assert.deepEqual(routing.models.get("smart")?.fallbacks.map((f) => f.targets[0]?.key), [
      "anthropic/claude-sonnet-4-5",
    ]);
  });
  const refused: [string, string[], string, string[]][] = [
    ["a name nothing routes", ["llama-3-70b"], "models.smart.fallbacks[0]", ["llama-3-70b"]],
    ["a repeated fallback", ["gpt-4o", "gpt-4o"], "models.smart.fallbacks[1]", ["gpt-4o"]],
    ["its own model", ["smart"], "models.smart.fallbacks[0]", ["smart"]],
  ];
  for (const [name, fallbacks, path, words] of refused) {
    await t.step(`refuses ${name}`, () => {
      const problems = problemsOf(env, { models: { smart: { ...primary, fallbacks } } });
      assert.equal(problems.length, 1, JSON.stringify(problems));
      const [problem = ""] = problems;
      assert.ok(problem.startsWith(`${path}: `), problem);
      for (const word of words) assert.ok(problem.includes(word), `${word} in ${problem}`);
    });
  }
  const leftOut: [string, string, string][] = [
    ["an unkeyed built-in", "gemini-2.5-flash", "GEMINI_API_KEY"],
    ["an unkeyed prefix", "azure/gpt4o-prod", "AZURE_OPENAI_API_KEY"],
  ];
  for (const [name, fallback, variable] of leftOut) {
    await t.step(`leaves out ${name}, naming ${variable}`, () => {
      const routing = build(env, { models: { smart: { ...primary, fallbacks: [fallback] } } });
      assert.deepEqual(routing.models.get("smart")?.fallbacks, []);
      assert.equal(routing.warnings.length, 1);
      assert.ok(routing.warnings[0]?.startsWith("models.smart.fallbacks[0]: "));
      assert.ok(routing.warnings[0]?.includes(variable), routing.warnings[0]);
    });
  }
});

Deno.test("buildRouting() reports every problem at once, and every missing key as a warning", () => {
  const file = {
    providers: {
      vllm: VLLM,
      az: { kind: "azure", endpoint: "https://a.example", api_key_env: "AZ_KEY" },
    },
    models: {
      smart: {
        targets: [{ provider: "anthropic", model: "claude" }, { provider: "nope", model: "x" }],
        fallbacks: ["mistral-large", "smart"],
      },
    },
  };
  const problems = problemsOf({ OPENAI_API_KEY: "sk" }, file);
  assert.deepEqual(problems.map((p) => p.slice(0, p.indexOf(": "))).sort(), [
    "models.smart.fallbacks[0]",
    "models.smart.fallbacks[1]",
    "models.smart.targets[1].provider",
  ]);
  const fixed = structuredClone(file);
  fixed.models.smart.targets.pop();
  fixed.models.smart.fallbacks = [];
  const routing = build({ OPENAI_API_KEY: "sk" }, fixed);
  assert.deepEqual(routing.warnings.map((w) => w.slice(0, w.indexOf(": "))).sort(), [
    "models.smart.targets[0].provider",
    "providers.az.api_key_env",
    "providers.vllm.api_key_env",
  ]);
});

Deno.test("buildRouting() sets the circuit breaker", async (t) => {
  await t.step("defaults: 3 failures, 30000 ms", () => {
    assert.deepEqual(build({}).breaker, { failures: 3, cooldownMs: 30000 });
    assert.deepEqual(build({}, {}).breaker, { failures: 3, cooldownMs: 30000 });
  });
  await t.step("from the file", () => {
    assert.deepEqual(build({}, { circuit_breaker: { failures: 1, cooldown_ms: 500 } }).breaker, {
      failures: 1,
      cooldownMs: 500,
    });
  });
  await t.step("one setting given, the other defaulted", () => {
    assert.deepEqual(build({}, { circuit_breaker: { cooldown_ms: 500 } }).breaker, {
      failures: 3,
      cooldownMs: 500,
    });
  });
});
