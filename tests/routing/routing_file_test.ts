import assert from "node:assert/strict";
import fc from "fast-check";
import { parseConfig } from "../../src/config.ts";
import { compileRoutingFile } from "../../src/routing/load.ts";
import { parseRoutingFile, RoutingFileError } from "../../src/routing/routing_file.ts";

/** DESIGN.md's example routing file, verbatim. */
const DESIGN_EXAMPLE = `{
  "providers": {
    "local-vllm": { "kind": "openai-compatible", "base_url": "http://127.0.0.1:8001/v1", "api_key_env": "VLLM_API_KEY" },
    "azure-eu": { "kind": "azure", "endpoint": "https://eu.example.azure.com", "api_key_env": "AZURE_EU_KEY", "api_version": "2024-10-21" }
  },
  "models": {
    "smart": {
      "targets": [
        { "provider": "azure-eu", "model": "gpt4o-prod", "weight": 3 },
        { "provider": "openai", "model": "gpt-4o", "weight": 1 }
      ],
      "fallbacks": ["claude"],
      "timeout_ms": 60000,
      "retries": 2
    },
    "claude": { "targets": [{ "provider": "anthropic", "model": "claude-sonnet-4-5" }] }
  }
}`;

const VLLM = { kind: "openai-compatible", base_url: "http://127.0.0.1:8001/v1" };
const TARGET = { provider: "openai", model: "gpt-4o" };

/** The problems parseRoutingFile reports for `file` (given as a value, or as raw text). */
function problemsOf(file: unknown): readonly string[] {
  const text = typeof file === "string" ? file : JSON.stringify(file);
  try {
    parseRoutingFile(text);
  } catch (error) {
    assert.ok(error instanceof RoutingFileError, `expected a RoutingFileError, got ${error}`);
    assert.equal(error.name, "RoutingFileError");
    for (const problem of error.problems) {
      assert.ok(error.message.includes(problem), "the message lists every problem");
    }
    return error.problems;
  }
  assert.fail(`expected ${text} to be refused`);
}

/** Asserts that exactly one problem is reported, at `path`, and that it mentions `words`. */
function assertOneProblem(file: unknown, path: string, words: readonly string[] = []): void {
  const problems = problemsOf(file);
  assert.equal(problems.length, 1, `one problem expected, got ${JSON.stringify(problems)}`);
  const [problem = ""] = problems;
  assert.ok(problem.startsWith(`${path}: `), `expected the problem at ${path}: ${problem}`);
  for (const word of words) {
    assert.ok(problem.toLowerCase().includes(word.toLowerCase()), `"${word}" in ${problem}`);
  }
}

