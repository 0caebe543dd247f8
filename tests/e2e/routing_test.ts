/**
 * The routing file end to end: public names, fallbacks, retries, cool-downs and weighted
 * targets, through the official `openai` client against fake OpenAI-compatible upstreams.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { openaiClient, startGateway, waitFor } from "../_helpers/gateway.ts";
import {
  completionBody,
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";

const ENV = { PRIMARY_KEY: PROVIDER_KEY, BACKUP_KEY: PROVIDER_KEY };
const HI = [{ role: "user" as const, content: "Hi" }];

function openAIError(status: number, message: string, headers: Record<string, string> = {}) {
  return Response.json({ error: { message, type: "server_error", param: null, code: null } }, {
    status,
    headers,
  });
}

/** A routing file with a `primary` and a `backup` provider and `smart` → fallback `safe`. */
function routingFile(
  primaryUrl: string,
  backupUrl: string,
  smart: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    providers: {
      primary: { kind: "openai-compatible", base_url: primaryUrl, api_key_env: "PRIMARY_KEY" },
      backup: { kind: "openai-compatible", base_url: backupUrl, api_key_env: "BACKUP_KEY" },
    },
    models: {
      smart: {
        targets: [{ provider: "primary", model: "big-model" }],
        fallbacks: ["safe"],
        ...smart,
      },
      safe: { targets: [{ provider: "backup", model: "small-model" }] },
    },
  };
}

