/**
 * Start-up and shutdown of the real process: `deno run main.ts` spawned with a controlled
 * environment (the test process's own provider keys never leak in).
 */
import assert from "node:assert/strict";
import { keyFileText, makeKey } from "./_helpers/keys.ts";
import {
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  startFakeOpenAI,
  streamChunks,
} from "./_helpers/fake_openai.ts";

import { run, type Spawned, spawnGateway } from "./_helpers/process.ts";

Deno.test("main.ts --version, --help, and usage errors", async (t) => {
  await t.step("--version prints the version and exits 0", async () => {
    const { code, stdout } = await run(["--version"]);
    assert.equal(code, 0);
    assert.match(stdout, /^choreoai \d+\.\d+\.\d+\n$/);
  });
  await t.step("--help lists subcommands and every variable", async () => {
    const { code, stdout } = await run(["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /serve/);
    for (
      const name of ["CHOREOAI_PORT", "CHOREOAI_KEYS_FILE", "OPENAI_API_KEY", "GEMINI_BASE_URL"]
    ) {
      assert.match(stdout, new RegExp(name));
    }
  });
  await t.step("an unknown subcommand exits 2 with a message", async () => {
    const { code, stderr } = await run(["frobnicate"]);
    assert.equal(code, 2);
    assert.match(stderr, /Unknown subcommand "frobnicate"/);
  });
  await t.step("an unknown flag exits 2 with a message", async () => {
    const { code, stderr } = await run(["--frobnicate"]);
    assert.equal(code, 2);
    assert.match(stderr, /frobnicate/);
  });
});

Deno.test("bad configuration exits 1 naming every bad setting", async () => {
  const { code, stderr } = await run([], {
    CHOREOAI_PORT: "abc",
    OPENAI_BASE_URL: "not a url",
    CHOREOAI_ENV: "staging",
    OPENAI_API_KEY: "sk-should-never-be-printed",
  });
  assert.equal(code, 1);
  assert.match(stderr, /CHOREOAI_PORT/);
  assert.match(stderr, /OPENAI_BASE_URL/);
  assert.match(stderr, /CHOREOAI_ENV/);
  assert.ok(!stderr.includes("sk-should-never-be-printed"));
  assert.ok(!stderr.includes("    at "), "no stack trace");
});

Deno.test("production without a key list refuses to start", async () => {
  const { code, stderr } = await run([], { CHOREOAI_ENV: "production", CHOREOAI_PORT: "0" });
  assert.equal(code, 1);
  assert.match(stderr, /CHOREOAI_KEYS_FILE/);
});

Deno.test("a database that cannot be used stops the start, named without its password", async (t) => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      "unreachable",
      { CHOREOAI_DATABASE_URL: "postgres://choreoai:hunter2@127.0.0.1:1/choreoai" },
      /Cannot use the database postgres:\/\/choreoai:\*\*\*@127\.0\.0\.1:1\/choreoai: .*ECONNREFUSED/,
    ],
    [
      "not a PostgreSQL URL",
      { CHOREOAI_DATABASE_URL: "mysql://root:hunter2@127.0.0.1/choreoai" },
      /CHOREOAI_DATABASE_URL.*must be a URL postgres:\/\//,
    ],
  ];
  for (const [name, env, message] of cases) {
    await t.step(name, async () => {
      const { code, stderr } = await run([], { CHOREOAI_PORT: "0", ...env });
      assert.equal(code, 1);
      assert.match(stderr, message);
      assert.ok(!stderr.includes("hunter2"), stderr);
      assert.ok(!stderr.includes("    at "), "no stack trace");
    });
  }
});

Deno.test("development mode warns at start, loudly off loopback", async (t) => {
  await t.step("loopback", async () => {
    await using gateway = await spawnGateway({});
    const warnings = await warningsOf(gateway);
    assert.match(warnings, /development mode: any API key is accepted/);
  });
  await t.step("all interfaces", async () => {
    await using gateway = await spawnGateway({ CHOREOAI_HOST: "0.0.0.0" });
    const warnings = await warningsOf(gateway);
    assert.match(warnings, /DEVELOPMENT MODE ON A NON-LOOPBACK ADDRESS/);
  });
});

/** Stops the gateway and returns what it wrote to stderr. */
async function warningsOf(gateway: Spawned): Promise<string> {
  gateway.process.kill("SIGTERM");
  await gateway.exited;
  return gateway.errors.join("");
}