Deno.test("parseRoutingFile() reads DESIGN.md's example", () => {
  const file = parseRoutingFile(DESIGN_EXAMPLE);
  assert.deepEqual(file, {
    providers: {
      "local-vllm": {
        kind: "openai-compatible",
        base_url: "http://127.0.0.1:8001/v1",
        api_key_env: "VLLM_API_KEY",
      },
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
  });
});

Deno.test("parseRoutingFile() accepts every optional part", async (t) => {
  await t.step("an empty file object", () => {
    assert.deepEqual(parseRoutingFile("{}"), {});
  });
  await t.step("$schema, circuit_breaker, deadline_ms, headers, stream_usage", () => {
    const file = parseRoutingFile(JSON.stringify({
      $schema: "./choreoai.schema.json",
      providers: {
        vllm: { ...VLLM, stream_usage: false, headers: { "X-Team": "search" } },
        "claude.eu": { kind: "anthropic", api_key_env: "EU_ANTHROPIC_KEY" },
        "gem_1": { kind: "gemini", api_key_env: "GEM", base_url: "https://g.example" },
        "az-preview": {
          kind: "azure",
          endpoint: "https://a.example",
          api_key_env: "AZ",
          api_version: "2025-01-01-preview",
        },
      },
      models: {
        "team/fast": {
          targets: [{ provider: "vllm", model: "llama3", weight: 0.5 }],
          timeout_ms: 1,
          deadline_ms: 90000,
          retries: 10,
          fallbacks: ["gpt-4o"],
        },
      },
      circuit_breaker: { failures: 5, cooldown_ms: 1000 },
    }));
    assert.equal(file.providers?.["vllm"]?.kind, "openai-compatible");
    assert.deepEqual(file.circuit_breaker, { failures: 5, cooldown_ms: 1000 });
    assert.equal(file.models?.["team/fast"]?.retries, 10);
  });
  await t.step("retries 0", () => {
    const file = parseRoutingFile(
      JSON.stringify({ models: { m: { targets: [TARGET], retries: 0 } } }),
    );
    assert.equal(file.models?.["m"]?.retries, 0);
  });
  await t.step("a trailing slash of a URL is dropped", () => {
    const file = parseRoutingFile(JSON.stringify({
      providers: {
        vllm: { kind: "openai-compatible", base_url: "http://127.0.0.1:8001/v1/" },
        az: { kind: "azure", endpoint: "https://eu.example.azure.com//", api_key_env: "K" },
      },
    }));
    const vllm = file.providers?.["vllm"];
    const az = file.providers?.["az"];
    assert.ok(vllm?.kind === "openai-compatible" && az?.kind === "azure");
    assert.equal(vllm.base_url, "http://127.0.0.1:8001/v1");
    assert.equal(az.endpoint, "https://eu.example.azure.com");
  });
});

Deno.test("parseRoutingFile() names each mistake with its place", async (t) => {
  const cases: { name: string; file: unknown; path: string; words?: string[] }[] = [
    {
      name: "fallback instead of fallbacks",
      file: { models: { smart: { targets: [TARGET], fallback: ["claude"] } } },
      path: "models.smart",
      words: ["fallback"],
    },
    {
      name: "an unknown top-level field",
      file: { model: {} },
      path: "(file)",
      words: ["model"],
    },
    {
      name: "an unknown provider field",
      file: { providers: { vllm: { ...VLLM, apikey_env: "K" } } },
      path: "providers.vllm",
      words: ["apikey_env"],
    },
    {
      name: "an unknown target field",
      file: { models: { m: { targets: [{ ...TARGET, wieght: 2 }] } } },
      path: "models.m.targets[0]",
      words: ["wieght"],
    },
    {
      name: "stream_usage on an anthropic provider",
      file: { providers: { a: { kind: "anthropic", api_key_env: "K", stream_usage: false } } },
      path: "providers.a",
      words: ["stream_usage"],
    },
    {
      name: "an unknown circuit_breaker field",
      file: { circuit_breaker: { cooldown: 5 } },
      path: "circuit_breaker",
      words: ["cooldown"],
    },
    {
      name: "a bad kind",
      file: { providers: { vllm: { ...VLLM, kind: "openai" } } },
      path: "providers.vllm.kind",
      words: ["openai-compatible", "azure", "anthropic", "gemini"],
    },
    {
      name: "no kind",
      file: { providers: { vllm: { base_url: "http://127.0.0.1:8001/v1" } } },
      path: "providers.vllm.kind",
    },
    {
      name: "openai-compatible without base_url",
      file: { providers: { vllm: { kind: "openai-compatible", api_key_env: "K" } } },
      path: "providers.vllm.base_url",
    },
    {
      name: "a base_url that is not http(s)",
      file: { providers: { vllm: { kind: "openai-compatible", base_url: "ftp://h/v1" } } },
      path: "providers.vllm.base_url",
      words: ["http"],
    },
    {
      name: "a base_url that is not a URL",
      file: { providers: { vllm: { kind: "openai-compatible", base_url: "localhost:8001" } } },
      path: "providers.vllm.base_url",
    },
    {
      name: "azure without endpoint",
      file: { providers: { az: { kind: "azure", api_key_env: "K" } } },
      path: "providers.az.endpoint",
    },
    {
      name: "azure without api_key_env",
      file: { providers: { az: { kind: "azure", endpoint: "https://a.example" } } },
      path: "providers.az.api_key_env",
    },
    {
      name: "azure with a malformed api_version",
      file: {
        providers: {
          az: { kind: "azure", endpoint: "https://a.example", api_key_env: "K", api_version: "v1" },
        },
      },
      path: "providers.az.api_version",
      words: ["2024-10-21"],
    },
    {
      name: "anthropic without api_key_env",
      file: { providers: { a: { kind: "anthropic" } } },
      path: "providers.a.api_key_env",
    },
    {
      name: "gemini without api_key_env",
      file: { providers: { g: { kind: "gemini", base_url: "https://g.example" } } },
      path: "providers.g.api_key_env",
    },
    {
      name: "an api_key_env that holds a key rather than a variable name",
      file: { providers: { vllm: { ...VLLM, api_key_env: "sk-live-123" } } },
      path: "providers.vllm.api_key_env",
      words: ["environment variable"],
    },
    {
      name: "a header value over two lines",
      file: { providers: { vllm: { ...VLLM, headers: { "X-Team": "a\r\nX-Evil: 1" } } } },
      path: "providers.vllm.headers.X-Team",
      words: ["one line"],
    },
    {
      name: "a header value with a bare newline",
      file: { providers: { vllm: { ...VLLM, headers: { "X-Team": "a\nb" } } } },
      path: "providers.vllm.headers.X-Team",
    },
    {
      name: "a header value that is not a string",
      file: { providers: { vllm: { ...VLLM, headers: { "X-Retries": 3 } } } },
      path: "providers.vllm.headers.X-Retries",
    },
    {
      name: "weight 0",
      file: { models: { m: { targets: [TARGET, { ...TARGET, weight: 0 }] } } },
      path: "models.m.targets[1].weight",
      words: ["greater than 0"],
    },
    {
      name: "a negative weight",
      file: { models: { m: { targets: [{ ...TARGET, weight: -1 }] } } },
      path: "models.m.targets[0].weight",
    },
    {
      name: "a weight given as a string",
      file: { models: { m: { targets: [{ ...TARGET, weight: "3" }] } } },
      path: "models.m.targets[0].weight",
    },
    {
      name: "retries 11",
      file: { models: { m: { targets: [TARGET], retries: 11 } } },
      path: "models.m.retries",
      words: ["10"],
    },
    {
      name: "negative retries",
      file: { models: { m: { targets: [TARGET], retries: -1 } } },
      path: "models.m.retries",
    },
    {
      name: "fractional retries",
      file: { models: { m: { targets: [TARGET], retries: 1.5 } } },
      path: "models.m.retries",
    },
    {
      name: "timeout_ms 0",
      file: { models: { m: { targets: [TARGET], timeout_ms: 0 } } },
      path: "models.m.timeout_ms",
    },
    {
      name: "deadline_ms 0",
      file: { models: { m: { targets: [TARGET], deadline_ms: 0 } } },
      path: "models.m.deadline_ms",
    },
    {
      name: "no targets",
      file: { models: { m: { targets: [] } } },
      path: "models.m.targets",
      words: ["at least one target"],
    },
    {
      name: "a target without a model",
      file: { models: { m: { targets: [{ provider: "openai" }] } } },
      path: "models.m.targets[0].model",
    },
    {
      name: "a target with an empty provider",
      file: { models: { m: { targets: [{ provider: "", model: "gpt-4o" }] } } },
      path: "models.m.targets[0].provider",
    },
    {
      name: "fallbacks given as a string",
      file: { models: { m: { targets: [TARGET], fallbacks: "claude" } } },
      path: "models.m.fallbacks",
    },
    {
      name: "an empty fallback name",
      file: { models: { m: { targets: [TARGET], fallbacks: ["claude", ""] } } },
      path: "models.m.fallbacks[1]",
    },
    {
      name: "circuit_breaker failures 0",
      file: { circuit_breaker: { failures: 0 } },
      path: "circuit_breaker.failures",
    },
    {
      name: "a provider named openai",
      file: { providers: { openai: VLLM } },
      path: "providers.openai",
      words: ["built-in"],
    },
    {
      name: "a provider named anthropic",
      file: { providers: { anthropic: { kind: "anthropic", api_key_env: "K" } } },
      path: "providers.anthropic",
      words: ["built-in"],
    },
    {
      name: "a provider named choreoai",
      file: { providers: { choreoai: VLLM } },
      path: "providers.choreoai",
      words: ["choreoai"],
    },
    {
      name: "a provider name with upper case",
      file: { providers: { LocalVllm: VLLM } },
      path: "providers.LocalVllm",
    },
    {
      name: "a provider name with a slash",
      file: { providers: { "local/vllm": VLLM } },
      path: "providers.local/vllm",
    },
    {
      name: "a provider name with a space",
      file: { providers: { "local vllm": VLLM } },
      path: "providers.local vllm",
    },
    {
      name: "a model name with a space",
      file: { models: { "my model": { targets: [TARGET] } } },
      path: "models.my model",
    },
    {
      name: "a file that is an array",
      file: [],
      path: "(file)",
    },
    {
      name: "a file that is null",
      file: null,
      path: "(file)",
    },
  ];
  for (const { name, file, path, words } of cases) {
    await t.step(name, () => assertOneProblem(file, path, words));
  }
});

Deno.test("parseRoutingFile() refuses credential and framing headers, whatever their case", async (t) => {
  const names = [
    "Authorization",
    "authorization",
    "Proxy-Authorization",
    "api-key",
    "X-Api-Key",
    "x-goog-api-key",
    "Host",
    "Content-Length",
    "Content-Type",
    "Transfer-Encoding",
    "Connection",
  ];
  for (const name of names) {
    await t.step(name, () => {
      assertOneProblem(
        { providers: { vllm: { ...VLLM, headers: { [name]: "Bearer sk-1" } } } },
        `providers.vllm.headers.${name}`,
      );
    });
  }
  await t.step("a header name that is not a token", () => {
    assertOneProblem(
      { providers: { vllm: { ...VLLM, headers: { "X Team": "a" } } } },
      "providers.vllm.headers.X Team",
    );
  });
});

Deno.test("parseRoutingFile() says why a header or provider name is refused", async (t) => {
  await t.step("Authorization: credentials come from api_key_env", () => {
    const [problem = ""] = problemsOf({
      providers: { vllm: { ...VLLM, headers: { Authorization: "Bearer sk-1" } } },
    });
    assert.match(problem, /api_key_env/);
  });
  await t.step("a bad provider name: which characters are allowed", () => {
    const [problem = ""] = problemsOf({ providers: { LocalVllm: VLLM } });
    assert.match(problem, /lower-case/);
  });
});

Deno.test("parseRoutingFile() refuses text that is not JSON", async (t) => {
  const texts = ["", "{", "{'models': {}}", '{"models": {},}', "models: {}", "\uFEFF{}x"];
  for (const text of texts) {
    await t.step(JSON.stringify(text), () => {
      const problems = problemsOf(text);
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? "", /^not valid JSON: /);
    });
  }
});

