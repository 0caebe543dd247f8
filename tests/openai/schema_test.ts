import assert from "node:assert/strict";
import {
  type ChatCompletionRequest,
  formatParam,
  parseChatCompletionRequest,
} from "../../src/openai/schema.ts";

function accepted(body: unknown): ChatCompletionRequest {
  const result = parseChatCompletionRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function minimal(): Record<string, unknown> {
  return { model: "gpt-4o", messages: [{ role: "user", content: "Hello!" }] };
}

Deno.test("parseChatCompletionRequest() accepts a minimal request", () => {
  assert.deepEqual(accepted(minimal()), minimal());
});

Deno.test("parseChatCompletionRequest() accepts every role and content form", async (t) => {
  const cases: [string, unknown[]][] = [
    ["system, developer, user", [
      { role: "system", content: "Be brief." },
      { role: "developer", content: "Be kind." },
      { role: "user", content: "Hi" },
    ]],
    ["content parts", [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
      ],
    }]],
    ["assistant with tool_calls and null content, then the tool result", [
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_1", content: "18°C" },
    ]],
    ["assistant with tool_calls and no content key", [{
      role: "assistant",
      tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
    }]],
  ];
  for (const [name, messages] of cases) {
    await t.step(name, () => {
      assert.deepEqual(accepted({ model: "gpt-4o", messages }).messages, messages);
    });
  }
});