Deno.test("SIGTERM lets an in-flight stream finish, refuses new connections, exits 0", async () => {
  const sentFirst = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      const chunks = streamChunks(String(body.model), ["draining", "works"], false);
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const encoder = new TextEncoder();
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunks[0])}\n\n`));
          sentFirst.resolve();
          await finish.promise;
          for (const chunk of chunks.slice(1)) {
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
          }
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        },
      });
      return new Response(stream, { headers: SSE_RESPONSE_HEADERS });
    },
  });
  await using gateway = await spawnGateway({
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    CHOREOAI_DRAIN_MS: "10000",
  });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-client", "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-4o",
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
  const body = response.text();
  await sentFirst.promise;
  gateway.process.kill("SIGTERM");
  // The listener closes at once: a new connection is refused while the stream is still open.
  let refused = false;
  for (let i = 0; i < 100 && !refused; i++) {
    try {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(new URL(gateway.url).port),
      });
      conn.close();
      await new Promise((r) => setTimeout(r, 20));
    } catch {
      refused = true;
    }
  }
  assert.ok(refused, "new connections are refused during the drain");
  finish.resolve();
  const text = await body;
  assert.match(text, /"content":"works"/);
  assert.ok(text.endsWith("data: [DONE]\n\n"));
  const status = await gateway.exited;
  assert.equal(status.code, 0);
});

Deno.test("after CHOREOAI_DRAIN_MS, streams still running are ended and the process exits 0", async () => {
  const never = Promise.withResolvers<void>();
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      const [first] = streamChunks(String(body.model), ["stuck"], false);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(first)}\n\n`));
        },
        cancel() {
          never.resolve();
        },
      });
      return new Response(stream, { headers: SSE_RESPONSE_HEADERS });
    },
  });
  await using gateway = await spawnGateway({
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    CHOREOAI_DRAIN_MS: "300",
  });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-client", "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-4o",
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
  assert.ok(response.body !== null);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read();
  const started = Date.now();
  gateway.process.kill("SIGTERM");
  let rest = "";
  while (true) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    rest += value;
  }
  assert.ok(!rest.includes("[DONE]"));
  assert.match(rest, /server_shutting_down/);
  const status = await gateway.exited;
  assert.equal(status.code, 0);
  assert.ok(Date.now() - started < 10_000);
  await never.promise;
});

Deno.test("a key file that is missing or invalid at start is exit 1 naming the problem", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-main-" });
  try {
    await t.step("missing", async () => {
      const { code, stderr } = await run([], {
        CHOREOAI_KEYS_FILE: `${dir}/nope.json`,
        CHOREOAI_DB: `${dir}/u.db`,
      });
      assert.equal(code, 1);
      assert.match(stderr, /nope\.json/);
    });
    await t.step("plaintext key in an entry", async () => {
      const { record } = makeKey();
      await Deno.writeTextFile(
        `${dir}/bad.json`,
        JSON.stringify({ version: 1, keys: [{ ...record, key: "sk-choreo-plain" }] }),
      );
      const { code, stderr } = await run([], {
        CHOREOAI_KEYS_FILE: `${dir}/bad.json`,
        CHOREOAI_DB: `${dir}/u.db`,
      });
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`keys\\[0\\] \\(${record.id}\\)`));
      assert.match(stderr, /plaintext/);
      assert.ok(!stderr.includes("sk-choreo-plain"));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with a key list: keys enforced, SIGHUP reloads, usage survives SIGTERM and restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-main-" });
  try {
    const first = makeKey();
    const second = makeKey();
    const file = `${dir}/keys.json`;
    await Deno.writeTextFile(file, keyFileText([first.record]));
    const env = {
      CHOREOAI_KEYS_FILE: file,
      CHOREOAI_DB: `${dir}/usage.db`,
      CHOREOAI_ENV: "production",
    };
    const call = (url: string, token: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "choreoai/echo",
          messages: [{ role: "user", content: "hi" }],
        }),
      }).then(async (r) => (await r.body?.cancel(), r.status));
    {
      await using gateway = await spawnGateway(env);
      assert.equal(await call(gateway.url, first.token), 200);
      assert.equal(await call(gateway.url, "any-key-at-all"), 401);
      assert.equal(await call(gateway.url, second.token), 401);
      // Replace the file in place (same inode, as an editor might) and ask for a reload.
      await Deno.writeTextFile(file, keyFileText([first.record, second.record]));
      gateway.process.kill("SIGHUP");
      let status = 401;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await call(gateway.url, second.token);
        if (status !== 200) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(status, 200);
      for (let i = 0; i < 8; i++) assert.equal(await call(gateway.url, first.token), 200);
      gateway.process.kill("SIGTERM");
      assert.equal((await gateway.exited).code, 0);
    }
    const stats = await run(["keys", "list", "--json"], env);
    assert.equal(stats.code, 0, stats.stderr);
    const listed = JSON.parse(stats.stdout) as {
      id: string;
      requests: number;
      last_used_at: string | null;
    }[];
    assert.equal(listed.find((k) => k.id === first.record.id)?.requests, 9);
    assert.equal(listed.find((k) => k.id === second.record.id)?.requests, 1);
    assert.ok(listed.every((k) => k.last_used_at !== null));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGINT (Ctrl-C) stops the gateway with exit 0", async () => {
  await using gateway = await spawnGateway({});
  gateway.process.kill("SIGINT");
  assert.equal((await gateway.exited).code, 0);
});

