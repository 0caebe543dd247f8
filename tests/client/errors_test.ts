/**
 * Every error class of the TypeScript client, produced by the real gateway (or, for failures
 * without an answer, by a closed port and a silent server), with its status, type and code.
 */
import assert from "node:assert/strict";
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ChoreoAIError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "../../src/client/mod.ts";
import {
  errorClassForStatus,
  errorClassForType,
  parseRetryAfter,
} from "../../src/client/errors.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";
import { startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { clientFor, gatewayWithKeys, openaiEnv, startServer } from "./_helpers.ts";

const HI = [{ role: "user" as const, content: "Hi" }];

/** The error `promise` rejects with, checked to be an APIError. */
async function caught(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof APIError, `not an APIError: ${error}`);
    return error;
  }
  throw new Error("no error was thrown");
}

Deno.test("the error classes form the Python client's hierarchy", () => {
  const error = new NotFoundError("gone", { status: 404 });
  for (const base of [BadRequestError, APIError, ChoreoAIError, Error]) {
    assert.ok(error instanceof base, base.name);
  }
  assert.ok(new APITimeoutError() instanceof APIConnectionError);
  assert.ok(new APIConnectionError() instanceof APIError);
  for (const Class of [AuthenticationError, PermissionDeniedError, RateLimitError]) {
    assert.ok(new Class("x") instanceof APIError);
    assert.equal(new Class("x") instanceof BadRequestError, false);
  }
  assert.ok(new InternalServerError("x") instanceof APIError);
  assert.equal(new APITimeoutError().name, "APITimeoutError");
  assert.equal(new APITimeoutError().message, "Request timed out");
  assert.equal(new APIConnectionError().message, "Connection error");
  assert.equal(new APIError("x").status, undefined);
  assert.equal(new APIError("x").requestId, null);
});

Deno.test("errorClassForStatus() and errorClassForType() pick the class", async (t) => {
  const byStatus: [number, typeof APIError][] = [
    [400, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [405, BadRequestError],
    [413, BadRequestError],
    [415, BadRequestError],
    [429, RateLimitError],
    [500, InternalServerError],
    [502, InternalServerError],
    [503, InternalServerError],
    [504, InternalServerError],
    [302, APIError],
  ];
  for (const [status, expected] of byStatus) {
    await t.step(`${status} is ${expected.name}`, () => {
      assert.equal(errorClassForStatus(status), expected);
    });
  }
  const byType: [string | null, typeof APIError][] = [
    ["invalid_request_error", BadRequestError],
    ["authentication_error", AuthenticationError],
    ["permission_error", PermissionDeniedError],
    ["rate_limit_error", RateLimitError],
    ["api_error", APIError],
    [null, APIError],
  ];
  for (const [type, expected] of byType) {
    await t.step(`type ${type} is ${expected.name}`, () => {
      assert.equal(errorClassForType(type), expected);
    });
  }
});

Deno.test("parseRetryAfter() reads retry-after-ms, seconds and HTTP dates", async (t) => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const cases: [string, Record<string, string>, number | undefined][] = [
    ["none", {}, undefined],
    ["seconds", { "retry-after": "3" }, 3],
    ["fractional seconds", { "retry-after": "1.5" }, 1.5],
    ["milliseconds win", { "retry-after-ms": "250", "retry-after": "9" }, 0.25],
    ["an HTTP date", { "retry-after": "Thu, 01 Jan 2026 00:00:10 GMT" }, 10],
    ["a past date is 0", { "retry-after": "Wed, 31 Dec 2025 00:00:00 GMT" }, 0],
    ["negative is 0", { "retry-after": "-5" }, 0],
    ["garbage", { "retry-after": "soon" }, undefined],
  ];
  for (const [name, headers, expected] of cases) {
    await t.step(name, () => {
      assert.equal(parseRetryAfter(new Headers(headers), now), expected);
    });
  }
});