Deno.test("parseChatCompletionRequest() keeps unknown fields everywhere", () => {
  const body = {
    model: "gpt-4o",
    messages: [
      { role: "system", content: "x", cache_control: { type: "ephemeral" } },
      {
        role: "user",
        content: [
          { type: "text", text: "hi", cache_control: { type: "ephemeral" } },
          { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
        ],
        future_message_field: [1, 2, 3],
      },
    ],
    logit_bias: { "50256": -100 },
    reasoning_effort: "low",
    metadata: { team: "a" },
    brand_new_parameter: { nested: { deep: true } },
    stream_options: { include_usage: true, include_obfuscation: false },
  };
  assert.deepEqual(accepted(structuredClone(body)), body);
});

Deno.test("parseChatCompletionRequest() names the invalid field in param", async (t) => {
  const user = { role: "user", content: "hi" };
  const cases: [string, Record<string, unknown>, string][] = [
    ["model missing", { messages: [user] }, "model"],
    ["model not a string", { model: 4, messages: [user] }, "model"],
    ["model empty", { model: "", messages: [user] }, "model"],
    ["messages missing", { model: "m" }, "messages"],
    ["messages not an array", { model: "m", messages: "hi" }, "messages"],
    ["messages empty", { model: "m", messages: [] }, "messages"],
    [
      "unknown role",
      { model: "m", messages: [{ role: "wizard", content: "x" }] },
      "messages[0].role",
    ],
    ["role missing", { model: "m", messages: [{ content: "x" }] }, "messages[0].role"],
    [
      "user content missing",
      { model: "m", messages: [user, { role: "user" }] },
      "messages[1].content",
    ],
    [
      "user content null",
      { model: "m", messages: [user, { role: "user", content: null }] },
      "messages[1].content",
    ],
    [
      "content empty array",
      { model: "m", messages: [user, { role: "user", content: [] }] },
      "messages[1].content",
    ],
    [
      "content a number",
      { model: "m", messages: [user, { role: "user", content: 42 }] },
      "messages[1].content",
    ],
    [
      "content part without type",
      { model: "m", messages: [user, { role: "user", content: [{ text: "x" }] }] },
      "messages[1].content",
    ],
    [
      "assistant with neither content nor tool_calls",
      { model: "m", messages: [user, { role: "assistant", content: null }] },
      "messages[1].content",
    ],
    [
      "tool message without tool_call_id",
      { model: "m", messages: [{ role: "tool", content: "18°C" }] },
      "messages[0].tool_call_id",
    ],
    ["temperature above 2", { model: "m", messages: [user], temperature: 2.5 }, "temperature"],
    ["temperature negative", { model: "m", messages: [user], temperature: -0.1 }, "temperature"],
    ["temperature a string", { model: "m", messages: [user], temperature: "hot" }, "temperature"],
    ["top_p above 1", { model: "m", messages: [user], top_p: 1.5 }, "top_p"],
    ["n zero", { model: "m", messages: [user], n: 0 }, "n"],
    ["n decimal", { model: "m", messages: [user], n: 1.5 }, "n"],
    ["n above 128", { model: "m", messages: [user], n: 129 }, "n"],
    ["stop a number", { model: "m", messages: [user], stop: 7 }, "stop"],
    ["stop empty array", { model: "m", messages: [user], stop: [] }, "stop"],
    [
      "stop five strings",
      { model: "m", messages: [user], stop: ["a", "b", "c", "d", "e"] },
      "stop",
    ],
    ["max_tokens zero", { model: "m", messages: [user], max_tokens: 0 }, "max_tokens"],
    ["max_tokens decimal", { model: "m", messages: [user], max_tokens: 1.5 }, "max_tokens"],
    ["max_tokens a string", { model: "m", messages: [user], max_tokens: "10" }, "max_tokens"],
    ["stream a string", { model: "m", messages: [user], stream: "yes" }, "stream"],
  ];
  for (const [name, body, param] of cases) {
    await t.step(name, () => {
      const result = parseChatCompletionRequest(body);
      assert.ok(!result.ok, "expected a rejection");
      assert.equal(result.error.status, 400);
      assert.equal(result.error.type, "invalid_request_error");
      assert.equal(result.error.code, "invalid_request");
      assert.equal(result.error.param, param);
      assert.ok(
        result.error.message.startsWith(`Invalid value for '${param}': `),
        result.error.message,
      );
    });
  }
});

Deno.test("parseChatCompletionRequest() accepts null for optional parameters", () => {
  const body = {
    ...minimal(),
    temperature: null,
    top_p: null,
    n: null,
    stop: null,
    max_tokens: null,
    stream: null,
    stream_options: null,
  };
  assert.deepEqual(accepted(body), body);
});

Deno.test("parseChatCompletionRequest() accepts the edges of numeric ranges", async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ["temperature 0", { temperature: 0 }],
    ["temperature 2", { temperature: 2 }],
    ["top_p 0", { top_p: 0 }],
    ["top_p 1", { top_p: 1 }],
    ["n 1", { n: 1 }],
    ["n 128", { n: 128 }],
    ["max_tokens 1", { max_tokens: 1 }],
    ["stop string", { stop: "\n" }],
    ["stop four strings", { stop: ["a", "b", "c", "d"] }],
  ];
  for (const [name, extra] of cases) {
    await t.step(name, () => {
      accepted({ ...minimal(), ...extra });
    });
  }
});

Deno.test("formatParam() writes a zod path as OpenAI's param", async (t) => {
  const cases: [PropertyKey[], string][] = [
    [[], ""],
    [["model"], "model"],
    [["messages", 0], "messages[0]"],
    [["messages", 0, "content"], "messages[0].content"],
    [["messages", 2, "content", 1, "image_url", "url"], "messages[2].content[1].image_url.url"],
    [
      ["messages", 0, "tool_calls", 3, "function", "arguments"],
      "messages[0].tool_calls[3].function.arguments",
    ],
    [["stream_options", "include_usage"], "stream_options.include_usage"],
    [[0, "a"], "[0].a"],
  ];
  for (const [path, expected] of cases) {
    await t.step(expected === "" ? "(empty path)" : expected, () => {
      assert.equal(formatParam(path), expected);
    });
  }
});

Deno.test("parseChatCompletionRequest() rejects a body that is not an object with param null", async (t) => {
  for (const body of [[], null, "hello", 42]) {
    await t.step(JSON.stringify(body), () => {
      const result = parseChatCompletionRequest(body);
      assert.ok(!result.ok, "expected a rejection");
      assert.equal(result.error.status, 400);
      assert.equal(result.error.code, "invalid_request");
      assert.equal(result.error.param, null);
      assert.ok(!result.error.message.includes("''"), result.error.message);
    });
  }
});
