import assert from "node:assert/strict";
import { errorResponse } from "../../../src/errors.ts";
import {
  fromAnthropicError,
  fromAnthropicStreamError,
} from "../../../src/providers/anthropic/error.ts";

/** An Anthropic error body (FACTS.md §3.4). */
function errorBody(type: string, message: string): Record<string, unknown> {
  return { type: "error", error: { type, message }, request_id: "req_011CSHoEeqs5C35K2UUqR7Fy" };
}

Deno.test("fromAnthropicError() hides Anthropic's text behind a 502 for 401 and 403", async (t) => {
  const cases: [number, string, string][] = [
    [401, "authentication_error", "invalid x-api-key sk-ant-api03-secret"],
    [403, "permission_error", "Your API key sk-ant-api03-secret does not have permission"],
  ];
  for (const [status, type, message] of cases) {
    await t.step(String(status), async () => {
      const error = fromAnthropicError(status, errorBody(type, message), new Headers());
      assert.equal(error.status, 502);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, "upstream_error");
      assert.equal(error.message.includes("sk-ant"), false);
      const text = await errorResponse(error).text();
      assert.equal(text.includes("sk-ant"), false);
    });
  }
});

Deno.test("fromAnthropicError() keeps the status and message of errors about the request", async (t) => {
  const cases: [number, string, string, string][] = [
    [
      400,
      "invalid_request_error",
      "messages: text content blocks must be non-empty",
      "invalid_request_error",
    ],
    [404, "not_found_error", "Not found: file_011CNha8iCJcU1wXNR6q4V8w", "invalid_request_error"],
    [
      413,
      "request_too_large",
      "Request exceeds the maximum allowed number of bytes.",
      "invalid_request_error",
    ],
    [
      429,
      "rate_limit_error",
      "Number of request tokens has exceeded your per-minute rate limit",
      "rate_limit_error",
    ],
  ];
  for (const [status, anthropicType, message, openaiType] of cases) {
    await t.step(String(status), () => {
      const error = fromAnthropicError(status, errorBody(anthropicType, message), new Headers());
      assert.equal(error.status, status);
      assert.equal(error.message, message);
      assert.equal(error.type, openaiType);
      assert.equal(error.code, anthropicType);
      assert.equal(error.param, null);
    });
  }
});

Deno.test("fromAnthropicError() maps a 404 about the model to model_not_found, as other providers do", () => {
  const error = fromAnthropicError(
    404,
    errorBody("not_found_error", "model: claude-x"),
    new Headers(),
  );
  assert.equal(error.status, 404);
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "model_not_found");
  assert.equal(error.param, "model");
  assert.equal(error.message, "model: claude-x");
});

Deno.test("fromAnthropicError() keeps retry-after", async (t) => {
  await t.step("429", () => {
    const error = fromAnthropicError(
      429,
      errorBody("rate_limit_error", "Rate limited"),
      new Headers({ "retry-after": "17", "request-id": "req_1" }),
    );
    assert.deepEqual(error.headers, { "retry-after": "17" });
    assert.equal(errorResponse(error).headers.get("retry-after"), "17");
  });
  await t.step("529", () => {
    const error = fromAnthropicError(
      529,
      errorBody("overloaded_error", "Overloaded"),
      new Headers({ "retry-after": "5" }),
    );
    assert.deepEqual(error.headers, { "retry-after": "5" });
  });
  await t.step("absent: no header", () => {
    const error = fromAnthropicError(429, errorBody("rate_limit_error", "x"), new Headers());
    assert.deepEqual(error.headers, {});
  });
});

Deno.test("fromAnthropicError() maps server errors to 502, 503 and 504", async (t) => {
  const cases: [number, string, number, string][] = [
    [500, "api_error", 502, "upstream_error"],
    [502, "api_error", 502, "upstream_error"],
    [503, "overloaded_error", 503, "upstream_overloaded"],
    [529, "overloaded_error", 503, "upstream_overloaded"],
    [504, "timeout_error", 504, "upstream_timeout"],
  ];
  for (const [status, type, gatewayStatus, code] of cases) {
    await t.step(String(status), () => {
      const error = fromAnthropicError(status, errorBody(type, "Upstream trouble"), new Headers());
      assert.equal(error.status, gatewayStatus);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, code);
      assert.match(error.message, /Upstream trouble/);
    });
  }
});

Deno.test("fromAnthropicError() maps a billing error to 502 with its message", () => {
  const error = fromAnthropicError(
    402,
    errorBody("billing_error", "Your credit balance is too low"),
    new Headers(),
  );
  assert.equal(error.status, 502);
  assert.equal(error.code, "upstream_error");
  assert.match(error.message, /credit balance/);
});

Deno.test("fromAnthropicError() copes with a body that is not an Anthropic error", async (t) => {
  const cases: [number, unknown, number, string][] = [
    [400, "<html>Bad Request</html>", 400, "invalid_request_error"],
    [429, null, 429, "rate_limit_error"],
    [500, { error: "boom" }, 502, "api_error"],
  ];
  for (const [status, body, gatewayStatus, type] of cases) {
    await t.step(`${status} ${JSON.stringify(body)}`, () => {
      const error = fromAnthropicError(status, body, new Headers());
      assert.equal(error.status, gatewayStatus);
      assert.equal(error.type, type);
      assert.match(error.message, new RegExp(`HTTP ${status}`));
    });
  }
});

Deno.test("fromAnthropicStreamError() maps an in-stream error event", async (t) => {
  const cases: [string, unknown, number, string, RegExp][] = [
    [
      "overloaded",
      errorBody("overloaded_error", "Overloaded"),
      503,
      "upstream_overloaded",
      /Overloaded/,
    ],
    [
      "api_error",
      errorBody("api_error", "Internal server error"),
      502,
      "upstream_error",
      /Internal server error/,
    ],
    [
      "timeout",
      errorBody("timeout_error", "Request timed out"),
      504,
      "upstream_timeout",
      /timed out/,
    ],
    ["not an error body", { foo: 1 }, 502, "upstream_error", /mid-stream/],
  ];
  for (const [name, body, status, code, message] of cases) {
    await t.step(name, () => {
      const error = fromAnthropicStreamError(body);
      assert.equal(error.status, status);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, code);
      assert.match(error.message, message);
    });
  }
});
