import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { compileRoutingFile } from "../../src/routing/load.ts";
import { RoutingFileError } from "../../src/routing/routing_file.ts";

const VLLM = { kind: "openai-compatible", base_url: "http://127.0.0.1:8001/v1" };

/** The problems compileRoutingFile reports for `file` (no built-in provider keyed). */
function problemsOf(file: unknown): readonly string[] {
  try {
    compileRoutingFile(JSON.stringify(file), parseConfig({}), {});
  } catch (error) {
    assert.ok(error instanceof RoutingFileError, `expected a RoutingFileError, got ${error}`);
    for (const problem of error.problems) assert.ok(error.message.includes(problem));
    return error.problems;
  }
  assert.fail("expected the routing file to be refused");
}

/** The place of each problem, sorted. */
function placesOf(file: unknown): string[] {
  return problemsOf(file).map((p) => p.slice(0, p.indexOf(": "))).sort();
}

Deno.test("compileRoutingFile() reports every mistake at once, an unknown key included", async (t) => {
  const ghost = { provider: "ghost", model: "m" };
  const cases: { name: string; file: unknown; places: string[] }[] = [
    {
      name: "an unknown top-level key and a target naming no provider",
      file: { fallback: ["x"], models: { smart: { targets: [ghost] } } },
      places: ["(file)", "models.smart.targets[0].provider"],
    },
    {
      name: "an unknown provider key and a target naming no provider",
      file: {
        providers: { vllm: { ...VLLM, apikey_env: "K" } },
        models: { smart: { targets: [{ provider: "vllm", model: "m" }, ghost] } },
      },
      places: ["models.smart.targets[1].provider", "providers.vllm"],
    },
    {
      name: "an unknown model key and a fallback that cannot be routed",
      file: { models: { smart: { targets: [ghost], fallback: "x", fallbacks: ["nowhere"] } } },
      places: [
        "models.smart",
        "models.smart.fallbacks[0]",
        "models.smart.targets[0].provider",
      ],
    },
    {
      name: "an unknown key in the very target that names no provider",
      file: { models: { smart: { targets: [{ ...ghost, wieght: 2 }] } } },
      places: ["models.smart.targets[0]", "models.smart.targets[0].provider"],
    },
    {
      name: "an unknown circuit_breaker key and a fallback chain that loops",
      file: {
        circuit_breaker: { cooldown: 5 },
        models: { smart: { targets: [ghost], fallbacks: ["smart"] } },
      },
      places: ["circuit_breaker", "models.smart.fallbacks[0]", "models.smart.targets[0].provider"],
    },
    {
      name: "a value out of range beside names that do not resolve",
      file: { models: { smart: { targets: [ghost], retries: 11, fallbacks: ["nowhere"] } } },
      places: [
        "models.smart.fallbacks[0]",
        "models.smart.retries",
        "models.smart.targets[0].provider",
      ],
    },
    {
      name: "a built-in provider name beside a target naming no provider",
      file: { providers: { openai: VLLM }, models: { smart: { targets: [ghost] } } },
      places: ["models.smart.targets[0].provider", "providers.openai"],
    },
    {
      name: "a refused provider or fallback is reported once, not again as a name",
      file: {
        extra: 1,
        models: {
          smart: { targets: [{ provider: "", model: "m" }, 5, { model: "m" }], fallbacks: [""] },
        },
      },
      places: [
        "(file)",
        "models.smart.fallbacks[0]",
        "models.smart.targets[1]",
        "models.smart.targets[2].provider",
        "models.smart.targets[0].provider",
      ].sort(),
    },
    {
      name: "a provider whose declaration is refused is still declared",
      file: {
        providers: { vllm: { kind: "openai" } },
        models: { smart: { targets: [{ provider: "vllm", model: "m" }], fallbacks: ["vllm/m"] } },
      },
      places: ["providers.vllm.kind"],
    },
    {
      name: "a model whose name is refused is still checked, and still a fallback",
      file: {
        models: {
          "my model": { targets: [ghost] },
          smart: { targets: [{ provider: "openai", model: "m" }], fallbacks: ["my model"] },
        },
      },
      places: ["models.my model", "models.my model.targets[0].provider"],
    },
    {
      name: "a model whose whole value is refused",
      file: { extra: 1, models: { smart: "gpt-4o", other: { targets: "x" } } },
      places: ["(file)", "models.other.targets", "models.smart"],
    },
    {
      name: "a file that is not an object",
      file: [{ models: { smart: { targets: [ghost] } } }],
      places: ["(file)"],
    },
  ];
  for (const { name, file, places } of cases) {
    await t.step(name, () => assert.deepEqual(placesOf(file), places));
  }
});

Deno.test("compileRoutingFile() says what is wrong with each name beside an unknown key", () => {
  const problems = problemsOf({
    fallback: ["x"],
    models: { smart: { targets: [{ provider: "ghost", model: "m" }] } },
  });
  assert.deepEqual(problems, [
    '(file): Unrecognized key: "fallback"',
    'models.smart.targets[0].provider: no provider named "ghost"',
  ]);
});

Deno.test("compileRoutingFile() compiles a good file", () => {
  const routing = compileRoutingFile(
    JSON.stringify({
      providers: { vllm: VLLM },
      models: { smart: { targets: [{ provider: "vllm", model: "llama" }] } },
    }),
    parseConfig({}),
    {},
  );
  assert.deepEqual([...routing.models.keys()], ["smart"]);
  assert.equal(routing.models.get("smart")?.targets[0]?.provider.baseUrl, VLLM.base_url);
});
