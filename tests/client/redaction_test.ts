/**
 * The API key never shows: not in the client's JSON or inspected form, nor in any error's text,
 * even when a server echoes it back.
 */
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { APIError, ChoreoAI } from "../../src/client/mod.ts";
import { SSE_RESPONSE_HEADERS } from "../_helpers/fake_openai.ts";
import { makeKey } from "../_helpers/keys.ts";
import { clientFor, gatewayWithKeys, sseEvent, startServer } from "./_helpers.ts";

const SECRET = "sk-choreo-very-secret-key-0123456789";

/** Everything a log line could show of `value`. */
function shown(value: unknown): string {
  const parts = [
    Deno.inspect(value, { depth: 10, showHidden: true, getters: true }),
    Deno.inspect(value),
    inspect(value, { depth: 10, showHidden: true }),
    String(value),
  ];
  try {
    parts.push(JSON.stringify(value) ?? "");
  } catch {
    // Not serialisable: nothing more to show.
  }
  if (value instanceof Error) parts.push(value.message, value.stack ?? "");
  if (value instanceof APIError) parts.push(JSON.stringify(value.body) ?? "");
  return parts.join("\n");
}

/** The error `promise` rejects with. */
async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("no error was thrown");
}

Deno.test("the client's JSON and inspected forms show *** instead of the key", () => {
  const client = new ChoreoAI({ apiKey: SECRET, baseURL: "http://127.0.0.1:9/v1" });
  assert.deepEqual(JSON.parse(JSON.stringify(client)), {
    baseURL: "http://127.0.0.1:9/v1",
    apiKey: "***",
    timeout: 600_000,
    maxRetries: 2,
  });
  assert.match(Deno.inspect(client), /^ChoreoAI \{ .*apiKey: "\*\*\*"/);
  assert.match(inspect(client), /^ChoreoAI \{ .*apiKey: "\*\*\*"/);
  for (
    const value of [client, client.chat, client.chat.completions, client.models, client.embeddings]
  ) {
    assert.doesNotMatch(shown(value), /very-secret/);
  }
  assert.equal(client.apiKey, SECRET, "the key is still readable on purpose");
});

Deno.test("a gateway refusing the key: the error holds no trace of it", async () => {
  await using gateway = gatewayWithKeys([makeKey().record]);
  const error = await caught(
    clientFor(gateway, { apiKey: SECRET, maxRetries: 0 }).chat.completions.create({
      model: "choreoai/echo",
      messages: [{ role: "user", content: "Hi" }],
    }),
  );
  assert.ok(error instanceof APIError);
  assert.equal(error.status, 401);
  assert.doesNotMatch(shown(error), /very-secret/);
});

Deno.test("a server that echoes the key: replaced by *** in messages and bodies", async (t) => {
  await using server = startServer((request) => {
    const authorization = request.headers.get("authorization") ?? "";
    if (new URL(request.url).pathname === "/v1/models") {
      return Response.json(
        { error: { message: `Bad key: ${authorization}`, type: "invalid_request_error" } },
        { status: 400 },
      );
    }
    if (new URL(request.url).pathname === "/v1/embeddings") {
      return new Response(`plain text with ${authorization}`, { status: 500 });
    }
    const body = new Blob([
      sseEvent({ error: { message: `Stream key ${authorization}`, type: "api_error" } }),
    ]);
    return new Response(body, { headers: SSE_RESPONSE_HEADERS });
  });
  const client = clientFor(server, { apiKey: SECRET, maxRetries: 0 });
  await t.step("a JSON error body", async () => {
    const error = await caught(client.models.list());
    assert.ok(error instanceof APIError);
    assert.equal(error.message, "Bad key: Bearer ***");
    assert.doesNotMatch(shown(error), /very-secret/);
  });
  await t.step("a text error body", async () => {
    const error = await caught(client.embeddings.create({ model: "m", input: "x" }));
    assert.ok(error instanceof APIError);
    assert.equal(error.message, "plain text with Bearer ***");
    assert.doesNotMatch(shown(error), /very-secret/);
  });
  await t.step("an error event in a stream", async () => {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    const error = await caught((async () => {
      for await (const _ of stream) { /* the error event */ }
    })());
    assert.ok(error instanceof APIError);
    assert.equal(error.message, "Stream key Bearer ***");
    assert.doesNotMatch(shown(error), /very-secret/);
  });
});

Deno.test("a connection error's text holds no trace of the key", async () => {
  const closed = startServer(() => new Response());
  const url = closed.url;
  await closed[Symbol.asyncDispose]();
  const error = await caught(clientFor({ url }, { apiKey: SECRET, maxRetries: 0 }).models.list());
  assert.ok(error instanceof APIError);
  assert.doesNotMatch(shown(error), /very-secret/);
});
