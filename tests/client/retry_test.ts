/**
 * Retries of the TypeScript client through the real gateway: Retry-After honoured, backoff for
 * 5xx and failed connections, no retry for a request the gateway refused as bad, and the
 * server's `x-should-retry` obeyed as OpenAI's SDKs obey it.
 */
import assert from "node:assert/strict";
import {
  APIConnectionError,
  APIError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from "../../src/client/mod.ts";
import { retryDelay } from "../../src/client/_retry.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { SSE_RESPONSE_HEADERS, startFakeOpenAI, streamChunks } from "../_helpers/fake_openai.ts";
import { makeKey } from "../_helpers/keys.ts";
import {
  clientFor,
  gatewayWithKeys,
  openaiEnv,
  recordingFetch,
  sseEvent,
  startServer,
} from "./_helpers.ts";

const HI = [{ role: "user" as const, content: "Hi" }];

/** An upstream error body. */
function failure(status: number, headers: Record<string, string> = {}): Response {
  return Response.json(
    { error: { message: `failure ${status}`, type: "server_error", param: null, code: null } },
    { status, headers },
  );
}

/** A chat script that answers `first` to the first `times` requests, then the default. */
function failFirst(times: number, first: () => Response): () => Response | undefined {
  let count = 0;
  return () => (count++ < times ? first() : undefined);
}

Deno.test("retryDelay(): Retry-After up to 60 s, else 0.5 s doubling to 8 s with jitter", async (t) => {
  const status = (code: number, headers: Record<string, string> = {}) =>
    new APIError("x", { status: code, headers: new Headers(headers) });
  const cases: [string, APIError, number, number, number | undefined][] = [
    ["429 with Retry-After: 1", status(429, { "retry-after": "1" }), 0, 0.5, 1_000],
    ["503 with retry-after-ms", status(503, { "retry-after-ms": "1500" }), 1, 0.5, 1_500],
    ["Retry-After: 60 is waited", status(429, { "retry-after": "60" }), 0, 0.5, 60_000],
    ["Retry-After: 61 is not", status(429, { "retry-after": "61" }), 0, 0.5, undefined],
    ["first backoff, no jitter", status(503), 0, 0, 500],
    ["first backoff, most jitter", status(502), 0, 0.9999, 375.0125],
    ["third backoff", status(500), 2, 0, 2_000],
    ["capped at 8 s", status(504), 9, 0, 8_000],
    ["a connection failure", new APIConnectionError(), 1, 0, 1_000],
    ["400 never", status(400), 0, 0, undefined],
    ["401 never", status(401), 0, 0, undefined],
    ["404 never", status(404), 0, 0, undefined],
    ["501 never", status(501), 0, 0, undefined],
    ["an error event (no status) never", new APIError("x"), 0, 0, undefined],
    [
      "x-should-retry: false wins over a 429's Retry-After",
      status(429, { "x-should-retry": "false", "retry-after": "1" }),
      0,
      0,
      undefined,
    ],
    ["x-should-retry: false on a 503", status(503, { "x-should-retry": "false" }), 0, 0, undefined],
    [
      "x-should-retry: true on a 400: backoff",
      status(400, { "x-should-retry": "true" }),
      0,
      0,
      500,
    ],
    [
      "x-should-retry: true on a 409 with Retry-After: 2",
      status(409, { "x-should-retry": "true", "retry-after": "2" }),
      1,
      0,
      2_000,
    ],
    [
      "x-should-retry: TRUE is no word (exact values, as in OpenAI's SDKs)",
      status(400, { "x-should-retry": "TRUE" }),
      0,
      0,
      undefined,
    ],
  ];
  for (const [name, error, taken, random, expected] of cases) {
    await t.step(name, () => {
      const max = Math.max(taken + 1, 2);
      const wait = retryDelay(error, { taken, max }, () => random);
      if (expected === undefined) assert.equal(wait, undefined);
      else assert.ok(Math.abs((wait ?? NaN) - expected) < 1e-6, `${wait} ≠ ${expected}`);
    });
  }
  await t.step("no retries left", () => {
    assert.equal(retryDelay(status(503), { taken: 2, max: 2 }), undefined);
    const insisting = status(400, { "x-should-retry": "true" });
    assert.equal(retryDelay(insisting, { taken: 2, max: 2 }), undefined);
  });
});

Deno.test("a 429 with Retry-After: 1 is retried after a second, then succeeds", async () => {
  await using upstream = startFakeOpenAI({
    onChat: failFirst(1, () => failure(429, { "retry-after": "1" })),
  });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const started = performance.now();
  const completion = await clientFor(gateway).chat.completions.create({
    model: "gpt-4o",
    messages: HI,
  });
  const elapsed = performance.now() - started;
  assert.equal(completion.choices[0]?.message.content, "Hello from the fake upstream");
  assert.equal(upstream.requests.length, 2);
  assert.ok(elapsed >= 950, `retried after ${elapsed} ms`);
  assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
});

Deno.test("a 503 then a 200: retried with backoff, the caller sees the 200", async () => {
  await using upstream = startFakeOpenAI({ onChat: failFirst(1, () => failure(503)) });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const started = performance.now();
  const completion = await clientFor(gateway).chat.completions.create({
    model: "gpt-4o",
    messages: HI,
  });
  const elapsed = performance.now() - started;
  assert.equal(completion.object, "chat.completion");
  assert.equal(upstream.requests.length, 2);
  assert.ok(elapsed >= 370, `first backoff is 375-500 ms, waited ${elapsed} ms`);
});

Deno.test("a streamed request refused before its first byte is retried", async () => {
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      if (upstream.requests.length === 1) return failure(502);
      const chunks = streamChunks(String(body.model), ["again"], false);
      const stream = [...chunks.map(sseEvent), sseEvent("[DONE]")];
      return new Response(new Blob(stream), { headers: SSE_RESPONSE_HEADERS });
    },
  });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const stream = await clientFor(gateway).chat.completions.create({
    model: "gpt-4o",
    messages: HI,
    stream: true,
  });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  assert.equal(text, "again");
  assert.equal(upstream.requests.length, 2);
});

