/**
 * Errors on the Messages endpoints, end to end: every error is Anthropic-shaped
 * (`{"type":"error","error":{"type","message","code"}}`) with the status and code of the error
 * table, so `@anthropic-ai/sdk` raises the class of the status; the seed's 401 messages are kept;
 * keys are read from `Authorization: Bearer` or `x-api-key`.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { compileKeyIndex } from "../../src/keys/verify.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import type { KeyRecord } from "../../src/keys/key_file.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { anthropicClient } from "../_helpers/anthropic_client.ts";
import { ANTHROPIC_KEY, anthropicError, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { anthropicErrorEvent } from "../_helpers/fake_model.ts";
import {
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import { type GatewayOptions, startGateway, type TestGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

type Json = Record<string, unknown>;

const now = () => performance.timeOrigin + performance.now();

function keyedGateway(records: KeyRecord[], options: GatewayOptions = {}): TestGateway {
  const index = compileKeyIndex(parseKeyFile(keyFileText(records)));
  return startGateway({
    ...options,
    verifier: createKeyListVerifier(() => index),
    limiter: createMemoryLimiter({ now }),
  });
}

const ECHO = {
  model: "choreoai/echo",
  max_tokens: 50,
  messages: [{ role: "user" as const, content: "Hi" }],
};

/** The error an SDK call raised (it must raise one). */
async function raised(call: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof Anthropic.APIError) return error;
    throw error;
  }
  assert.fail("the call succeeded");
}