Deno.test("parseRoutingFile() reports several mistakes at once", () => {
  const problems = problemsOf({
    providers: {
      vllm: { kind: "openai-compatible" },
      az: { kind: "azure", endpoint: "https://a.example" },
    },
    models: {
      smart: { targets: [{ ...TARGET, weight: 0 }], fallback: ["claude"], retries: 11 },
      slow: { targets: [TARGET], timeout_ms: 0 },
    },
  });
  const places = problems.map((p) => p.slice(0, p.indexOf(": "))).sort();
  assert.deepEqual(places, [
    "models.slow.timeout_ms",
    "models.smart",
    "models.smart.retries",
    "models.smart.targets[0].weight",
    "providers.az.api_key_env",
    "providers.vllm.base_url",
  ]);
});

Deno.test("parseRoutingFile() names both halves of azure's base_url written for endpoint", () => {
  const problems = problemsOf({
    providers: { az: { kind: "azure", base_url: "https://a.example", api_key_env: "K" } },
  });
  assert.equal(problems.length, 2, JSON.stringify(problems));
  assert.ok(problems.some((p) => p.startsWith("providers.az: ") && p.includes("base_url")));
  assert.ok(problems.some((p) => p.startsWith("providers.az.endpoint: ")));
});

Deno.test("parseRoutingFile() reports every provider that takes a built-in name", () => {
  const problems = problemsOf({ providers: { openai: VLLM, gemini: VLLM, choreoai: VLLM } });
  assert.deepEqual(problems.map((p) => p.slice(0, p.indexOf(": "))).sort(), [
    "providers.choreoai",
    "providers.gemini",
    "providers.openai",
  ]);
});

