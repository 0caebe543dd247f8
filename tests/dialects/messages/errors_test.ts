import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { authErrors } from "../../../src/auth/authorization.ts";
import { errors, GatewayError } from "../../../src/errors.ts";
import {
  messagesErrorResponse,
  messagesErrorType,
  toMessagesErrorBody,
} from "../../../src/dialects/messages/errors.ts";
import { sdkClient } from "./_sdk.ts";

Deno.test("messagesErrorType() maps statuses to Anthropic's error types", async (t) => {
  const cases: [number, string][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [402, "billing_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [405, "invalid_request_error"],
    [408, "invalid_request_error"],
    [413, "request_too_large"],
    [415, "invalid_request_error"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
    [504, "timeout_error"],
    [529, "overloaded_error"],
  ];
  for (const [status, type] of cases) {
    await t.step(`${status}`, () => assert.equal(messagesErrorType(status), type));
  }
});

Deno.test("toMessagesErrorBody() keeps the message and the gateway's code", () => {
  assert.deepEqual(
    toMessagesErrorBody(errors.invalidRequest("Invalid value for 'max_tokens'", "max_tokens")),
    {
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "Invalid value for 'max_tokens'",
        code: "invalid_request",
      },
    },
  );
});

Deno.test("toMessagesErrorBody() calls a used-up budget a billing_error, at its 429", () => {
  const error = new GatewayError("Budget exceeded for key key_1", {
    status: 429,
    type: "insufficient_quota",
    code: "insufficient_quota",
    headers: { "x-should-retry": "false" },
  });
  assert.deepEqual(toMessagesErrorBody(error), {
    type: "error",
    error: {
      type: "billing_error",
      message: "Budget exceeded for key key_1",
      code: "insufficient_quota",
    },
  });
});

Deno.test("messagesErrorResponse() keeps status and headers; unknown errors are a generic 500", async (t) => {
  await t.step("429 with retry-after", async () => {
    const error = new GatewayError("Rate limit reached", {
      status: 429,
      type: "rate_limit_error",
      code: "rate_limit_exceeded",
      headers: { "retry-after": "7" },
    });
    const response = messagesErrorResponse(error, { "x-request-id": "req_1" });
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "7");
    assert.equal(response.headers.get("x-request-id"), "req_1");
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await response.json(), {
      type: "error",
      error: {
        type: "rate_limit_error",
        message: "Rate limit reached",
        code: "rate_limit_exceeded",
      },
    });
  });
  await t.step("401 says it is final (x-should-retry: false); other statuses leave it", () => {
    // Claude Code retries a 401 ten times with backoff unless told not to.
    const cases: [GatewayError, string | null][] = [
      [authErrors.invalidKey(), "false"],
      [errors.invalidRequest("Invalid value for 'model'", "model"), null],
      [new GatewayError("Upstream failed", { status: 502, type: "api_error", code: null }), null],
    ];
    for (const [error, expected] of cases) {
      const response = messagesErrorResponse(error);
      assert.equal(response.headers.get("x-should-retry"), expected, `status ${error.status}`);
    }
  });
  await t.step("a thrown TypeError", async () => {
    const response = messagesErrorResponse(new TypeError("secret detail"));
    assert.equal(response.status, 500);
    const body = await response.json();
    assert.equal(body.error.type, "api_error");
    assert.equal(body.error.code, "internal_error");
    assert.doesNotMatch(body.error.message, /secret/);
  });
});

Deno.test("messagesErrorResponse() makes @anthropic-ai/sdk raise the class of each status", async (t) => {
  const cases: [
    string,
    GatewayError,
    new (...args: never[]) => InstanceType<typeof Anthropic.APIError>,
    string,
  ][] = [
    [
      "400",
      errors.invalidRequest("bad", "model"),
      Anthropic.BadRequestError,
      "invalid_request_error",
    ],
    ["401 missing", authErrors.missing(), Anthropic.AuthenticationError, "authentication_error"],
    [
      "401 malformed",
      authErrors.malformed(),
      Anthropic.AuthenticationError,
      "authentication_error",
    ],
    ["401 invalid", authErrors.invalidKey(), Anthropic.AuthenticationError, "authentication_error"],
    [
      "403",
      new GatewayError("no", { status: 403, type: "permission_error", code: "model_not_allowed" }),
      Anthropic.PermissionDeniedError,
      "permission_error",
    ],
    ["404", errors.modelNotFound("Cannot find model"), Anthropic.NotFoundError, "not_found_error"],
    [
      "429",
      new GatewayError("slow", {
        status: 429,
        type: "rate_limit_error",
        code: "rate_limit_exceeded",
      }),
      Anthropic.RateLimitError,
      "rate_limit_error",
    ],
    ["502", errors.upstream("openai: broke"), Anthropic.InternalServerError, "api_error"],
    ["503", errors.upstreamOverloaded("busy"), Anthropic.InternalServerError, "overloaded_error"],
  ];
  for (const [name, error, errorClass, type] of cases) {
    await t.step(name, async () => {
      const client = sdkClient(() => messagesErrorResponse(error));
      await assert.rejects(
        client.messages.create({
          model: "m",
          max_tokens: 1,
          messages: [{ role: "user", content: "x" }],
        }),
        (thrown: unknown) => {
          assert.ok(thrown instanceof errorClass, `expected ${errorClass.name}`);
          assert.equal(thrown.status, error.status);
          assert.equal(thrown.type, type);
          assert.match(thrown.message, new RegExp(error.message));
          assert.equal((thrown.error as { error: { code: string } }).error.code, error.code);
          return true;
        },
      );
    });
  }
});