Deno.test("401s are AuthenticationError with the gateway's codes", async (t) => {
  const valid = makeKey();
  const expired = makeKey({ expires_at: "2020-01-01T00:00:00Z" });
  await using gateway = gatewayWithKeys([valid.record, expired.record]);
  const cases = [
    { name: "unknown key", key: "sk-unknown-key-0123456789", code: "invalid_api_key" },
    { name: "expired key", key: expired.token, code: "invalid_api_key" },
    { name: "not a b64token", key: "sk bad key", code: "malformed_authorization" },
  ];
  for (const { name, key, code } of cases) {
    await t.step(name, async () => {
      const client = clientFor(gateway, { apiKey: key, maxRetries: 0 });
      const error = await caught(
        client.chat.completions.create({ model: "choreoai/echo", messages: HI }),
      );
      assert.ok(error instanceof AuthenticationError);
      assert.equal(error.status, 401);
      assert.equal(error.type, "authentication_error");
      assert.equal(error.code, code);
      assert.equal(error.headers.get("www-authenticate")?.startsWith("Bearer"), true);
      assert.match(error.requestId ?? "", /^req_/);
    });
  }
  const ok = await clientFor(gateway, { apiKey: valid.token }).models.list();
  assert.ok(ok.data.length > 0, "the valid key works");
});

Deno.test("403s are PermissionDeniedError: model and endpoint scopes", async () => {
  const gptOnly = makeKey({ models: ["gpt-4o"] });
  const chatOnly = makeKey({ endpoints: ["/v1/chat/completions"] });
  await using gateway = gatewayWithKeys([gptOnly.record, chatOnly.record]);
  const model = await caught(
    clientFor(gateway, { apiKey: gptOnly.token }).chat.completions.create({
      model: "choreoai/echo",
      messages: HI,
    }),
  );
  assert.ok(model instanceof PermissionDeniedError);
  assert.equal(model.status, 403);
  assert.equal(model.type, "permission_error");
  assert.equal(model.code, "model_not_allowed");
  const endpoint = await caught(
    clientFor(gateway, { apiKey: chatOnly.token }).embeddings.create({
      model: "choreoai/echo",
      input: "x",
    }),
  );
  assert.ok(endpoint instanceof PermissionDeniedError);
  assert.equal(endpoint.code, "endpoint_not_allowed");
});

Deno.test("429 from a key's limit is RateLimitError with retryAfter and the limit headers", async () => {
  const limited = makeKey({ rpm: 1 });
  await using gateway = gatewayWithKeys([limited.record]);
  const client = clientFor(gateway, { apiKey: limited.token, maxRetries: 0 });
  await client.chat.completions.create({ model: "choreoai/echo", messages: HI });
  const error = await caught(
    client.chat.completions.create({ model: "choreoai/echo", messages: HI }),
  );
  assert.ok(error instanceof RateLimitError);
  assert.equal(error.status, 429);
  assert.equal(error.type, "rate_limit_error");
  assert.equal(error.code, "rate_limit_exceeded");
  assert.ok((error.retryAfter ?? 0) >= 1, `retryAfter ${error.retryAfter}`);
  assert.equal(error.headers.get("x-ratelimit-limit-requests"), "1");
  assert.equal(error.headers.get("x-ratelimit-remaining-requests"), "0");
});

