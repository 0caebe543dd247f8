/**
 * The client stays browser-friendly: its module graph holds its own files and eventsource-parser
 * only, it loads and works where neither `Deno` nor `process` exists, and under Deno without
 * --allow-env it neither throws nor prompts when it looks for CHOREOAI_API_KEY.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MOD = new URL("../../src/client/mod.ts", import.meta.url);
const CLIENT_DIR = new URL("../../src/client/", import.meta.url).href;
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** Runs `deno` with `args`; its output, decoded. */
async function deno(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("deno", {
    args,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

interface InfoModule {
  readonly specifier: string;
  readonly kind?: string;
  readonly dependencies?: readonly { readonly specifier: string }[];
}

Deno.test("the client's module graph is its own files and eventsource-parser", async () => {
  const { code, stdout, stderr } = await deno(["info", "--json", "--config", CONFIG, MOD.href]);
  assert.equal(code, 0, stderr);
  const info = JSON.parse(stdout) as { modules: InfoModule[] };
  assert.ok(info.modules.length > 3);
  for (const module of info.modules) {
    const own = module.specifier.startsWith(CLIENT_DIR);
    const parser = /^npm:\/?eventsource-parser@/.test(module.specifier);
    assert.ok(own || parser, `the client imports ${module.specifier}`);
    for (const dependency of module.dependencies ?? []) {
      assert.match(
        dependency.specifier,
        /^(\.\/[a-z_]+\.ts|eventsource-parser(\/stream)?)$/,
        `${module.specifier} imports ${dependency.specifier}`,
      );
    }
  }
  assert.ok(info.modules.some((module) => /eventsource-parser/.test(module.specifier)));
});

Deno.test("the client works where there is neither Deno nor process (a browser)", async () => {
  const script = `
    delete globalThis.Deno;
    delete globalThis.process;
    const { ChoreoAI, ChoreoAIError } = await import(${JSON.stringify(MOD.href)});
    const results = { deno: typeof Deno, process: typeof process };
    try { new ChoreoAI(); } catch (error) {
      results.noKey = error instanceof ChoreoAIError && /CHOREOAI_API_KEY/.test(error.message);
    }
    const client = new ChoreoAI({
      apiKey: "sk-page-key-0123456789",
      fetch: async (input, init) => {
        const request = new Request(input, init);
        results.url = request.url;
        results.auth = request.headers.get("authorization");
        return Response.json({ object: "list", data: [{ id: "m", object: "model", created: 0, owned_by: "x" }] });
      },
    });
    results.ids = (await client.models.list()).data.map((model) => model.id);
    results.json = JSON.stringify(client);
    console.log(JSON.stringify(results));
  `;
  const { code, stdout, stderr } = await deno(
    ["eval", "--config", CONFIG, "--ext=js", script],
    { CHOREOAI_API_KEY: "must-not-be-read" },
  );
  assert.equal(code, 0, stderr);
  const results = JSON.parse(stdout);
  assert.equal(results.deno, "undefined");
  assert.equal(results.process, "undefined");
  assert.equal(results.noKey, true, "no environment: the key must be passed");
  assert.equal(results.url, "http://localhost:8000/v1/models");
  assert.equal(results.auth, "Bearer sk-page-key-0123456789");
  assert.deepEqual(results.ids, ["m"]);
  assert.doesNotMatch(results.json, /sk-page-key/);
});

Deno.test("under Deno without --allow-env the variable reads as unset, without a prompt", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/no_env.ts`;
    await Deno.writeTextFile(
      file,
      `import { ChoreoAI, ChoreoAIError } from ${JSON.stringify(MOD.href)};
       try {
         new ChoreoAI();
         console.log("read");
       } catch (error) {
         console.log(error instanceof ChoreoAIError ? "unset" : String(error));
       }
       console.log(new ChoreoAI({ apiKey: "k" }).baseURL);`,
    );
    const { code, stdout, stderr } = await deno(
      ["run", "--no-prompt", "--config", CONFIG, file],
      { CHOREOAI_API_KEY: "sk-env-key", CHOREOAI_BASE_URL: "http://env.example/v1" },
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split("\n"), ["unset", "http://localhost:8000/v1"]);
    const allowed = await deno(
      ["run", "--no-prompt", "--allow-env=CHOREOAI_API_KEY", "--config", CONFIG, file],
      { CHOREOAI_API_KEY: "sk-env-key" },
    );
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stdout.trim().split("\n")[0], "read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
