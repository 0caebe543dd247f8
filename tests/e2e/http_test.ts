/**
 * The HTTP surface end to end: the seed's 401 bodies, routing errors after auth, body limits,
 * CORS, request ids, health, models and the echo model.
 */
import assert from "node:assert/strict";
import { encode } from "gpt-tokenizer";
import { CLIENT_KEY, openaiClient, startGateway } from "../_helpers/gateway.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";

const AUTH = { authorization: `Bearer ${CLIENT_KEY}` };
const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

Deno.test("the seed's 401 bodies, byte for byte, with WWW-Authenticate: Bearer", async (t) => {
  await using gateway = startGateway();
  const cases = [
    {
      name: "no header",
      headers: {} as Record<string, string>,
      body:
        '{"error":{"message":"Missing Authorization header","type":"authentication_error","param":null,"code":"missing_authorization"}}',
    },
    {
      name: "Basic scheme",
      headers: { authorization: "Basic dXNlcjpwYXNz" },
      body:
        '{"error":{"message":"Malformed Authorization header","type":"authentication_error","param":null,"code":"malformed_authorization"}}',
    },
    {
      name: "token over 512 bytes",
      headers: { authorization: `Bearer ${"a".repeat(513)}` },
      body:
        '{"error":{"message":"Malformed Authorization header","type":"authentication_error","param":null,"code":"malformed_authorization"}}',
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...c.headers, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4", messages: [{ role: "user", content: "Hello!" }] }),
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("www-authenticate"), "Bearer");
      assert.equal(await response.text(), c.body);
    });
  }
});

Deno.test("unknown paths and wrong methods are answered only after auth", async (t) => {
  await using gateway = startGateway();
  await t.step("unauthenticated: 401 whatever the path or method", async () => {
    const cases = [["GET", "/nope"], ["DELETE", "/v1/models"], [
      "PUT",
      "/v1/chat/completions",
    ]] as const;
    for (const [method, path] of cases) {
      const response = await fetch(`${gateway.url}${path}`, { method });
      assert.equal(response.status, 401, `${method} ${path}`);
      await response.body?.cancel();
    }
  });
  await t.step("authenticated unknown path: 404 not_found", async () => {
    const response = await fetch(`${gateway.url}/v1/nope`, { headers: AUTH });
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.equal(body.error.code, "not_found");
    assert.equal(body.error.type, "invalid_request_error");
  });
  await t.step("authenticated wrong method: 405 with Allow", async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { headers: AUTH });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    assert.equal((await response.json()).error.code, "method_not_allowed");
  });
});

Deno.test("request bodies: 415, 413 before reading, 413 while reading, 400 invalid_json", async (t) => {
  await using gateway = startGateway({ env: { CHOREOAI_MAX_BODY_BYTES: "1000" } });
  const url = `${gateway.url}/v1/chat/completions`;
  await t.step("415 for a form body", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/x-www-form-urlencoded" },
      body: "model=x",
    });
    assert.equal(response.status, 415);
    assert.equal((await response.json()).error.code, "unsupported_media_type");
  });
  await t.step("413 from Content-Length", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: JSON_AUTH,
      body: "x".repeat(2000),
    });
    assert.equal(response.status, 413);
    assert.equal((await response.json()).error.code, "request_too_large");
  });
  await t.step("413 for a chunked body that grows too large", async () => {
    const body = ReadableStream.from([new Uint8Array(600), new Uint8Array(600)]);
    const response = await fetch(url, { method: "POST", headers: JSON_AUTH, body });
    assert.equal(response.status, 413);
    await response.body?.cancel();
  });
  await t.step("400 invalid_json", async () => {
    const response = await fetch(url, { method: "POST", headers: JSON_AUTH, body: "{not json" });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.code, "invalid_json");
    assert.equal(body.error.type, "invalid_request_error");
  });
});

Deno.test("a body slower than CHOREOAI_BODY_TIMEOUT_MS is 408", async () => {
  await using gateway = startGateway({ env: { CHOREOAI_BODY_TIMEOUT_MS: "100" } });
  const port = Number(new URL(gateway.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = [
    "POST /v1/chat/completions HTTP/1.1",
    "Host: 127.0.0.1",
    `Authorization: Bearer ${CLIENT_KEY}`,
    "Content-Type: application/json",
    "Content-Length: 100",
    "",
    '{"model":',
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(head));
  const buffer = new Uint8Array(4096);
  const read = await conn.read(buffer);
  conn.close();
  const text = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  assert.match(text, /^HTTP\/1\.1 408/);
  assert.match(text, /"code":"request_timeout"/);
});

Deno.test("CORS: preflight and headers for listed origins only", async (t) => {
  await using gateway = startGateway({ env: { CHOREOAI_CORS_ORIGINS: "https://app.example.com" } });
  const url = `${gateway.url}/v1/chat/completions`;
  await t.step("allowed preflight is 204 without auth", async () => {
    const response = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.match(response.headers.get("access-control-allow-headers") ?? "", /authorization/);
    await response.body?.cancel();
  });
  await t.step(
    "allowed origin gets CORS headers on the real response, errors included",
    async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { origin: "https://app.example.com" },
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
      assert.match(response.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
      await response.body?.cancel();
    },
  );
  await t.step(
    "other origins get no CORS headers, and their preflight is not answered",
    async () => {
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
      });
      assert.equal(preflight.headers.get("access-control-allow-origin"), null);
      assert.equal(preflight.status, 401);
      await preflight.body?.cancel();
    },
  );
});