Deno.test("400 and the other 4xx are BadRequestError; 404 is NotFoundError", async (t) => {
  await using gateway = startGateway({ env: { CHOREOAI_MAX_BODY_BYTES: "2000" } });
  const client = clientFor(gateway, { maxRetries: 0 });
  await t.step("400 invalid_request names the field", async () => {
    const error = await caught(
      client.chat.completions.create({ model: "choreoai/echo", messages: "hi" as never }),
    );
    assert.equal(error.constructor, BadRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.code, "invalid_request");
    assert.equal(error.param, "messages");
  });
  await t.step("404 model_not_found", async () => {
    const error = await caught(client.models.retrieve("no-such/model"));
    assert.ok(error instanceof NotFoundError);
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.status, 404);
    assert.equal(error.code, "model_not_found");
  });
  await t.step("413 request_too_large", async () => {
    const error = await caught(
      client.chat.completions.create({
        model: "choreoai/echo",
        messages: [{ role: "user", content: "x".repeat(5_000) }],
      }),
    );
    assert.equal(error.constructor, BadRequestError);
    assert.equal(error.status, 413);
    assert.equal(error.code, "request_too_large");
  });
  await t.step("415 unsupported_media_type", async () => {
    const error = await caught(
      client.chat.completions.create(
        { model: "choreoai/echo", messages: HI },
        { headers: { "content-type": "text/plain" } },
      ),
    );
    assert.equal(error.constructor, BadRequestError);
    assert.equal(error.status, 415);
    assert.equal(error.code, "unsupported_media_type");
  });
});

Deno.test("5xx are InternalServerError with the gateway's upstream codes", async (t) => {
  const cases = [
    { upstream: 500, status: 502, code: "upstream_error" },
    { upstream: 503, status: 503, code: "upstream_overloaded" },
    { upstream: 504, status: 504, code: "upstream_timeout" },
  ];
  for (const { upstream: upstreamStatus, status, code } of cases) {
    await t.step(`upstream ${upstreamStatus}: ${status} ${code}`, async () => {
      await using upstream = startFakeOpenAI({
        onChat: () =>
          Response.json(
            { error: { message: "boom", type: "server_error", param: null, code: null } },
            { status: upstreamStatus },
          ),
      });
      await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
      const error = await caught(
        clientFor(gateway, { maxRetries: 0 }).chat.completions.create({
          model: "gpt-4o",
          messages: HI,
        }),
      );
      assert.ok(error instanceof InternalServerError);
      assert.equal(error.status, status);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, code);
    });
  }
});

Deno.test("no answer at all is APIConnectionError, with no status", async () => {
  const closed = startServer(() => new Response());
  const url = closed.url;
  await closed[Symbol.asyncDispose]();
  const error = await caught(clientFor({ url }, { maxRetries: 0 }).models.list());
  assert.equal(error.constructor, APIConnectionError);
  assert.equal(error.status, undefined);
  assert.ok(error.cause !== undefined);
  assert.match(error.message, /^Connection error: /);
});

Deno.test("an answer slower than the timeout is APITimeoutError, retried like a failure", async () => {
  const release = Promise.withResolvers<void>();
  await using server = startServer(async () => {
    await release.promise;
    return Response.json({ object: "list", data: [] });
  });
  try {
    const started = performance.now();
    const error = await caught(
      clientFor(server, { timeout: 200, maxRetries: 1 }).models.list(),
    );
    assert.ok(error instanceof APITimeoutError);
    assert.equal(error.status, undefined);
    assert.equal(server.requests.length, 2, "one retry");
    assert.ok(performance.now() - started >= 2 * 200 + 375, "two timeouts and a backoff");
  } finally {
    release.resolve();
  }
});

Deno.test("a caller's abort rejects with the signal's reason and is not retried", async () => {
  const release = Promise.withResolvers<void>();
  await using server = startServer(async () => {
    await release.promise;
    return Response.json({ object: "list", data: [] });
  });
  try {
    const reason = new Error("user left");
    const controller = new AbortController();
    const pending = clientFor(server).models.list({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(pending, (error: unknown) => error === reason);
    assert.equal(server.requests.length, 1);
  } finally {
    release.resolve();
  }
});

Deno.test("a redirect is not followed: the key never travels elsewhere", async () => {
  await using elsewhere = startServer(() => Response.json({ object: "list", data: [] }));
  await using server = startServer(() => Response.redirect(`${elsewhere.url}/v1/models`, 307));
  const error = await caught(clientFor(server).models.list());
  assert.equal(error.constructor, APIError);
  assert.equal(error.status, 307);
  assert.match(error.message, /redirect/);
  assert.equal(elsewhere.requests.length, 0);
  assert.equal(server.requests.length, 1, "not retried");
});
