import assert from "node:assert/strict";
import { choiceFinishReasons, scanFinishReason } from "../../src/openai/finish_reasons.ts";

Deno.test("choiceFinishReasons() lists the reason of each choice that has one", async (t) => {
  const cases: [string, unknown, string[] | undefined][] = [
    ["one choice", [{ index: 0, finish_reason: "stop" }], ["stop"]],
    ["two choices, in order", [
      { index: 0, finish_reason: "length" },
      { index: 1, finish_reason: "tool_calls" },
    ], ["length", "tool_calls"]],
    ["a choice still running", [{ index: 0, finish_reason: null }], undefined],
    ["one finished, one not", [{ finish_reason: null }, { finish_reason: "stop" }], ["stop"]],
    ["no choices (a usage chunk)", [], undefined],
    ["not a list", { finish_reason: "stop" }, undefined],
    ["choices that are not objects", ["stop", null], undefined],
    ["a reason that is not a string", [{ finish_reason: 1 }], undefined],
  ];
  for (const [name, choices, expected] of cases) {
    await t.step(name, () => assert.deepEqual(choiceFinishReasons(choices), expected));
  }
});

Deno.test("scanFinishReason() reads a chunk's reason from its text", async (t) => {
  const cases: [string, string, string | undefined][] = [
    [
      "OpenAI's compact JSON",
      '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
      "stop",
    ],
    ["spaces around the colon", '{"choices":[{"finish_reason" :\n "length"}]}', "length"],
    ["null", '{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}', undefined],
    ["no key", '{"choices":[{"index":0,"delta":{"content":"Hi"}}]}', undefined],
    [
      "the words inside content are not the key",
      '{"choices":[{"delta":{"content":"\\"finish_reason\\":\\"stop\\""},"finish_reason":null}]}',
      undefined,
    ],
    [
      "a string that reads finish_reason is not the key",
      '{"choices":[{"delta":{"content":"finish_reason"},"finish_reason":"length"}]}',
      "length",
    ],
    [
      "vLLM's stop_reason is another key",
      '{"choices":[{"delta":{},"stop_reason":"</s>","finish_reason":"stop"}]}',
      "stop",
    ],
    ["only vLLM's stop_reason", '{"choices":[{"delta":{},"stop_reason":"x"}]}', undefined],
    ["an unterminated value", '{"choices":[{"finish_reason":"sto', undefined],
    ["a value with escapes", '{"choices":[{"finish_reason":"a\\"b"}]}', undefined],
    [
      "the first of several",
      '{"choices":[{"finish_reason":"stop"},{"finish_reason":"length"}]}',
      "stop",
    ],
  ];
  for (const [name, json, expected] of cases) {
    await t.step(name, () => assert.equal(scanFinishReason(json), expected));
  }
});