Deno.test("parseRoutingFile() reports a built-in provider name along with shape mistakes", () => {
  const problems = problemsOf({
    providers: { openai: VLLM },
    models: { m: { targets: [TARGET], retries: 11 } },
  });
  assert.deepEqual(problems.map((p) => p.slice(0, p.indexOf(": "))).sort(), [
    "models.m.retries",
    "providers.openai",
  ]);
});

/** Values shaped somewhat like a routing file, to reach past the first check. */
const routingLike = fc.dictionary(
  fc.constantFrom("providers", "models", "circuit_breaker", "$schema", "fallback"),
  fc.oneof(
    fc.jsonValue(),
    fc.dictionary(
      fc.oneof(fc.constantFrom("openai", "choreoai", "vllm", "smart", "Bad Name"), fc.string()),
      fc.oneof(
        fc.jsonValue(),
        fc.record({
          kind: fc.oneof(
            fc.constantFrom("openai-compatible", "azure", "anthropic", "gemini"),
            fc.jsonValue(),
          ),
          base_url: fc.oneof(fc.constant("http://127.0.0.1:8001/v1"), fc.jsonValue()),
          endpoint: fc.oneof(fc.constant("https://a.example"), fc.string()),
          api_key_env: fc.oneof(fc.constant("KEY"), fc.string()),
          headers: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.jsonValue())),
          targets: fc.array(
            fc.record({
              provider: fc.string(),
              model: fc.string(),
              weight: fc.oneof(fc.double(), fc.jsonValue()),
            }, { requiredKeys: [] }),
          ),
          fallbacks: fc.array(fc.string()),
          retries: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.jsonValue()),
          timeout_ms: fc.oneof(fc.integer(), fc.double()),
        }, { requiredKeys: [] }),
      ),
    ),
  ),
);