/** A port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("a public model falls back on 500, 429 and a refused connection", async (t) => {
  const failures: [string, () => Response][] = [
    ["500", () => openAIError(500, "The server had an error")],
    [
      "429 (Retry-After far beyond the deadline)",
      () => openAIError(429, "Rate limit reached", { "retry-after": "3600" }),
    ],
    ["503", () => openAIError(503, "overloaded")],
  ];
  for (const [name, answer] of failures) {
    await t.step(name, async () => {
      await using primary = startFakeOpenAI({ onChat: answer });
      await using backup = startFakeOpenAI();
      await using gateway = startGateway({
        env: ENV,
        routingFile: routingFile(primary.baseUrl, backup.baseUrl),
      });
      const client = openaiClient(gateway);
      const { data, response } = await client.chat.completions
        .create({ model: "smart", messages: HI })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, "Hello from the fake upstream");
      assert.equal(response.headers.get("x-choreoai-provider"), "backup");
      assert.equal(primary.requests.length, 1);
      assert.equal(primary.requests[0]?.body?.model, "big-model");
      assert.equal(backup.requests[0]?.body?.model, "small-model");
      const line = gateway.logs.find((l) => l.msg === "request");
      assert.equal(line?.provider, "backup");
      assert.equal(line?.attempts, 2);
      assert.ok(gateway.logs.some((l) => l.msg === "upstream attempt failed"));
    });
  }

  await t.step("connection refused, stream", async () => {
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(`http://127.0.0.1:${closedPort()}/v1`, backup.baseUrl),
    });
    const client = openaiClient(gateway);
    const stream = await client.chat.completions.create({
      model: "smart",
      messages: HI,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from the fake");
  });

  await t.step("a client error (400) is answered as is, without a fallback", async () => {
    await using primary = startFakeOpenAI({
      onChat: () =>
        Response.json({
          error: {
            message: "Invalid 'messages': too long",
            type: "invalid_request_error",
            param: "messages",
            code: null,
          },
        }, { status: 400 }),
    });
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl),
    });
    const error = await openaiClient(gateway).chat.completions
      .create({ model: "smart", messages: HI })
      .catch((e) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.param, "messages");
    assert.equal(backup.requests.length, 0);
  });

  await t.step("when every target fails, the last upstream error is answered", async () => {
    await using primary = startFakeOpenAI({ onChat: () => openAIError(500, "primary down") });
    await using backup = startFakeOpenAI({ onChat: () => openAIError(503, "backup down") });
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl),
    });
    const error = await openaiClient(gateway).chat.completions
      .create({ model: "smart", messages: HI })
      .catch((e) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 503);
    assert.match(error.message, /backup down/);
  });
});

Deno.test("a stream is held until its first event; after the first byte there is no fallback", async (t) => {
  await t.step("a first event that is an error falls back", async () => {
    await using primary = startFakeOpenAI({
      onChat: () =>
        new Response(
          'data: {"error":{"message":"overloaded","type":"server_error","code":null}}\n\n',
          { headers: SSE_RESPONSE_HEADERS },
        ),
    });
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl),
    });
    const { data: stream, response } = await openaiClient(gateway).chat.completions
      .create({ model: "smart", messages: HI, stream: true })
      .withResponse();
    assert.equal(response.headers.get("x-choreoai-provider"), "backup");
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from the fake");
  });

  await t.step("a silent stream falls back at the model's timeout_ms", async () => {
    await using primary = startFakeOpenAI({
      onChat: () =>
        new Response(new ReadableStream({ start() {} }), { headers: SSE_RESPONSE_HEADERS }),
    });
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl, {
        timeout_ms: 200,
        deadline_ms: 5_000,
      }),
    });
    const stream = await openaiClient(gateway).chat.completions.create({
      model: "smart",
      messages: HI,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from the fake");
    const failed = gateway.logs.find((l) => l.msg === "upstream attempt failed");
    assert.equal(failed?.code, "upstream_timeout");
  });

  await t.step("a failure after the first chunk is an error event, not a fallback", async () => {
    const [first] = streamChunks("big-model", ["Hel"], false);
    await using primary = startFakeOpenAI({
      onChat: () =>
        new Response(
          sseBody([first], false) +
            'data: {"error":{"message":"upstream broke","type":"server_error","code":null}}\n\n',
          { headers: SSE_RESPONSE_HEADERS },
        ),
    });
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl),
    });
    const stream = await openaiClient(gateway).chat.completions.create({
      model: "smart",
      messages: HI,
      stream: true,
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e) => e);
    assert.deepEqual(seen, [""]);
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.match(error.message, /upstream broke/);
    assert.equal(backup.requests.length, 0, "a started stream never falls back");
  });
});

Deno.test("retries honour Retry-After within the model's deadline", async (t) => {
  await t.step("429 with Retry-After: 1, then success on the same target", async () => {
    let calls = 0;
    await using primary = startFakeOpenAI({
      onChat: () => {
        calls += 1;
        return calls === 1 ? openAIError(429, "slow down", { "retry-after": "1" }) : undefined;
      },
    });
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl, { retries: 2 }),
    });
    const started = performance.now();
    const { response } = await openaiClient(gateway).chat.completions
      .create({ model: "smart", messages: HI })
      .withResponse();
    const elapsed = performance.now() - started;
    assert.equal(response.headers.get("x-choreoai-provider"), "primary");
    assert.equal(calls, 2);
    assert.equal(backup.requests.length, 0);
    assert.ok(elapsed >= 990, `retried after ${elapsed} ms, before Retry-After`);
  });

  await t.step(
    "a Retry-After beyond the deadline is not waited for: fallback at once",
    async () => {
      await using primary = startFakeOpenAI({
        onChat: () => openAIError(429, "slow down", { "retry-after": "30" }),
      });
      await using backup = startFakeOpenAI();
      await using gateway = startGateway({
        env: ENV,
        routingFile: routingFile(primary.baseUrl, backup.baseUrl, {
          retries: 3,
          deadline_ms: 2_000,
        }),
      });
      const started = performance.now();
      const { response } = await openaiClient(gateway).chat.completions
        .create({ model: "smart", messages: HI })
        .withResponse();
      assert.equal(response.headers.get("x-choreoai-provider"), "backup");
      assert.equal(primary.requests.length, 1);
      assert.ok(performance.now() - started < 2_000, "the gateway waited past its deadline");
    },
  );

  await t.step("5xx retries back off and then succeed", async () => {
    let calls = 0;
    await using primary = startFakeOpenAI({
      onChat: () => (++calls <= 2 ? openAIError(502, "bad gateway") : undefined),
    });
    await using backup = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      routingFile: routingFile(primary.baseUrl, backup.baseUrl, { retries: 2 }),
    });
    const { response } = await openaiClient(gateway).chat.completions
      .create({ model: "smart", messages: HI })
      .withResponse();
    assert.equal(response.headers.get("x-choreoai-provider"), "primary");
    assert.equal(calls, 3);
  });

  await t.step("without retries (the default) a POST is sent once", async () => {
    await using primary = startFakeOpenAI({ onChat: () => openAIError(500, "down") });
    await using gateway = startGateway({
      env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: primary.baseUrl },
    });
    const error = await openaiClient(gateway).chat.completions
      .create({ model: "gpt-4o", messages: HI })
      .catch((e) => e);
    assert.equal(error.status, 502);
    assert.equal(primary.requests.length, 1);
  });
});

Deno.test("weighted targets share the load; a failing target is cooled down", async (t) => {
  await t.step("weights 3:1 over an evenly spread random source", async () => {
    await using heavy = startFakeOpenAI();
    await using light = startFakeOpenAI();
    let i = 0;
    await using gateway = startGateway({
      env: ENV,
      random: () => (i++ % 20) / 20,
      routingFile: {
        providers: {
          heavy: { kind: "openai-compatible", base_url: heavy.baseUrl, api_key_env: "PRIMARY_KEY" },
          light: { kind: "openai-compatible", base_url: light.baseUrl, api_key_env: "BACKUP_KEY" },
        },
        models: {
          balanced: {
            targets: [
              { provider: "heavy", model: "m", weight: 3 },
              { provider: "light", model: "m", weight: 1 },
            ],
          },
        },
      },
    });
    const client = openaiClient(gateway);
    for (let n = 0; n < 40; n++) {
      await client.chat.completions.create({ model: "balanced", messages: HI });
    }
    assert.equal(heavy.requests.length, 30);
    assert.equal(light.requests.length, 10);
  });

  await t.step("after 2 failures in a row the target is left out", async () => {
    await using bad = startFakeOpenAI({ onChat: () => openAIError(500, "down") });
    await using good = startFakeOpenAI();
    await using gateway = startGateway({
      env: ENV,
      random: () => 0, // always the first candidate: `bad` whenever it is allowed
      routingFile: {
        providers: {
          bad: { kind: "openai-compatible", base_url: bad.baseUrl, api_key_env: "PRIMARY_KEY" },
          good: { kind: "openai-compatible", base_url: good.baseUrl, api_key_env: "BACKUP_KEY" },
        },
        models: {
          pair: {
            targets: [{ provider: "bad", model: "m" }, { provider: "good", model: "m" }],
            retries: 1,
          },
        },
        circuit_breaker: { failures: 2, cooldown_ms: 60_000 },
      },
    });
    const client = openaiClient(gateway);
    for (let n = 0; n < 6; n++) {
      const { response } = await client.chat.completions
        .create({ model: "pair", messages: HI })
        .withResponse();
      assert.equal(response.headers.get("x-choreoai-provider"), "good");
    }
    assert.equal(bad.requests.length, 2, "the cooled-down target was still called");
    assert.equal(good.requests.length, 6);
    assert.ok(gateway.logs.some((l) => l.cooled_down === true));
  });
});

Deno.test("routing file providers: names, extra headers, stream_usage false, /v1/models", async () => {
  await using local = startFakeOpenAI({ apiKey: "" });
  await using gateway = startGateway({
    routingFile: {
      providers: {
        "local-vllm": {
          kind: "openai-compatible",
          base_url: local.baseUrl,
          headers: { "X-Team": "ml" },
          stream_usage: false,
        },
      },
      models: { llama: { targets: [{ provider: "local-vllm", model: "meta/llama-3" }] } },
    },
  });
  const client = openaiClient(gateway);
  const stream = await client.chat.completions.create({
    model: "llama",
    messages: HI,
    stream: true,
    stream_options: { include_usage: true },
  });
  const usages = [];
  for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
  assert.equal(usages.length, 1, "one usage chunk, estimated: the server was not asked for one");
  assert.ok((usages[0]?.completion_tokens ?? 0) > 0);
  assert.ok((usages[0]?.prompt_tokens ?? 0) > 0);
  await waitFor(() => gateway.logs.some((l) => l.msg === "request"));
  const logged = gateway.logs.find((l) => l.msg === "request")?.usage as { total_tokens: number };
  assert.equal(logged.total_tokens, usages[0]?.total_tokens, "usage records get the estimate");
  const seen = local.requests.find((r) => r.path === "/v1/chat/completions");
  assert.equal(seen?.headers.get("x-team"), "ml");
  assert.equal(seen?.headers.get("authorization"), null, "no key configured, none sent");
  assert.equal(seen?.body?.model, "meta/llama-3");
  assert.equal("stream_options" in (seen?.body ?? {}), false);

  const direct = await client.chat.completions
    .create({ model: "local-vllm/any-model", messages: HI })
    .withResponse();
  assert.equal(direct.response.headers.get("x-choreoai-provider"), "local-vllm");
  assert.equal(local.requests.at(-1)?.body?.model, "any-model");

  const ids = (await client.models.list()).data.map((m) => m.id);
  assert.ok(ids.includes("llama"), ids.join());
  assert.ok(ids.includes("choreoai/echo"));
});

Deno.test("a completion body that is not one counts as an upstream failure", async () => {
  await using primary = startFakeOpenAI({ onChat: () => Response.json({ nonsense: true }) });
  await using backup = startFakeOpenAI({
    onChat: (body) => Response.json(completionBody(String(body.model), "from backup")),
  });
  await using gateway = startGateway({
    env: ENV,
    routingFile: routingFile(primary.baseUrl, backup.baseUrl),
  });
  const completion = await openaiClient(gateway).chat.completions.create({
    model: "smart",
    messages: HI,
  });
  assert.equal(completion.choices[0]?.message.content, "from backup");
});
