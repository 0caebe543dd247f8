import assert from "node:assert/strict";
import {
  fromGeminiFinishReason,
  fromGeminiUsage,
} from "../../../src/providers/gemini/finish_reason.ts";

Deno.test("fromGeminiFinishReason() maps every documented reason", async (t) => {
  const cases: ReadonlyArray<readonly [string | null | undefined, boolean, string]> = [
    ["STOP", false, "stop"],
    ["STOP", true, "tool_calls"],
    [undefined, false, "stop"],
    [null, true, "tool_calls"],
    ["MAX_TOKENS", false, "length"],
    ["MAX_TOKENS", true, "length"],
    ["SAFETY", false, "content_filter"],
    ["RECITATION", false, "content_filter"],
    ["BLOCKLIST", false, "content_filter"],
    ["PROHIBITED_CONTENT", false, "content_filter"],
    ["SPII", false, "content_filter"],
    ["IMAGE_SAFETY", false, "content_filter"],
    ["IMAGE_PROHIBITED_CONTENT", false, "content_filter"],
    ["IMAGE_RECITATION", false, "content_filter"],
    ["SAFETY", true, "content_filter"],
    ["LANGUAGE", false, "stop"],
    ["OTHER", false, "stop"],
    ["FINISH_REASON_UNSPECIFIED", false, "stop"],
    ["MALFORMED_FUNCTION_CALL", false, "stop"],
    ["UNEXPECTED_TOOL_CALL", false, "stop"],
    ["TOO_MANY_TOOL_CALLS", true, "stop"],
    ["SOMETHING_NEW", false, "stop"],
  ];
  for (const [reason, sawCall, expected] of cases) {
    await t.step(`${reason} (call: ${sawCall})`, () => {
      assert.equal(fromGeminiFinishReason(reason, sawCall), expected);
    });
  }
});

Deno.test("fromGeminiUsage() counts thoughts as completion tokens shown as reasoning", () => {
  assert.deepEqual(
    fromGeminiUsage({
      promptTokenCount: 10,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 20,
      totalTokenCount: 35,
    }),
    {
      prompt_tokens: 10,
      completion_tokens: 25,
      total_tokens: 35,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 20 },
    },
  );
});

Deno.test("fromGeminiUsage() shows cached content tokens as cached prompt tokens", () => {
  const usage = fromGeminiUsage({
    promptTokenCount: 1000,
    candidatesTokenCount: 10,
    cachedContentTokenCount: 800,
    totalTokenCount: 1010,
  });
  assert.equal(usage.prompt_tokens, 1000);
  assert.equal(usage.prompt_tokens_details.cached_tokens, 800);
  assert.equal(usage.total_tokens, 1010);
});

Deno.test("fromGeminiUsage() totals add up when candidatesTokenCount is missing", () => {
  const usage = fromGeminiUsage({ promptTokenCount: 7, totalTokenCount: 7 });
  assert.deepEqual(
    [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens],
    [7, 0, 7],
  );
});

Deno.test("fromGeminiUsage() counts tool-use prompt tokens as prompt tokens", () => {
  const usage = fromGeminiUsage({
    promptTokenCount: 10,
    toolUsePromptTokenCount: 4,
    candidatesTokenCount: 6,
    totalTokenCount: 20,
  });
  assert.equal(usage.prompt_tokens, 14);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.equal(usage.total_tokens, 20);
});

Deno.test("fromGeminiUsage() falls back to totalTokenCount when nothing else is known", () => {
  assert.equal(fromGeminiUsage({ totalTokenCount: 9 }).total_tokens, 9);
  assert.equal(fromGeminiUsage({}).total_tokens, 0);
});
