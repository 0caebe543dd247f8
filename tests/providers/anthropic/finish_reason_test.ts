import assert from "node:assert/strict";
import { fromAnthropicStopReason } from "../../../src/providers/anthropic/finish_reason.ts";
import { fromAnthropicUsage } from "../../../src/providers/anthropic/usage.ts";

Deno.test("fromAnthropicStopReason() maps every Anthropic stop reason", async (t) => {
  const cases: [string | null | undefined, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    [null, "stop"],
    [undefined, "stop"],
    ["some_future_reason", "stop"],
    ["toString", "stop"],
  ];
  for (const [reason, finish] of cases) {
    await t.step(String(reason), () => {
      assert.equal(fromAnthropicStopReason(reason), finish);
    });
  }
});

Deno.test("fromAnthropicUsage() adds cache reads and writes to prompt_tokens", async (t) => {
  const cases: [string, Parameters<typeof fromAnthropicUsage>[0], unknown][] = [
    ["no cache fields", { input_tokens: 25, output_tokens: 7 }, {
      prompt_tokens: 25,
      completion_tokens: 7,
      total_tokens: 32,
      prompt_tokens_details: { cached_tokens: 0 },
    }],
    [
      "cache read and creation",
      {
        input_tokens: 3,
        output_tokens: 40,
        cache_creation_input_tokens: 1000,
        cache_read_input_tokens: 2000,
      },
      {
        prompt_tokens: 3003,
        completion_tokens: 40,
        total_tokens: 3043,
        prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 1000 },
      },
    ],
    [
      "null cache fields",
      {
        input_tokens: 10,
        output_tokens: 1,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
      },
      {
        prompt_tokens: 10,
        completion_tokens: 1,
        total_tokens: 11,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    ],
  ];
  for (const [name, usage, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(fromAnthropicUsage(usage), expected);
    });
  }
});