/** A raw request to the gateway and its parsed JSON answer. */
async function post(
  gateway: TestGateway,
  path: string,
  init: { headers?: Record<string, string>; body?: string; method?: string } = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
  const response = await fetch(`${gateway.url}${path}`, {
    method: init.method ?? "POST",
    headers: { "content-type": "application/json", ...init.headers },
    ...(init.method === "GET" ? {} : { body: init.body ?? JSON.stringify(ECHO) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

function errorOf(body: Json): Json {
  assert.equal(body.type, "error");
  return body.error as Json;
}

Deno.test("Messages authentication: the seed's three 401s, Bearer or x-api-key", async (t) => {
  const key = makeKey();
  const expired = makeKey({ expires_at: "2020-01-01T00:00:00Z" });
  await using gateway = keyedGateway([key.record, expired.record]);
  await t.step("no key: AuthenticationError, Missing Authorization header", async () => {
    const client = new Anthropic({
      apiKey: "unused",
      baseURL: gateway.url,
      maxRetries: 0,
      defaultHeaders: { authorization: null },
    });
    const error = await raised(client.messages.create(ECHO));
    assert.ok(error instanceof Anthropic.AuthenticationError);
    assert.deepEqual(error.error, {
      type: "error",
      error: {
        type: "authentication_error",
        message: "Missing Authorization header",
        code: "missing_authorization",
      },
    });
    assert.equal(error.headers.get("www-authenticate"), "Bearer");
  });
  await t.step("a malformed Authorization header", async () => {
    const { status, body } = await post(gateway, "/v1/messages", {
      headers: { authorization: `Basic ${key.token}` },
    });
    assert.equal(status, 401);
    assert.deepEqual(errorOf(body), {
      type: "authentication_error",
      message: "Malformed Authorization header",
      code: "malformed_authorization",
    });
  });
  await t.step("a malformed x-api-key header", async () => {
    const { status, body } = await post(gateway, "/v1/messages", {
      headers: { "x-api-key": "not a token" },
    });
    assert.equal(status, 401);
    assert.deepEqual(errorOf(body), {
      type: "authentication_error",
      message: "Malformed x-api-key header",
      code: "malformed_authorization",
    });
  });
  for (const header of ["bearer", "x-api-key"] as const) {
    await t.step(`an unknown key in ${header}: Invalid API key provided`, async () => {
      const client = anthropicClient(gateway, { key: "sk-unknown-0123456789abcdef", header });
      const error = await raised(client.messages.create(ECHO));
      assert.ok(error instanceof Anthropic.AuthenticationError);
      assert.deepEqual(error.error, {
        type: "error",
        error: {
          type: "authentication_error",
          message: "Invalid API key provided",
          code: "invalid_api_key",
        },
      });
    });
    await t.step(`an expired key in ${header}: API key has expired`, async () => {
      const client = anthropicClient(gateway, { key: expired.token, header });
      const error = await raised(client.messages.countTokens(ECHO));
      assert.ok(error instanceof Anthropic.AuthenticationError);
      assert.equal((error.error as { error: Json }).error.message, "API key has expired");
    });
    await t.step(`a valid key in ${header} is accepted`, async () => {
      const client = anthropicClient(gateway, { key: key.token, header });
      const answer = await client.messages.create(ECHO);
      assert.equal(answer.content[0]?.type, "text");
      const count = await client.messages.countTokens(ECHO);
      assert.ok(count.input_tokens > 0);
    });
  }
  await t.step("Authorization wins over x-api-key when both are sent", async () => {
    const { status } = await post(gateway, "/v1/messages", {
      headers: { authorization: `Bearer ${key.token}`, "x-api-key": "sk-unknown-0123456789" },
    });
    assert.equal(status, 200);
  });
  await t.step("x-api-key is not read on the OpenAI endpoints", async () => {
    const { status, body } = await post(gateway, "/v1/chat/completions", {
      headers: { "x-api-key": key.token },
      body: JSON.stringify({ model: "choreoai/echo", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(status, 401);
    assert.equal((body.error as Json).code, "missing_authorization");
  });
});

Deno.test("Messages scopes: 403 PermissionDeniedError for a model or endpoint the key may not use", async (t) => {
  const gptOnly = makeKey({ models: ["gpt-*"] });
  const messagesOnly = makeKey({ endpoints: ["/v1/messages"] });
  const chatOnly = makeKey({ endpoints: ["/v1/chat/completions"] });
  await using gateway = keyedGateway([gptOnly.record, messagesOnly.record, chatOnly.record]);
  await t.step("model", async () => {
    const error = await raised(
      anthropicClient(gateway, { key: gptOnly.token }).messages.create(ECHO),
    );
    assert.ok(error instanceof Anthropic.PermissionDeniedError);
    assert.deepEqual((error.error as { error: Json }).error, {
      type: "permission_error",
      message: 'This API key may not use the model "choreoai/echo"',
      code: "model_not_allowed",
    });
  });
  await t.step("endpoint: /v1/messages is its own scope, count_tokens another", async () => {
    const chat = await raised(
      anthropicClient(gateway, { key: chatOnly.token }).messages.create(ECHO),
    );
    assert.ok(chat instanceof Anthropic.PermissionDeniedError);
    assert.equal((chat.error as { error: Json }).error.code, "endpoint_not_allowed");
    const client = anthropicClient(gateway, { key: messagesOnly.token });
    await client.messages.create(ECHO);
    const count = await raised(client.messages.countTokens(ECHO));
    assert.ok(count instanceof Anthropic.PermissionDeniedError);
  });
});

Deno.test("Messages request errors: 400, 404, 405, 413, 415 are Anthropic-shaped", async (t) => {
  await using gateway = startGateway({ env: { CHOREOAI_MAX_BODY_BYTES: "2000" } });
  const client = anthropicClient(gateway);
  await t.step("400 BadRequestError naming the field", async () => {
    const { max_tokens: _, ...noMax } = ECHO;
    const error = await raised(
      client.messages.create(noMax as Anthropic.MessageCreateParamsNonStreaming),
    );
    assert.ok(error instanceof Anthropic.BadRequestError);
    const body = (error.error as { error: Json }).error;
    assert.equal(body.type, "invalid_request_error");
    assert.equal(body.code, "invalid_request");
    assert.match(String(body.message), /max_tokens/);
  });
  await t.step("400 for what only Anthropic can do, naming it", async () => {
    const error = await raised(client.messages.create({
      ...ECHO,
      tools: [{ type: "web_search_20250305", name: "web_search" }],
    }));
    assert.ok(error instanceof Anthropic.BadRequestError);
    assert.match(String((error.error as { error: Json }).error.message), /tools\[0\]/);
  });
  await t.step("404 NotFoundError for an unknown model", async () => {
    const error = await raised(client.messages.create({ ...ECHO, model: "no-such-model" }));
    assert.ok(error instanceof Anthropic.NotFoundError);
    assert.equal((error.error as { error: Json }).error.code, "model_not_found");
  });
  await t.step("404 for an unknown path under /v1/messages", async () => {
    const { status, body } = await post(gateway, "/v1/messages/batches", {
      headers: { "x-api-key": "sk-any-0123456789" },
    });
    assert.equal(status, 404);
    assert.deepEqual(Object.keys(errorOf(body)), ["type", "message", "code"]);
    assert.equal(errorOf(body).type, "not_found_error");
  });
  await t.step("405 with Allow", async () => {
    const { status, headers, body } = await post(gateway, "/v1/messages", {
      method: "GET",
      headers: { "x-api-key": "sk-any-0123456789" },
    });
    assert.equal(status, 405);
    assert.equal(headers.get("allow"), "POST");
    assert.equal(errorOf(body).code, "method_not_allowed");
  });
  await t.step("413 request_too_large", async () => {
    const { status, body } = await post(gateway, "/v1/messages", {
      headers: { "x-api-key": "sk-any-0123456789" },
      body: JSON.stringify({ ...ECHO, messages: [{ role: "user", content: "x".repeat(3000) }] }),
    });
    assert.equal(status, 413);
    assert.deepEqual(errorOf(body).type, "request_too_large");
  });
  await t.step("415 for a body that is not JSON", async () => {
    const { status, body } = await post(gateway, "/v1/messages/count_tokens", {
      headers: { "x-api-key": "sk-any-0123456789", "content-type": "text/plain" },
    });
    assert.equal(status, 415);
    assert.equal(errorOf(body).code, "unsupported_media_type");
  });
});

Deno.test("Messages rate limits: 429 RateLimitError with Retry-After and x-ratelimit headers", async (t) => {
  const oneRpm = makeKey({ rpm: 1 });
  const smallTpm = makeKey({ tpm: 1_000 });
  await using gateway = keyedGateway([oneRpm.record, smallTpm.record]);
  await t.step("the second request in a minute", async () => {
    const client = anthropicClient(gateway, { key: oneRpm.token, header: "x-api-key" });
    const { response } = await client.messages.create(ECHO).withResponse();
    assert.equal(response.headers.get("x-ratelimit-limit-requests"), "1");
    const error = await raised(client.messages.create(ECHO));
    assert.ok(error instanceof Anthropic.RateLimitError);
    assert.equal((error.error as { error: Json }).error.type, "rate_limit_error");
    assert.equal((error.error as { error: Json }).error.code, "rate_limit_exceeded");
    assert.ok(Number(error.headers.get("retry-after")) >= 1);
    assert.equal(error.headers.get("x-ratelimit-remaining-requests"), "0");
  });
  await t.step("a max_tokens larger than the tpm can never fit: x-should-retry false", async () => {
    const client = anthropicClient(gateway, { key: smallTpm.token });
    const error = await raised(client.messages.create({ ...ECHO, max_tokens: 5_000 }));
    assert.ok(error instanceof Anthropic.RateLimitError);
    assert.equal(error.headers.get("x-should-retry"), "false");
    assert.equal(error.headers.get("retry-after"), null);
    assert.match(
      String((error.error as { error: Json }).error.message),
      /lower max_tokens to at most \d+/,
    );
  });
  await t.step("count_tokens counts as a request and reserves no tokens", async () => {
    const client = anthropicClient(gateway, { key: smallTpm.token });
    const { response } = await client.messages.countTokens({
      model: "choreoai/echo",
      messages: [{ role: "user", content: "x ".repeat(2_000) }],
    }).withResponse();
    assert.equal(response.headers.get("x-ratelimit-limit-tokens"), "1000");
    assert.equal(response.headers.get("x-ratelimit-remaining-tokens"), "1000");
  });
});

Deno.test("Messages upstream errors: statuses and classes of the error table, no provider key text", async (t) => {
  let answer: () => Response = () => new Response(null, { status: 500 });
  await using openai = startFakeOpenAI({ onChat: () => answer() });
  await using anthropic = startFakeAnthropic(() => answer());
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
    },
  });
  const client = anthropicClient(gateway);
  const openaiError = (status: number, message: string, type = "server_error") => () =>
    Response.json({ error: { message, type, param: null, code: null } }, {
      status,
      headers: { "retry-after": "7" },
    });
  const cases: [string, string, () => Response, number, string, string][] = [
    ["OpenAI 500", "gpt-4o", openaiError(500, "boom"), 502, "api_error", "upstream_error"],
    [
      "OpenAI 503",
      "gpt-4o",
      openaiError(503, "busy"),
      503,
      "overloaded_error",
      "upstream_overloaded",
    ],
    [
      "OpenAI 429",
      "gpt-4o",
      openaiError(429, "slow down", "requests"),
      429,
      "rate_limit_error",
      "rate_limit_exceeded",
    ],
    [
      "OpenAI 401",
      "gpt-4o",
      openaiError(401, `Incorrect API key provided: ${PROVIDER_KEY}`),
      502,
      "api_error",
      "upstream_error",
    ],
    [
      "Anthropic 529",
      "claude-sonnet-4-5",
      () => anthropicError(529, "overloaded_error", "Overloaded"),
      503,
      "overloaded_error",
      "upstream_overloaded",
    ],
    [
      "Anthropic 401",
      "claude-sonnet-4-5",
      () => anthropicError(401, "authentication_error", `bad key ${ANTHROPIC_KEY}`),
      502,
      "api_error",
      "upstream_error",
    ],
    [
      "Anthropic 400",
      "claude-sonnet-4-5",
      () => anthropicError(400, "invalid_request_error", "messages: bad"),
      400,
      "invalid_request_error",
      "invalid_request_error",
    ],
  ];
  for (const [name, model, upstream, status, type, code] of cases) {
    await t.step(`${name} → ${status} ${type}`, async () => {
      answer = upstream;
      const error = await raised(client.messages.create({ ...ECHO, model }));
      assert.equal(error.status, status);
      const body = (error.error as { error: Json }).error;
      assert.equal(body.type, type);
      if (name !== "OpenAI 429") assert.equal(body.code, code);
      assert.ok(!JSON.stringify(error.error).includes(PROVIDER_KEY));
      assert.ok(!JSON.stringify(error.error).includes(ANTHROPIC_KEY));
      if (status >= 500) assert.ok(error instanceof Anthropic.InternalServerError);
      if (status === 429) assert.equal(error.headers?.get("retry-after"), "7");
      // A stream that fails before its first event is the same HTTP error.
      const streamed = await raised(client.messages.create({ ...ECHO, model, stream: true }));
      assert.equal(streamed.status, status);
    });
  }
});

Deno.test("Messages streams that fail midway end with an error event", async (t) => {
  await using openai = startFakeOpenAI({
    onChat: (body) =>
      new Response(
        sseBody(streamChunks(String(body.model), ["Hello", " there"], true).slice(0, 2), false),
        { headers: SSE_RESPONSE_HEADERS },
      ),
  });
  await using anthropic = startFakeAnthropic(() =>
    new Response(
      `event: message_start\ndata: ${
        JSON.stringify({
          type: "message_start",
          message: {
            id: "msg_x",
            type: "message",
            role: "assistant",
            model: "claude-sonnet-4-5",
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 5, output_tokens: 1 },
          },
        })
      }\n\n${anthropicErrorEvent("overloaded_error", "Overloaded")}`,
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
    },
  });
  for (const model of ["gpt-4o", "claude-sonnet-4-5"]) {
    await t.step(model, async () => {
      const response = await fetch(`${gateway.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "sk-any-0123456789" },
        body: JSON.stringify({ ...ECHO, model, stream: true }),
      });
      assert.equal(response.status, 200);
      const text = await response.text();
      const events = text.trim().split("\n\n");
      assert.match(events[0] ?? "", /^event: message_start\n/);
      const last = events.at(-1) ?? "";
      assert.match(last, /^event: error\ndata: /);
      const data = JSON.parse(last.split("\ndata: ")[1] ?? "");
      assert.equal(data.type, "error");
      assert.equal(data.error.type, model === "gpt-4o" ? "api_error" : "overloaded_error");
      const error = await raised((async () => {
        const stream = anthropicClient(gateway).messages.stream({ ...ECHO, model });
        await stream.finalMessage();
      })());
      assert.ok(error instanceof Anthropic.APIError);
    });
  }
});
