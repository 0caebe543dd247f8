import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import {
  type MessagesContext,
  type MessagesResponse,
  toMessagesResponse,
} from "../../../src/dialects/messages/response.ts";
import { sdkClient } from "./_sdk.ts";

type Json = Record<string, unknown>;

const CTX: MessagesContext = { id: "msg_01abc", model: "smart" };

function completion(message: Json, finish: string | null = "stop", extra: Json = {}): Json {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-2024-08-06",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 },
    ...extra,
  };
}

function answer(body: Json, ctx: MessagesContext = CTX): MessagesResponse {
  const out = toMessagesResponse(body, ctx);
  if (out instanceof GatewayError) assert.fail(`unexpected error: ${out.message}`);
  return out;
}

const CALL = {
  id: "call_abc",
  type: "function",
  function: { name: "get_weather", arguments: '{"city":"Paris"}' },
};

Deno.test("toMessagesResponse() gives a text answer in Messages' shape", () => {
  assert.deepEqual(answer(completion({ content: "Hello!" })), {
    id: "msg_01abc",
    type: "message",
    role: "assistant",
    model: "smart",
    content: [{ type: "text", text: "Hello!" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: 20,
      output_tokens: 7,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  });
});

Deno.test("toMessagesResponse() builds content blocks", async (t) => {
  const cases: [string, Json, unknown[]][] = [
    ["reasoning_content becomes a thinking block first", {
      content: "42",
      reasoning_content: "Let me think",
    }, [{ type: "thinking", thinking: "Let me think", signature: "" }, {
      type: "text",
      text: "42",
    }]],
    ["reasoning (OpenRouter, vLLM) too", { content: "42", reasoning: "Hmm" }, [
      { type: "thinking", thinking: "Hmm", signature: "" },
      { type: "text", text: "42" },
    ]],
    ["tool calls become tool_use blocks with parsed input", {
      content: "Checking",
      tool_calls: [CALL, { ...CALL, id: "call_def", function: { name: "time", arguments: "" } }],
    }, [
      { type: "text", text: "Checking" },
      { type: "tool_use", id: "call_abc", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_def", name: "time", input: {} },
    ]],
    ["null content and a tool call: no text block", { content: null, tool_calls: [CALL] }, [
      { type: "tool_use", id: "call_abc", name: "get_weather", input: { city: "Paris" } },
    ]],
    ["empty content: no block", { content: "" }, []],
    ["a refusal is text", { content: null, refusal: "I can't help with that" }, [
      { type: "text", text: "I can't help with that" },
    ]],
    ["content given as text parts", {
      content: [{ type: "text", text: "a" }, { type: "text", text: "b" }],
    }, [
      { type: "text", text: "ab" },
    ]],
  ];
  for (const [name, message, content] of cases) {
    await t.step(name, () => assert.deepEqual(answer(completion(message)).content, content));
  }
});

Deno.test("toMessagesResponse() maps finish_reason to stop_reason", async (t) => {
  const cases: [string, Json, string | null, string, string | null, MessagesContext?][] = [
    ["stop", { content: "a" }, "stop", "end_turn", null],
    ["no finish reason", { content: "a" }, null, "end_turn", null],
    ["length", { content: "a" }, "length", "max_tokens", null],
    ["tool_calls", { content: null, tool_calls: [CALL] }, "tool_calls", "tool_use", null],
    [
      "stop with tool calls (some servers)",
      { content: null, tool_calls: [CALL] },
      "stop",
      "tool_use",
      null,
    ],
    ["content_filter", { content: "" }, "content_filter", "refusal", null],
    ["a refusal", { content: null, refusal: "No" }, "stop", "refusal", null],
    [
      "stop, text ending with a requested stop sequence",
      { content: "one two END" },
      "stop",
      "stop_sequence",
      "END",
      {
        ...CTX,
        stopSequences: ["STOP", "END"],
      },
    ],
    [
      "stop, the sequence not in the text: end_turn (OpenAI does not say)",
      { content: "one two" },
      "stop",
      "end_turn",
      null,
      {
        ...CTX,
        stopSequences: ["END"],
      },
    ],
  ];
  for (const [name, message, finish, stopReason, stopSequence, ctx] of cases) {
    await t.step(name, () => {
      const out = answer(completion(message, finish), ctx);
      assert.equal(out.stop_reason, stopReason);
      assert.equal(out.stop_sequence, stopSequence);
    });
  }
  await t.step("vLLM's stop_reason names the sequence", () => {
    const body = completion({ content: "one two" });
    const [choice] = body.choices as Json[];
    if (choice !== undefined) choice.stop_reason = "END";
    const out = answer(body, { ...CTX, stopSequences: ["END"] });
    assert.equal(out.stop_reason, "stop_sequence");
    assert.equal(out.stop_sequence, "END");
  });
});

Deno.test("toMessagesResponse() maps usage, cache reads apart", async (t) => {
  await t.step("cached tokens are cache_read_input_tokens, not input_tokens", () => {
    const body = completion({ content: "a" }, "stop", {
      usage: {
        prompt_tokens: 100,
        completion_tokens: 9,
        total_tokens: 109,
        prompt_tokens_details: { cached_tokens: 64 },
      },
    });
    assert.deepEqual(answer(body).usage, {
      input_tokens: 36,
      output_tokens: 9,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 64,
    });
  });
  await t.step(
    "cache writes (OpenRouter's cache_write_tokens) are cache_creation_input_tokens",
    () => {
      const body = completion({ content: "a" }, "stop", {
        usage: {
          prompt_tokens: 100,
          completion_tokens: 9,
          total_tokens: 109,
          prompt_tokens_details: { cached_tokens: 64, cache_write_tokens: 30 },
        },
      });
      assert.deepEqual(answer(body).usage, {
        input_tokens: 6,
        output_tokens: 9,
        cache_creation_input_tokens: 30,
        cache_read_input_tokens: 64,
      });
    },
  );
  await t.step("no usage is zeros (clients break on a missing usage)", () => {
    const body = completion({ content: "a" }, "stop", { usage: undefined });
    assert.deepEqual(answer(body).usage, {
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });
});

Deno.test("toMessagesResponse() fails clearly on what cannot be an answer", async (t) => {
  const cases: [string, Json, RegExp][] = [
    ["no choices", { object: "chat.completion", choices: [] }, /without a message/],
    [
      "arguments that are not JSON",
      completion({
        content: null,
        tool_calls: [{ ...CALL, function: { name: "f", arguments: '{"a":' } }],
      }, "tool_calls"),
      /call_abc.*not a JSON object/,
    ],
    [
      "arguments that are a JSON array",
      completion({
        content: null,
        tool_calls: [{ ...CALL, function: { name: "f", arguments: "[1]" } }],
      }, "tool_calls"),
      /not a JSON object/,
    ],
    [
      "a tool call without a name",
      completion({
        content: null,
        tool_calls: [{ id: "c", type: "function", function: { arguments: "{}" } }],
      }, "tool_calls"),
      /without a function name/,
    ],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, () => {
      const out = toMessagesResponse(body, CTX);
      assert.ok(out instanceof GatewayError);
      assert.equal(out.status, 502);
      assert.equal(out.code, "upstream_error");
      assert.match(out.message, message);
    });
  }
  await t.step("arguments cut by the token limit keep input {}", () => {
    const out = answer(completion({
      content: null,
      tool_calls: [{ ...CALL, function: { name: "f", arguments: '{"a":' } }],
    }, "length"));
    assert.deepEqual(out.content, [{ type: "tool_use", id: "call_abc", name: "f", input: {} }]);
    assert.equal(out.stop_reason, "max_tokens");
  });
  await t.step("a tool call without an id gets one", () => {
    const out = answer(completion({
      content: null,
      tool_calls: [{ type: "function", function: { name: "f", arguments: "{}" } }],
    }, "tool_calls"));
    assert.deepEqual(out.content, [{
      type: "tool_use",
      id: "toolu_01abc_0",
      name: "f",
      input: {},
    }]);
  });
});

Deno.test("toMessagesResponse() is read by @anthropic-ai/sdk as a Message", async () => {
  const body = answer(completion({
    content: "Checking",
    reasoning_content: "Think",
    tool_calls: [CALL],
  }, "tool_calls"));
  const client = sdkClient(() => Response.json(body));
  const message = await client.messages.create({
    model: "smart",
    max_tokens: 10,
    messages: [{ role: "user", content: "Weather?" }],
  });
  assert.deepEqual(message.content, [
    { type: "thinking", thinking: "Think", signature: "" },
    { type: "text", text: "Checking" },
    { type: "tool_use", id: "call_abc", name: "get_weather", input: { city: "Paris" } },
  ]);
  assert.equal(message.stop_reason, "tool_use");
  assert.equal(message.usage.input_tokens, 20);
});
