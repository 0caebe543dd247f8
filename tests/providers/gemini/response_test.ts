import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import type { TranslationContext } from "../../../src/providers/mod.ts";
import { fromGeminiResponse } from "../../../src/providers/gemini/response.ts";
import { decodeToolCallId } from "../../../src/providers/gemini/tool_ids.ts";

type Json = Record<string, unknown>;

const CTX: TranslationContext = {
  id: "chatcmpl-gw-7f3a",
  created: 1767225600,
  model: "gemini/gemini-2.5-flash",
};

const USAGE = { promptTokenCount: 8, candidatesTokenCount: 4, totalTokenCount: 12 };

/** A generateContent response as Gemini sends it (FACTS.md §4.2). */
function response(parts: Json[], overrides: Json = {}, candidate: Json = {}): Json {
  return {
    candidates: [{
      content: { role: "model", parts },
      finishReason: "STOP",
      safetyRatings: [{ category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" }],
      ...candidate,
    }],
    usageMetadata: USAGE,
    modelVersion: "gemini-2.5-flash",
    responseId: "abc123",
    ...overrides,
  };
}

function translate(body: unknown): Json {
  const result = fromGeminiResponse(body, CTX);
  if (result instanceof GatewayError) assert.fail(`unexpected error: ${result.message}`);
  return result as Json;
}

function choice(body: unknown, i = 0): Json {
  return (translate(body).choices as Json[])[i] as Json;
}

function message(body: unknown, i = 0): Json {
  return choice(body, i).message as Json;
}

Deno.test("fromGeminiResponse() translates a text reply with the context's identity", () => {
  assert.deepEqual(translate(response([{ text: "Hello" }, { text: " there" }])), {
    id: "chatcmpl-gw-7f3a",
    object: "chat.completion",
    created: 1767225600,
    model: "gemini/gemini-2.5-flash",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello there", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: {
      prompt_tokens: 8,
      completion_tokens: 4,
      total_tokens: 12,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  });
});

Deno.test("fromGeminiResponse() turns thought parts into reasoning_content", async (t) => {
  await t.step("thoughts, then the answer", () => {
    const body = response([
      { text: "**Adding** six and seven", thought: true },
      { text: "; the sum is 13.", thought: true },
      { text: "42", thoughtSignature: "c2ln" },
    ]);
    assert.deepEqual(message(body), {
      role: "assistant",
      content: "42",
      reasoning_content: "**Adding** six and seven; the sum is 13.",
      refusal: null,
    });
  });
  await t.step("thoughts next to a call keep the call's signature in its id", () => {
    const body = response([
      { text: "I need the weather.", thought: true },
      { functionCall: { name: "f", args: {} }, thoughtSignature: "CiQBjz1rX+sig/==" },
    ]);
    const msg = message(body) as { reasoning_content: string; tool_calls: { id: string }[] };
    assert.equal(msg.reasoning_content, "I need the weather.");
    assert.deepEqual(decodeToolCallId(msg.tool_calls[0]?.id ?? "").signature, "CiQBjz1rX+sig/==");
  });
  await t.step("no thoughts: no reasoning_content key", () => {
    assert.equal("reasoning_content" in message(response([{ text: "42" }])), false);
  });
});

Deno.test("fromGeminiResponse() turns functionCall parts into tool_calls with content null", () => {
  const body = response([
    { functionCall: { name: "get_weather", args: { city: "Paris" } } },
    { functionCall: { name: "get_time" } },
  ]);
  assert.deepEqual(message(body), {
    role: "assistant",
    content: null,
    refusal: null,
    tool_calls: [
      {
        id: "call_gw-7f3a_0_0",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      },
      { id: "call_gw-7f3a_0_1", type: "function", function: { name: "get_time", arguments: "{}" } },
    ],
  });
  assert.equal(choice(body).finish_reason, "tool_calls");
});

Deno.test("fromGeminiResponse() keeps text next to tool calls", () => {
  const body = response([{ text: "Checking." }, { functionCall: { name: "f", args: {} } }]);
  assert.equal(message(body).content, "Checking.");
  assert.equal((message(body).tool_calls as Json[]).length, 1);
});

Deno.test("fromGeminiResponse() carries the thoughtSignature in the tool-call id", () => {
  const body = response([
    { functionCall: { name: "f", args: {} }, thoughtSignature: "CiQBjz1rX+sig/==" },
    { functionCall: { name: "g", args: {} } },
  ]);
  const calls = message(body).tool_calls as { id: string }[];
  assert.deepEqual(decodeToolCallId(calls[0]?.id ?? ""), {
    base: "call_gw-7f3a_0_0",
    signature: "CiQBjz1rX+sig/==",
  });
  assert.equal(calls[1]?.id, "call_gw-7f3a_0_1");
});

Deno.test("fromGeminiResponse() gives tool-call ids that are stable across translations", () => {
  const body = response([{ functionCall: { name: "f", args: {} } }]);
  assert.deepEqual(message(body).tool_calls, message(body).tool_calls);
});

Deno.test("fromGeminiResponse() maps finish reasons", async (t) => {
  for (
    const [reason, expected] of [
      ["MAX_TOKENS", "length"],
      ["SAFETY", "content_filter"],
      ["RECITATION", "content_filter"],
      ["OTHER", "stop"],
    ] as const
  ) {
    await t.step(reason, () => {
      assert.equal(
        choice(response([{ text: "x" }], {}, { finishReason: reason })).finish_reason,
        expected,
      );
    });
  }
});

Deno.test("fromGeminiResponse() gives a filtered candidate without parts content null", () => {
  const body = { candidates: [{ finishReason: "SAFETY", index: 0 }], usageMetadata: USAGE };
  assert.equal(message(body).content, null);
  assert.equal(choice(body).finish_reason, "content_filter");
});

Deno.test("fromGeminiResponse() turns several candidates into choices by index", () => {
  const body = {
    candidates: [
      { content: { role: "model", parts: [{ text: "B" }] }, finishReason: "STOP", index: 1 },
      {
        content: { role: "model", parts: [{ functionCall: { name: "f", args: {} } }] },
        finishReason: "STOP",
        index: 0,
      },
    ],
    usageMetadata: USAGE,
  };
  const choices = translate(body).choices as Json[];
  assert.deepEqual(choices.map((c) => c.index), [0, 1]);
  assert.equal((choices[1]?.message as Json).content, "B");
  assert.deepEqual(
    ((choices[0]?.message as Json).tool_calls as Json[]).map((c) => c.id),
    ["call_gw-7f3a_0_0"],
  );
});

Deno.test("fromGeminiResponse() takes a missing candidate index as the candidate's position", () => {
  const body = {
    candidates: [
      { content: { role: "model", parts: [{ text: "A" }] }, finishReason: "STOP" },
      { content: { role: "model", parts: [{ text: "B" }] }, finishReason: "STOP", index: 1 },
    ],
  };
  const choices = translate(body).choices as Json[];
  assert.deepEqual(choices.map((c) => [c.index, (c.message as Json).content]), [[0, "A"], [
    1,
    "B",
  ]]);
});

Deno.test("fromGeminiResponse() maps usage with thoughts and cache", () => {
  const body = response([{ text: "x" }], {
    usageMetadata: {
      promptTokenCount: 100,
      candidatesTokenCount: 10,
      thoughtsTokenCount: 30,
      cachedContentTokenCount: 64,
      totalTokenCount: 140,
    },
  });
  assert.deepEqual(translate(body).usage, {
    prompt_tokens: 100,
    completion_tokens: 40,
    total_tokens: 140,
    prompt_tokens_details: { cached_tokens: 64 },
    completion_tokens_details: { reasoning_tokens: 30 },
  });
});

Deno.test("fromGeminiResponse() omits usage when Gemini sent none", () => {
  assert.equal(
    "usage" in translate(response([{ text: "x" }], { usageMetadata: undefined })),
    false,
  );
});

Deno.test("fromGeminiResponse() tolerates unknown parts and fields", () => {
  const body = response([
    { executableCode: { language: "PYTHON", code: "print(1)" } },
    { inlineData: { mimeType: "image/png", data: "AAAA" } },
    { text: "ok", somethingNew: 1 },
  ], { newTopLevel: { a: 1 } });
  assert.equal(message(body).content, "ok");
});

Deno.test("fromGeminiResponse() answers a blocked prompt with a 400 content_filter error", () => {
  const result = fromGeminiResponse({
    promptFeedback: { blockReason: "SAFETY", safetyRatings: [] },
    usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
  }, CTX);
  assert.ok(result instanceof GatewayError);
  assert.equal(result.status, 400);
  assert.equal(result.type, "invalid_request_error");
  assert.equal(result.code, "content_filter");
  assert.equal(result.param, "messages");
  assert.match(result.message, /SAFETY/);
});

Deno.test("fromGeminiResponse() answers 502 for a body that is not a response", async (t) => {
  for (
    const [name, body] of [
      ["null", null],
      ["string", "oops"],
      ["no candidates, no block reason", { usageMetadata: USAGE }],
      ["candidates not an array", { candidates: {} }],
      ["functionCall without name", response([{ functionCall: { args: {} } }])],
    ] as const
  ) {
    await t.step(name, () => {
      const result = fromGeminiResponse(body, CTX);
      assert.ok(result instanceof GatewayError);
      assert.equal(result.status, 502);
      assert.equal(result.code, "upstream_error");
    });
  }
});
