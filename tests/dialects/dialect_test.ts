import assert from "node:assert/strict";
import { dialectOf } from "../../src/dialects/dialect.ts";
import { errors } from "../../src/errors.ts";

Deno.test("dialectOf() speaks Messages under /v1/messages only", async (t) => {
  const cases: [string, "openai" | "messages"][] = [
    ["/v1/messages", "messages"],
    ["/v1/messages/count_tokens", "messages"],
    ["/v1/messages/batches", "messages"],
    ["/v1/messagesx", "openai"],
    ["/v1/message", "openai"],
    ["/v1/chat/completions", "openai"],
    ["/v1/models", "openai"],
    ["/", "openai"],
  ];
  for (const [path, name] of cases) {
    await t.step(`${path} → ${name}`, () => assert.equal(dialectOf(path).name, name));
  }
});

Deno.test("each dialect renders an error in its own shape, status and headers kept", async (t) => {
  const error = errors.methodNotAllowed("GET", ["POST"]);
  await t.step("OpenAI", async () => {
    const response = dialectOf("/v1/chat/completions").renderError(error);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    assert.deepEqual(await response.json(), error.toJSON());
  });
  await t.step("Messages", async () => {
    const response = dialectOf("/v1/messages").renderError(error);
    assert.equal(response.status, 405);
    assert.equal(response.headers.get("allow"), "POST");
    assert.deepEqual(await response.json(), {
      type: "error",
      error: { type: "invalid_request_error", message: error.message, code: "method_not_allowed" },
    });
  });
});

Deno.test("each dialect reads the key from its own headers", async (t) => {
  const headers = new Headers({ "x-api-key": "sk-key" });
  await t.step("Messages takes x-api-key", () => {
    assert.deepEqual(dialectOf("/v1/messages").credentials(headers), { ok: true, token: "sk-key" });
  });
  await t.step("OpenAI does not", () => {
    const result = dialectOf("/v1/embeddings").credentials(headers);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "missing_authorization");
  });
});
