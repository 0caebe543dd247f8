/**
 * The routing file's life: a bad file stops the start naming every mistake, a good one serves
 * in a real process, and a change is picked up while running (a broken change is refused and the
 * last good table stays).
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { openRoutingFile } from "../../src/routing/load.ts";
import { openaiClient, startGateway, waitFor } from "../_helpers/gateway.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { run, spawnGateway } from "../_helpers/process.ts";

const HI = [{ role: "user" as const, content: "Hi" }];

Deno.test("a bad routing file stops the start, naming every mistake and no secret", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/routing.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        providers: {
          vllm: {
            kind: "openai-compatible",
            base_url: "http://127.0.0.1:1/v1",
            api_key_env: "NOPE",
          },
        },
        models: {
          smart: { targets: [{ provider: "ghost", model: "m" }], fallback: ["x"] },
        },
      }),
    );
    const { code, stderr } = await run([], {
      CHOREOAI_PORT: "0",
      CHOREOAI_CONFIG: path,
      OPENAI_API_KEY: "sk-should-never-be-printed",
    });
    assert.equal(code, 1);
    assert.match(stderr, /CHOREOAI_CONFIG/);
    assert.match(stderr, /models\.smart/);
    assert.match(stderr, /fallback/);
    // The unknown key does not hide the target that names no provider.
    assert.match(stderr, /models\.smart\.targets\[0\]\.provider: no provider named "ghost"/);
    assert.ok(!stderr.includes("sk-should-never-be-printed"));
    assert.ok(!stderr.includes("    at "), "no stack trace");

    await Deno.writeTextFile(
      path,
      JSON.stringify({
        providers: {
          vllm: {
            kind: "openai-compatible",
            base_url: "http://127.0.0.1:1/v1",
            api_key_env: "NOPE",
          },
        },
        models: { smart: { targets: [{ provider: "ghost", model: "m" }] } },
      }),
    );
    const second = await run([], { CHOREOAI_PORT: "0", CHOREOAI_CONFIG: path });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /models\.smart\.targets\[0\]\.provider: no provider named "ghost"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a real process serves a public name, its key read from the variable the file names", async () => {
  await using upstream = startFakeOpenAI();
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/routing.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        providers: {
          team: { kind: "openai-compatible", base_url: upstream.baseUrl, api_key_env: "TEAM_KEY" },
        },
        models: { house: { targets: [{ provider: "team", model: "house-model" }] } },
      }),
    );
    await using gateway = await spawnGateway({
      CHOREOAI_CONFIG: path,
      CHOREOAI_DB: `${dir}/usage.db`,
      TEAM_KEY: PROVIDER_KEY,
    });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-test-123", "content-type": "application/json" },
      body: JSON.stringify({ model: "house", messages: HI }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-choreoai-provider"), "team");
    await response.body?.cancel();
    assert.equal(upstream.requests[0]?.headers.get("authorization"), `Bearer ${PROVIDER_KEY}`);
    assert.equal(upstream.requests[0]?.body?.model, "house-model");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a changed routing file is picked up; a broken change keeps the last good one", async () => {
  await using upstream = startFakeOpenAI();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/routing.json`;
  const env = { CHOREOAI_PORT: "0", TEAM_KEY: PROVIDER_KEY };
  const file = (model: string) =>
    JSON.stringify({
      providers: {
        team: { kind: "openai-compatible", base_url: upstream.baseUrl, api_key_env: "TEAM_KEY" },
      },
      models: { [model]: { targets: [{ provider: "team", model: "m" }] } },
    });
  await Deno.writeTextFile(path, file("first"));
  const logs: Record<string, unknown>[] = [];
  using routing = await openRoutingFile(
    path,
    parseConfig(env),
    env,
    createLogger((line) => logs.push(JSON.parse(line)), Date.now),
  );
  routing.watch();
  await using gateway = startGateway({ env, routing: routing.current });
  const client = openaiClient(gateway);
  const works = (model: string) =>
    client.chat.completions.create({ model, messages: HI }).then(() => true, () => false);
  try {
    assert.equal(await works("first"), true);
    assert.equal(await works("second"), false);

    await Deno.writeTextFile(path, file("second"));
    await waitFor(() => routing.current().models.has("second"), 3_000);
    assert.equal(await works("second"), true);
    assert.equal(await works("first"), false);

    await Deno.writeTextFile(path, "{ not json");
    await waitFor(
      () => logs.some((l) => String(l.msg).includes("routing file reload failed")),
      3_000,
    );
    assert.equal(await works("second"), true, "a broken file must not take routes away");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a provider whose key variable is not set: the gateway starts, warns, and answers 404 naming it", async () => {
  await using upstream = startFakeOpenAI();
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/routing.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        providers: {
          team: { kind: "openai-compatible", base_url: upstream.baseUrl, api_key_env: "TEAM_KEY" },
        },
        models: {
          house: { targets: [{ provider: "team", model: "house-model" }] },
          claude: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
        },
      }),
    );
    await using gateway = await spawnGateway({ CHOREOAI_CONFIG: path, CHOREOAI_DB: `${dir}/u.db` });
    const ask = async (model: string) => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer sk-test-123", "content-type": "application/json" },
        body: JSON.stringify({ model, messages: HI }),
      });
      return { status: response.status, body: await response.json() };
    };
    const cases: [string, string][] = [["house", "TEAM_KEY"], ["claude", "ANTHROPIC_API_KEY"]];
    for (const [model, variable] of cases) {
      const { status, body } = await ask(model);
      assert.equal(status, 404);
      assert.equal(body.error.code, "model_not_found");
      assert.match(body.error.message, new RegExp(variable));
    }
    assert.equal((await ask("choreoai/echo")).status, 200);
    assert.equal(upstream.requests.length, 0, "nothing went out without credentials");
    const warnings = gateway.errors.join("");
    assert.match(warnings, /TEAM_KEY is not set/);
    assert.match(warnings, /ANTHROPIC_API_KEY/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
