/**
 * Non-stream chat completions end to end: the official `openai` client → the gateway over real
 * HTTP → a fake OpenAI upstream that speaks the real wire format.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { CLIENT_KEY, delay, openaiClient, startGateway } from "../_helpers/gateway.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";

function openaiEnv(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: baseUrl, ...extra };
}

Deno.test("chat completion reaches OpenAI with the provider key, never the client's", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const client = openaiClient(gateway);
  const completion = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Hi" }],
    temperature: 0.5,
  });
  assert.equal(completion.choices[0]?.message.content, "Hello from the fake upstream");
  assert.equal(completion.usage?.total_tokens, 15);
  const [seen] = upstream.requests;
  assert.ok(seen);
  assert.equal(seen.headers.get("authorization"), `Bearer ${PROVIDER_KEY}`);
  for (const [name, value] of seen.headers) {
    assert.ok(!value.includes(CLIENT_KEY), `client key leaked upstream in ${name}`);
  }
  assert.equal(seen.body?.model, "gpt-4o-mini");
  assert.equal(seen.body?.temperature, 0.5);
});

Deno.test("openai/ prefix is stripped and unknown fields pass through untouched", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "openai/gpt-4o",
      messages: [{ role: "user", content: "Hi", future_field: { a: 1 } }],
      reasoning_effort: "low",
      metadata: { team: "x" },
    }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-choreoai-provider"), "openai");
  await response.json();
  const body = upstream.requests[0]?.body;
  assert.equal(body?.model, "gpt-4o");
  assert.equal(body?.reasoning_effort, "low");
  assert.deepEqual(body?.metadata, { team: "x" });
  assert.deepEqual(body?.messages, [{ role: "user", content: "Hi", future_field: { a: 1 } }]);
  assert.equal("stream_options" in (body ?? {}), false);
});

Deno.test("upstream errors are mapped as DESIGN.md's table says", async (t) => {
  const cases = [
    {
      name: "400 keeps status, message, type, param and code",
      upstream: () =>
        Response.json({
          error: {
            message:
              "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
            type: "invalid_request_error",
            param: "messages.[1].role",
            code: null,
          },
        }, { status: 400 }),
      status: 400,
      errorClass: OpenAI.BadRequestError,
      type: "invalid_request_error",
      code: null,
      param: "messages.[1].role",
      message: /must be a response to a preceeding message/,
    },
    {
      name: "401 (our provider key is bad) becomes 502 without the provider's text",
      upstream: () =>
        Response.json({
          error: {
            message: `Incorrect API key provided: ${PROVIDER_KEY}.`,
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        }, { status: 401 }),
      status: 502,
      errorClass: OpenAI.InternalServerError,
      type: "api_error",
      code: "upstream_error",
      param: null,
      message: /rejected the gateway's credentials/,
    },
    {
      name: "429 keeps status and Retry-After",
      upstream: () =>
        Response.json({
          error: {
            message:
              "Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 30000.",
            type: "tokens",
            param: null,
            code: "rate_limit_exceeded",
          },
        }, { status: 429, headers: { "retry-after": "7" } }),
      status: 429,
      errorClass: OpenAI.RateLimitError,
      type: "tokens",
      code: "rate_limit_exceeded",
      param: null,
      message: /Rate limit reached/,
      retryAfter: "7",
    },
    {
      name: "500 becomes 502 with the provider's message",
      upstream: () =>
        Response.json({
          error: {
            message: "The server had an error processing your request.",
            type: "server_error",
            param: null,
            code: null,
          },
        }, { status: 500 }),
      status: 502,
      errorClass: OpenAI.InternalServerError,
      type: "api_error",
      code: "upstream_error",
      param: null,
      message: /The server had an error processing your request/,
    },
    {
      name: "503 becomes 503 upstream_overloaded",
      upstream: () => new Response("Service Unavailable", { status: 503 }),
      status: 503,
      errorClass: OpenAI.InternalServerError,
      type: "api_error",
      code: "upstream_overloaded",
      param: null,
      message: /openai/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await using upstream = startFakeOpenAI({ onChat: c.upstream });
      await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
      const client = openaiClient(gateway);
      const error = await client.chat.completions
        .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof c.errorClass, `got ${String(error)}`);
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, c.status);
      assert.equal(error.type, c.type);
      assert.equal(error.code, c.code);
      assert.equal(error.param, c.param);
      assert.match(error.message, c.message);
      assert.ok(!error.message.includes(PROVIDER_KEY));
      assert.equal(error.headers.get("retry-after"), c.retryAfter ?? null);
      assert.equal(upstream.requests.length, 1, "exactly one upstream call");
    });
  }
});

Deno.test("a silent upstream is cut at the idle timeout: 504 upstream_timeout", async () => {
  const released = Promise.withResolvers<void>();
  await using upstream = startFakeOpenAI({
    onChat: async () => {
      await released.promise;
      return undefined;
    },
  });
  await using gateway = startGateway({
    env: openaiEnv(upstream.baseUrl, { CHOREOAI_UPSTREAM_TIMEOUT_MS: "150" }),
  });
  const client = openaiClient(gateway);
  const started = Date.now();
  const error = await client.chat.completions
    .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
    .then(() => undefined, (e: unknown) => e);
  released.resolve();
  assert.ok(error instanceof OpenAI.APIError);
  assert.equal(error.status, 504);
  assert.equal(error.code, "upstream_timeout");
  assert.ok(Date.now() - started < 5_000);
});

Deno.test("an unreachable upstream is 502 upstream_error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using gateway = startGateway({ env: openaiEnv(`http://127.0.0.1:${port}/v1`) });
  const error = await openaiClient(gateway).chat.completions
    .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof OpenAI.APIError);
  assert.equal(error.status, 502);
  assert.equal(error.code, "upstream_error");
  assert.ok(!error.message.includes(String(port)), "the upstream address is not revealed");
});

Deno.test("a model whose provider has no key is 404 naming the variable, and nothing is sent", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({ env: { OPENAI_BASE_URL: upstream.baseUrl } });
  const error = await openaiClient(gateway).chat.completions
    .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof OpenAI.NotFoundError);
  assert.equal(error.code, "model_not_found");
  assert.match(error.message, /OPENAI_API_KEY/);
  await delay(10);
  assert.equal(upstream.requests.length, 0);
});

Deno.test("an invalid request is 400 naming the field, and nothing is sent upstream", async (t) => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const cases = [
    { body: { messages: [{ role: "user", content: "Hi" }] }, param: "model" },
    { body: { model: "gpt-4o", messages: [] }, param: "messages" },
    {
      body: { model: "gpt-4o", messages: [{ role: "robot", content: "Hi" }] },
      param: "messages[0].role",
    },
    {
      body: { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], temperature: 9 },
      param: "temperature",
    },
  ];
  for (const c of cases) {
    await t.step(`param ${c.param}`, async () => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(c.body),
      });
      const body = await response.json();
      assert.equal(response.status, 400);
      assert.equal(body.error.type, "invalid_request_error");
      assert.equal(body.error.code, "invalid_request");
      assert.equal(body.error.param, c.param);
    });
  }
  assert.equal(upstream.requests.length, 0);
});
