import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import { fromGeminiError, fromGeminiStreamError } from "../../../src/providers/gemini/error.ts";

function googleError(code: number, status: string, message: string, details?: unknown[]) {
  return { error: { code, message, status, ...(details === undefined ? {} : { details }) } };
}

const NO_HEADERS = new Headers();

Deno.test("fromGeminiError() keeps a 400 INVALID_ARGUMENT with Gemini's message", () => {
  const message = "* GenerateContentRequest.contents: contents is not specified";
  const error = fromGeminiError(400, googleError(400, "INVALID_ARGUMENT", message), NO_HEADERS);
  assert.equal(error.status, 400);
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "INVALID_ARGUMENT");
  assert.equal(error.message, message);
});

Deno.test("fromGeminiError() answers 502 without Gemini's text for a bad provider key", async (t) => {
  const cases: ReadonlyArray<readonly [string, number, unknown]> = [
    [
      "API_KEY_INVALID detail",
      400,
      googleError(400, "INVALID_ARGUMENT", "Bad key AIzaSy-secret", [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" },
      ]),
    ],
    [
      "message only",
      400,
      googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
    ],
    ["401", 401, googleError(401, "UNAUTHENTICATED", "AIzaSy-secret")],
    ["403", 403, googleError(403, "PERMISSION_DENIED", "Consumer api_key:AIzaSy-secret suspended")],
    ["403 without body", 403, undefined],
  ];
  for (const [name, status, body] of cases) {
    await t.step(name, () => {
      const error = fromGeminiError(status, body, NO_HEADERS);
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_error");
      assert.doesNotMatch(error.message, /AIzaSy|API key not valid/);
    });
  }
});

Deno.test("fromGeminiError() keeps 404 and names a missing model", () => {
  const error = fromGeminiError(
    404,
    googleError(
      404,
      "NOT_FOUND",
      "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
    ),
    NO_HEADERS,
  );
  assert.equal(error.status, 404);
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "model_not_found");
  assert.equal(error.param, "model");
  assert.match(error.message, /gemini-9/);
});

Deno.test("fromGeminiError() keeps 429 with retry-after", async (t) => {
  const body = googleError(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota", [
    { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "36.5s" },
  ]);
  await t.step("header wins", () => {
    const error = fromGeminiError(429, body, new Headers({ "retry-after": "12" }));
    assert.equal(error.status, 429);
    assert.equal(error.type, "rate_limit_error");
    assert.equal(error.code, "RESOURCE_EXHAUSTED");
    assert.equal(error.message, "You exceeded your current quota");
    assert.deepEqual(error.headers, { "retry-after": "12" });
  });
  await t.step("derived from RetryInfo", () => {
    assert.deepEqual(fromGeminiError(429, body, NO_HEADERS).headers, { "retry-after": "37" });
  });
  await t.step("none", () => {
    const plain = googleError(429, "RESOURCE_EXHAUSTED", "Slow down");
    assert.deepEqual(fromGeminiError(429, plain, NO_HEADERS).headers, {});
  });
});

Deno.test("fromGeminiError() maps server errors", async (t) => {
  const cases: ReadonlyArray<readonly [number, string, number, string]> = [
    [500, "INTERNAL", 502, "upstream_error"],
    [499, "CANCELLED", 502, "upstream_error"],
    [503, "UNAVAILABLE", 503, "upstream_overloaded"],
    [504, "DEADLINE_EXCEEDED", 504, "upstream_timeout"],
    [502, "UNKNOWN", 502, "upstream_error"],
  ];
  for (const [status, rpc, expectedStatus, code] of cases) {
    await t.step(`${status} ${rpc}`, () => {
      const error = fromGeminiError(
        status,
        googleError(status, rpc, "The model is overloaded."),
        NO_HEADERS,
      );
      assert.equal(error.status, expectedStatus);
      assert.equal(error.code, code);
      assert.equal(error.message, "gemini: The model is overloaded.");
    });
  }
  await t.step("503 keeps retry-after", () => {
    const error = fromGeminiError(503, undefined, new Headers({ "retry-after": "5" }));
    assert.deepEqual(error.headers, { "retry-after": "5" });
  });
});

Deno.test("fromGeminiError() handles bodies that are not Google's shape", async (t) => {
  await t.step("400 with text", () => {
    const error = fromGeminiError(400, "<html>bad</html>", NO_HEADERS);
    assert.equal(error.status, 400);
    assert.equal(error.message, "The gemini provider answered HTTP 400");
    assert.equal(error.code, null);
  });
  await t.step("array-wrapped", () => {
    const error = fromGeminiError(
      400,
      [googleError(400, "INVALID_ARGUMENT", "wrapped")],
      NO_HEADERS,
    );
    assert.equal(error.message, "wrapped");
  });
});

Deno.test("fromGeminiStreamError() maps an error chunk by its code", async (t) => {
  const cases: ReadonlyArray<readonly [unknown, number, string | null]> = [
    [googleError(503, "UNAVAILABLE", "The model is overloaded."), 503, "upstream_overloaded"],
    [googleError(500, "INTERNAL", "An internal error has occurred."), 502, "upstream_error"],
    [googleError(429, "RESOURCE_EXHAUSTED", "Quota"), 429, "RESOURCE_EXHAUSTED"],
    [{ error: { status: "DEADLINE_EXCEEDED", message: "Deadline" } }, 504, "upstream_timeout"],
    [{ error: { message: "Something broke" } }, 502, "upstream_error"],
    [{ nope: true }, 502, "upstream_error"],
  ];
  for (const [body, status, code] of cases) {
    await t.step(JSON.stringify(body).slice(0, 60), () => {
      const error = fromGeminiStreamError(body);
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, status);
      assert.equal(error.code, code);
    });
  }
});