Deno.test("a port already in use is exit 1 with one plain line naming the address and CHOREOAI_PORT", async () => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-main-" });
  using holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String(holder.addr.port);
    const { code, stdout, stderr } = await run([], {
      CHOREOAI_PORT: port,
      CHOREOAI_DB: `${dir}/usage.db`,
    });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    const last = stderr.trimEnd().split("\n").at(-1) ?? "";
    assert.equal(
      last,
      `Cannot listen on 127.0.0.1:${port} (CHOREOAI_HOST=127.0.0.1, CHOREOAI_PORT=${port}): ` +
        "the address is already in use by another process; stop it, or set CHOREOAI_PORT to a " +
        "free port",
    );
    assert.ok(!stderr.includes("    at "), "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Redis URL's password appears in no start-up error or log line", async (t) => {
  const password = "s3cret-Redis-pw-0123456789";
  const dir = await Deno.makeTempDir({ prefix: "choreoai-main-" });
  try {
    await t.step("malformed URL: exit 1, the URL shown without its password", async () => {
      const { code, stdout, stderr } = await run([], {
        CHOREOAI_REDIS_URL: `redis://default:${password}@redis internal:6379`,
        CHOREOAI_DB: `${dir}/usage.db`,
      });
      assert.equal(code, 1);
      assert.match(stderr, /CHOREOAI_REDIS_URL: .*\(got "redis:\/\/\*\*\*@redis internal:6379"\)/);
      assert.ok(!(stdout + stderr).includes(password), stderr);
    });
    await t.step("Redis unreachable: the warnings do not name the password", async () => {
      using closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = closed.addr.port;
      closed.close();
      await using gateway = await spawnGateway({
        CHOREOAI_REDIS_URL: `redis://default:${password}@127.0.0.1:${port}/0`,
        CHOREOAI_DB: `${dir}/usage.db`,
      });
      gateway.process.kill("SIGTERM");
      assert.equal((await gateway.exited).code, 0);
      const output = [...gateway.lines, ...gateway.errors].join("\n");
      assert.match(output, /Redis unavailable/);
      assert.ok(!output.includes(password), output);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("both upstream clients (CHOREOAI_UPSTREAM_CLIENT) carry answers and streams", async (t) => {
  await using upstream = startFakeOpenAI({});
  for (const client of ["http1", "fetch"]) {
    await t.step(client, async () => {
      await using gateway = await spawnGateway({
        OPENAI_API_KEY: PROVIDER_KEY,
        OPENAI_BASE_URL: upstream.baseUrl,
        CHOREOAI_UPSTREAM_CLIENT: client,
      });
      for (const stream of [false, true, false]) {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: "Bearer sk-client", "content-type": "application/json" },
          body: JSON.stringify({
            model: "gpt-4o",
            stream,
            messages: [{ role: "user", content: "Hi" }],
          }),
        });
        assert.equal(response.status, 200);
        const text = await response.text();
        if (stream) assert.ok(text.endsWith("data: [DONE]\n\n"), text);
        else assert.equal(JSON.parse(text).object, "chat.completion");
      }
      gateway.process.kill("SIGTERM");
      assert.equal((await gateway.exited).code, 0);
    });
  }
});