Deno.test("retries stop after maxRetries, and the last error is thrown", async () => {
  await using upstream = startFakeOpenAI({ onChat: () => failure(503, { "retry-after": "0" }) });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  await assert.rejects(
    clientFor(gateway, { maxRetries: 2 }).chat.completions.create({
      model: "gpt-4o",
      messages: HI,
    }),
    (error: unknown) => {
      assert.ok(error instanceof InternalServerError);
      assert.equal(error.code, "upstream_overloaded");
      return true;
    },
  );
  assert.equal(upstream.requests.length, 3);
  await assert.rejects(
    clientFor(gateway).chat.completions.create(
      { model: "gpt-4o", messages: HI },
      { maxRetries: 0 },
    ),
    InternalServerError,
  );
  assert.equal(upstream.requests.length, 4, "maxRetries 0 per request: one try");
});

Deno.test("a Retry-After over 60 s is not waited for: the error is thrown at once", async () => {
  await using upstream = startFakeOpenAI({ onChat: () => failure(429, { "retry-after": "120" }) });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const started = performance.now();
  await assert.rejects(
    clientFor(gateway).chat.completions.create({ model: "gpt-4o", messages: HI }),
    (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.retryAfter, 120);
      return true;
    },
  );
  assert.equal(upstream.requests.length, 1);
  assert.ok(performance.now() - started < 10_000, "no 120 s wait");
});

Deno.test("a 400 is never retried", async () => {
  await using gateway = startGateway();
  const recorder = recordingFetch();
  await assert.rejects(
    clientFor(gateway, { fetch: recorder.fetch }).chat.completions.create({
      model: "choreoai/echo",
      messages: [],
    }),
    BadRequestError,
  );
  assert.equal(recorder.requests.length, 1);
});

Deno.test("a refused connection is retried, then thrown as APIConnectionError", async () => {
  const closed = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const url = `http://127.0.0.1:${closed.addr.port}`;
  await closed.shutdown();
  const recorder = recordingFetch();
  await assert.rejects(
    clientFor({ url }, { fetch: recorder.fetch, maxRetries: 1 }).models.list(),
    APIConnectionError,
  );
  assert.equal(recorder.requests.length, 2);
});

Deno.test("a request too large for the key's tpm is sent once (x-should-retry: false)", async () => {
  const key = makeKey({ rpm: 10, tpm: 100 });
  await using gateway = gatewayWithKeys([key.record]);
  const recorder = recordingFetch();
  await assert.rejects(
    clientFor(gateway, { apiKey: key.token, fetch: recorder.fetch }).chat.completions.create({
      model: "choreoai/echo",
      messages: HI,
    }),
    (error: unknown) => {
      assert.ok(error instanceof RateLimitError, String(error));
      assert.match(error.message, /never fit/);
      assert.equal(error.retryAfter, undefined);
      assert.equal(error.headers.get("x-should-retry"), "false");
      return true;
    },
  );
  assert.equal(recorder.requests.length, 1, "maxRetries 2, yet no retry");
});

Deno.test("x-should-retry from any server: false stops a 503's retries, true retries a 400", async (t) => {
  const answers: Response[] = [];
  await using server = startServer(() =>
    answers.shift() ?? Response.json({ object: "list", data: [] })
  );
  const client = clientFor(server, { maxRetries: 2 });
  await t.step("503 with x-should-retry: false: one request", async () => {
    answers.push(failure(503, { "x-should-retry": "false" }));
    await assert.rejects(client.models.list(), InternalServerError);
    assert.equal(server.requests.length, 1);
  });
  await t.step("400 with x-should-retry: true: retried, then the 200", async () => {
    answers.push(failure(400, { "x-should-retry": "true", "retry-after-ms": "10" }));
    const list = await client.models.list();
    assert.deepEqual(list.data, []);
    assert.equal(server.requests.length, 3);
  });
});