/** Calls parseRoutingFile; fails the property if it throws anything but a RoutingFileError. */
function parsesOrNamesProblems(text: string): void {
  try {
    parseRoutingFile(text);
  } catch (error) {
    if (!(error instanceof RoutingFileError)) throw error;
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) assert.equal(typeof problem, "string");
  }
}

Deno.test("parseRoutingFile() throws only RoutingFileError", async (t) => {
  await t.step("for any string", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), parsesOrNamesProblems), {
      numRuns: 500,
    });
  });
  await t.step("for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => parsesOrNamesProblems(JSON.stringify(value))),
      { numRuns: 500 },
    );
  });
  await t.step("for values shaped like a routing file", () => {
    fc.assert(
      fc.property(routingLike, (value) => parsesOrNamesProblems(JSON.stringify(value))),
      { numRuns: 1000 },
    );
  });
});

/** What compileRoutingFile reports for `value`: its problems, none when it compiles. */
function compiledProblems(value: unknown): readonly string[] {
  try {
    compileRoutingFile(JSON.stringify(value), parseConfig({ OPENAI_API_KEY: "sk" }), {});
    return [];
  } catch (error) {
    if (!(error instanceof RoutingFileError)) throw error;
    return error.problems;
  }
}

/** Files that are nearly right: names that resolve or not, a few values refused. */
const nearlyRight = fc.record({
  providers: fc.dictionary(
    fc.constantFrom("vllm", "team", "Bad Name", "gemini"),
    fc.constantFrom(VLLM, { kind: "openai" }, { ...VLLM, weight: 1 }),
  ),
  models: fc.dictionary(
    fc.constantFrom("smart", "fast", "my model"),
    fc.record({
      targets: fc.array(
        fc.oneof(
          fc.record({
            provider: fc.constantFrom("vllm", "team", "ghost", "openai", "anthropic", ""),
            model: fc.constantFrom("m", ""),
          }),
          fc.constant(5),
        ),
        { maxLength: 3 },
      ),
      fallbacks: fc.array(
        fc.constantFrom("smart", "fast", "my model", "gpt-4o", "nowhere", "vllm/m", "ghost/m", ""),
        { maxLength: 3 },
      ),
      retries: fc.integer({ min: 0, max: 11 }),
    }, { requiredKeys: ["targets"] }),
  ),
}, { requiredKeys: [] });

