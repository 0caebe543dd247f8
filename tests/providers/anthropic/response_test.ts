import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import type { TranslationContext } from "../../../src/providers/mod.ts";
import { fromAnthropicResponse } from "../../../src/providers/anthropic/response.ts";

type Json = Record<string, unknown>;

const CTX: TranslationContext = {
  id: "chatcmpl-gw-7f3a",
  created: 1767225600,
  model: "anthropic/claude-sonnet-4-5",
};

/** A Messages API response as Anthropic sends it (FACTS.md §3.2). */
function message(overrides: Json = {}): Json {
  return {
    id: "msg_01XFDUDYJgAACzvnptvVoYEL",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text: "Hello! How can I help you today?" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: 12,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 10,
      service_tier: "standard",
    },
    ...overrides,
  };
}

function translate(body: unknown): Json {
  const result = fromAnthropicResponse(body, CTX);
  if (result instanceof GatewayError) assert.fail(`unexpected error: ${result.message}`);
  return result as Json;
}

function choice(result: Json): Json {
  return (result.choices as Json[])[0] ?? assert.fail("no choice");
}

Deno.test("fromAnthropicResponse() translates a text reply into a chat.completion", () => {
  assert.deepEqual(translate(message()), {
    id: "chatcmpl-gw-7f3a",
    object: "chat.completion",
    created: 1767225600,
    model: "anthropic/claude-sonnet-4-5",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: {
      prompt_tokens: 12,
      completion_tokens: 10,
      total_tokens: 22,
      prompt_tokens_details: { cached_tokens: 0 },
    },
  });
});

Deno.test("fromAnthropicResponse() concatenates text blocks and skips thinking and unknown blocks", () => {
  const result = translate(message({
    content: [
      { type: "thinking", thinking: "The user greets me.", signature: "EqQBCgIYAhIM" },
      { type: "text", text: "Hello" },
      { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" },
      { type: "text", text: ", world" },
    ],
  }));
  assert.equal((choice(result).message as Json).content, "Hello, world");
});

Deno.test("fromAnthropicResponse() turns tool_use blocks into tool_calls, ids kept", () => {
  const result = translate(message({
    content: [
      { type: "text", text: "I'll check both cities." },
      {
        type: "tool_use",
        id: "toolu_01A09q90qw90lq917835lq9",
        name: "get_weather",
        input: { city: "Paris", unit: "celsius" },
      },
      { type: "tool_use", id: "toolu_01B", name: "get_time", input: {} },
    ],
    stop_reason: "tool_use",
  }));
  assert.deepEqual(choice(result), {
    index: 0,
    message: {
      role: "assistant",
      content: "I'll check both cities.",
      refusal: null,
      tool_calls: [
        {
          id: "toolu_01A09q90qw90lq917835lq9",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
        },
        {
          id: "toolu_01B",
          type: "function",
          function: { name: "get_time", arguments: "{}" },
        },
      ],
    },
    logprobs: null,
    finish_reason: "tool_calls",
  });
});

Deno.test("fromAnthropicResponse() gives null content for a tool-only reply", () => {
  const result = translate(message({
    content: [{ type: "tool_use", id: "toolu_1", name: "f", input: { a: 1 } }],
    stop_reason: "tool_use",
  }));
  assert.equal((choice(result).message as Json).content, null);
});

Deno.test("fromAnthropicResponse() gives empty content for an empty reply", () => {
  const result = translate(message({ content: [] }));
  assert.equal((choice(result).message as Json).content, "");
  assert.equal("tool_calls" in (choice(result).message as Json), false);
});

Deno.test("fromAnthropicResponse() maps stop_reason to finish_reason", async (t) => {
  const cases: [string | null, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["model_context_window_exceeded", "length"],
    [null, "stop"],
  ];
  for (const [reason, finish] of cases) {
    await t.step(String(reason), () => {
      assert.equal(choice(translate(message({ stop_reason: reason }))).finish_reason, finish);
    });
  }
});

Deno.test("fromAnthropicResponse() counts cache tokens in prompt_tokens, reads and writes apart", () => {
  const result = translate(message({
    usage: {
      input_tokens: 50,
      cache_creation_input_tokens: 200,
      cache_read_input_tokens: 1800,
      output_tokens: 120,
    },
  }));
  assert.deepEqual(result.usage, {
    prompt_tokens: 2050,
    completion_tokens: 120,
    total_tokens: 2170,
    prompt_tokens_details: { cached_tokens: 1800, cache_write_tokens: 200 },
  });
});

Deno.test("fromAnthropicResponse() takes identity from the context, not from Anthropic", () => {
  const result = translate(message());
  assert.equal(result.id, CTX.id);
  assert.equal(result.created, CTX.created);
  assert.equal(result.model, CTX.model);
  assert.equal(result.object, "chat.completion");
});

Deno.test("fromAnthropicResponse() answers 502 for a body that is not a Message", async (t) => {
  const cases: [string, unknown][] = [
    ["null", null],
    ["a string", "Internal Server Error"],
    ["an OpenAI completion", { object: "chat.completion", choices: [] }],
    ["an error body", { type: "error", error: { type: "api_error", message: "x" } }],
    ["missing usage", { ...message(), usage: undefined }],
    ["tool_use without input", message({ content: [{ type: "tool_use", id: "t", name: "f" }] })],
    ["text block without text", message({ content: [{ type: "text" }] })],
  ];
  for (const [name, body] of cases) {
    await t.step(name, () => {
      const result = fromAnthropicResponse(body, CTX);
      assert.ok(result instanceof GatewayError);
      assert.equal(result.status, 502);
      assert.equal(result.code, "upstream_error");
    });
  }
});