Deno.test("x-request-id is honoured when safe, made up otherwise, and logged", async () => {
  await using gateway = startGateway();
  const kept = await fetch(`${gateway.url}/health`, { headers: { "x-request-id": "trace-42" } });
  assert.equal(kept.headers.get("x-request-id"), "trace-42");
  await kept.body?.cancel();
  const replaced = await fetch(`${gateway.url}/health`, {
    headers: { "x-request-id": "bad id\u00e9" },
  });
  assert.match(replaced.headers.get("x-request-id") ?? "", /^req_[0-9a-f]{32}$/);
  await replaced.body?.cancel();
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(gateway.logs.some((line) => line.request_id === "trace-42" && line.path === "/health"));
});

Deno.test("access log: one line per request, with model and provider, never a key", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
  });
  await openaiClient(gateway).chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "Hi" }],
  });
  await new Promise((r) => setTimeout(r, 20));
  const lines = gateway.logs.filter((line) => line.msg === "request");
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line?.method, "POST");
  assert.equal(line?.path, "/v1/chat/completions");
  assert.equal(line?.status, 200);
  assert.equal(line?.model, "gpt-4o");
  assert.equal(line?.provider, "openai");
  assert.equal(typeof line?.duration_ms, "number");
  assert.deepEqual(line?.usage, { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 });
  const all = JSON.stringify(gateway.logs);
  assert.ok(!all.includes(CLIENT_KEY), "client key logged");
  assert.ok(!all.includes(PROVIDER_KEY), "provider key logged");
});

Deno.test("/health answers without auth and spends no upstream call", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
  });
  const response = await fetch(`${gateway.url}/health`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
  assert.equal(upstream.requests.length, 0);
});

Deno.test("/v1/models lists echo and the keyed provider's models, cached", async (t) => {
  await using upstream = startFakeOpenAI({ models: ["gpt-4o", "gpt-4o-mini"] });
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
  });
  const client = openaiClient(gateway);
  await t.step("list", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids, ["choreoai/echo", "openai/gpt-4o", "openai/gpt-4o-mini"]);
    for await (const _ of client.models.list()) { /* second call */ }
    assert.equal(upstream.requests.filter((r) => r.path === "/v1/models").length, 1);
  });
  await t.step("one model, with / or %2F, or by its bare name", async () => {
    assert.equal((await client.models.retrieve("openai/gpt-4o")).id, "openai/gpt-4o");
    const encoded = await fetch(`${gateway.url}/v1/models/openai%2Fgpt-4o`, { headers: AUTH });
    assert.equal((await encoded.json()).id, "openai/gpt-4o");
    assert.equal((await client.models.retrieve("gpt-4o-mini")).id, "gpt-4o-mini");
    assert.equal((await client.models.retrieve("choreoai/echo")).owned_by, "choreoai");
  });
  await t.step("unknown model is 404 model_not_found", async () => {
    const response = await fetch(`${gateway.url}/v1/models/gpt-nope`, { headers: AUTH });
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.code, "model_not_found");
  });
});

Deno.test("/v1/models leaves out a provider whose list fails, without an error", async () => {
  await using upstream = startFakeOpenAI({ models: 500 });
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
  });
  const response = await fetch(`${gateway.url}/v1/models`, { headers: AUTH });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.data.map((m: { id: string }) => m.id), ["choreoai/echo"]);
});

Deno.test("/v1/models leaves out a list larger than CHOREOAI_MAX_RESPONSE_BYTES", async () => {
  const models = Array.from({ length: 200 }, (_, i) => `model-${i}`);
  await using upstream = startFakeOpenAI({ models });
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: upstream.baseUrl,
      CHOREOAI_MAX_RESPONSE_BYTES: "4096",
    },
  });
  const response = await fetch(`${gateway.url}/v1/models`, { headers: AUTH });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.data.map((m: { id: string }) => m.id), ["choreoai/echo"]);
  const warning = gateway.logs.find((line) => line.msg === "model list unavailable");
  assert.match(String(warning?.error ?? JSON.stringify(warning)), /larger than 4096 bytes/);
});

Deno.test("choreoai/echo works with no provider key, stream and non-stream", async (t) => {
  await using gateway = startGateway();
  const client = openaiClient(gateway);
  await t.step("non-stream", async () => {
    const completion = await client.chat.completions.create({
      model: "choreoai/echo",
      messages: [{ role: "system", content: "Be brief" }, {
        role: "user",
        content: "Hello, gateway!",
      }],
    });
    assert.equal(completion.choices[0]?.message.content, "Hello, gateway!");
    assert.equal(completion.model, "choreoai/echo");
    assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
    assert.equal(completion.usage?.completion_tokens, encode("Hello, gateway!").length);
    assert.equal(
      completion.usage?.total_tokens,
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });
  await t.step("stream with usage", async () => {
    const stream = await client.chat.completions.create({
      model: "choreoai/echo",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "Hello there, gateway!" }],
    });
    let text = "";
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, "Hello there, gateway!");
    assert.ok(usage !== undefined && usage.completion_tokens > 0);
  });
});