Deno.test("compileRoutingFile(): an unknown key adds its own problem and hides none", () => {
  fc.assert(
    fc.property(fc.oneof(routingLike, nearlyRight), (value: Record<string, unknown>) => {
      const { fallback: _, ...file } = value;
      const alone = compiledProblems(file);
      const beside = compiledProblems({ ...file, extra_key: true });
      assert.deepEqual(
        [...beside].sort(),
        [...alone, '(file): Unrecognized key: "extra_key"'].sort(),
      );
    }),
    { numRuns: 1000 },
  );
});

Deno.test("parseRoutingFile() accepts prices on a model and on a target", () => {
  const file = parseRoutingFile(JSON.stringify({
    models: {
      m: {
        prices: { input_per_mtok: 2.5, output_per_mtok: 10 },
        targets: [
          {
            ...TARGET,
            prices: {
              input_per_mtok: 0,
              output_per_mtok: 0.6,
              cache_read_per_mtok: 0.075,
              cache_write_per_mtok: 0.1875,
            },
          },
        ],
      },
    },
  }));
  assert.deepEqual(file.models?.m?.prices, { input_per_mtok: 2.5, output_per_mtok: 10 });
  assert.deepEqual(file.models?.m?.targets[0]?.prices, {
    input_per_mtok: 0,
    output_per_mtok: 0.6,
    cache_read_per_mtok: 0.075,
    cache_write_per_mtok: 0.1875,
  });
});

Deno.test("parseRoutingFile() names each mistake in prices", async (t) => {
  const model = (prices: unknown) => ({ models: { m: { targets: [TARGET], prices } } });
  const target = (prices: unknown) => ({ models: { m: { targets: [{ ...TARGET, prices }] } } });
  const cases: { name: string; file: unknown; path: string; words: string[] }[] = [
    {
      name: "no input price",
      file: model({ output_per_mtok: 10 }),
      path: "models.m.prices.input_per_mtok",
      words: ["required", "per million tokens"],
    },
    {
      name: "no output price on a target",
      file: target({ input_per_mtok: 1 }),
      path: "models.m.targets[0].prices.output_per_mtok",
      words: ["required"],
    },
    {
      name: "a negative price",
      file: model({ input_per_mtok: -1, output_per_mtok: 1 }),
      path: "models.m.prices.input_per_mtok",
      words: ["negative"],
    },
    {
      name: "a price written as text",
      file: target({ input_per_mtok: "2.50", output_per_mtok: 1 }),
      path: "models.m.targets[0].prices.input_per_mtok",
      words: ["must be a number"],
    },
    {
      name: "a price too large to be a number (1e400 reads as Infinity)",
      file: '{"models":{"m":{"targets":[{"provider":"openai","model":"x"}],' +
        '"prices":{"input_per_mtok":1,"output_per_mtok":1e400}}}}',
      path: "models.m.prices.output_per_mtok",
      words: ["must be a number"],
    },
    {
      name: "a negative cache price",
      file: model({ input_per_mtok: 1, output_per_mtok: 1, cache_read_per_mtok: -0.1 }),
      path: "models.m.prices.cache_read_per_mtok",
      words: ["negative"],
    },
    {
      name: "a misspelt price",
      file: model({ input_per_mtok: 1, output_per_mtok: 1, cached_per_mtok: 0.1 }),
      path: "models.m.prices",
      words: ["cached_per_mtok"],
    },
    {
      name: "prices that are not an object",
      file: target(2.5),
      path: "models.m.targets[0].prices",
      words: ["must be an object", "input_per_mtok"],
    },
  ];
  for (const { name, file, path, words } of cases) {
    await t.step(name, () => assertOneProblem(file, path, words));
  }
});
