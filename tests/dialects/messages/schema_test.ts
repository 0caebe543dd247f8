import assert from "node:assert/strict";
import fc from "fast-check";
import { GatewayError } from "../../../src/errors.ts";
import {
  type MessagesRequest,
  parseMessagesCountTokensRequest,
  parseMessagesRequest,
} from "../../../src/dialects/messages/schema.ts";
import { captureSdkRequest } from "./_sdk.ts";

type Json = Record<string, unknown>;

function base(extra: Json = {}): Json {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [{ role: "user", content: "Hello" }],
    ...extra,
  };
}

function accepted(body: unknown): MessagesRequest {
  const result = parseMessagesRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function rejected(body: unknown): GatewayError {
  const result = parseMessagesRequest(body);
  assert.ok(!result.ok, "expected a 400");
  return result.error;
}

const PNG = "iVBORw0KGgo=";

Deno.test("parseMessagesRequest() accepts what clients send, unknown fields kept", async (t) => {
  const cases: [string, Json][] = [
    ["a minimal request", base()],
    ["system as a string", base({ system: "Be brief." })],
    [
      "system as text blocks with cache_control",
      base({
        system: [{ type: "text", text: "A", cache_control: { type: "ephemeral" } }],
      }),
    ],
    [
      "role system inside messages (Claude Code)",
      base({
        messages: [{ role: "system", content: "Rules" }, { role: "user", content: "Hi" }],
      }),
    ],
    [
      "every content block",
      base({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Look" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
              { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
              {
                type: "document",
                source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
                title: "Spec",
                citations: { enabled: true },
              },
              { type: "document", source: { type: "text", media_type: "text/plain", data: "x" } },
              { type: "document", source: { type: "url", url: "https://example.com/a.pdf" } },
              {
                type: "document",
                source: { type: "content", content: [{ type: "text", text: "y" }] },
              },
              {
                type: "search_result",
                source: "s",
                title: "t",
                content: [{ type: "text", text: "z" }],
              },
            ],
          },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "Hmm", signature: "sig" },
              { type: "redacted_thinking", data: "opaque" },
              { type: "text", text: "Calling" },
              { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
            ],
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: "Sunny", is_error: false },
              {
                type: "tool_result",
                tool_use_id: "toolu_2",
                content: [{ type: "text", text: "a" }, {
                  type: "tool_reference",
                  tool_name: "Bash",
                }],
              },
            ],
          },
        ],
      }),
    ],
    [
      "custom, deferred and server tools",
      base({
        tools: [
          { name: "a", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } },
          { type: "custom", name: "b", input_schema: { type: "object" }, defer_loading: true },
          { type: "web_search_20250305", name: "web_search", max_uses: 3 },
          { type: "bash_20250124", name: "bash" },
        ],
        tool_choice: { type: "auto", disable_parallel_tool_use: true },
      }),
    ],
    ["every tool_choice", base({ tool_choice: { type: "tool", name: "a" } })],
    ["tool_choice none", base({ tool_choice: { type: "none" } })],
    ["thinking enabled", base({ thinking: { type: "enabled", budget_tokens: 2048 } })],
    ["thinking adaptive", base({ thinking: { type: "adaptive" } })],
    ["thinking of a type not known yet", base({ thinking: { type: "between_tools" } })],
    [
      "sampling, stops, metadata, stream",
      base({
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ["END"],
        metadata: { user_id: "u-1" },
        stream: true,
      }),
    ],
    [
      "a block type not known yet",
      base({
        messages: [{ role: "user", content: [{ type: "future_block", x: 1 }] }],
      }),
    ],
    ["an unknown top-level field", base({ context_management: { edits: [] }, speed: "fast" })],
  ];
  for (const [name, body] of cases) {
    await t.step(name, () => assert.deepEqual(accepted(body), body));
  }
});

Deno.test("parseMessagesRequest() names the bad field", async (t) => {
  const cases: [string, unknown, string][] = [
    ["no model", { max_tokens: 1, messages: [{ role: "user", content: "x" }] }, "model"],
    ["no max_tokens", { model: "m", messages: [{ role: "user", content: "x" }] }, "max_tokens"],
    ["max_tokens 0", base({ max_tokens: 0 }), "max_tokens"],
    ["no messages", { model: "m", max_tokens: 1 }, "messages"],
    ["empty messages", base({ messages: [] }), "messages"],
    ["a bad role", base({ messages: [{ role: "tool", content: "x" }] }), "messages[0].role"],
    ["no content", base({ messages: [{ role: "user" }] }), "messages[0].content"],
    [
      "a text block without text",
      base({
        messages: [{ role: "user", content: [{ type: "text" }] }],
      }),
      "messages[0].content[0].text",
    ],
    [
      "a base64 image without data",
      base({
        messages: [{
          role: "user",
          content: [{ type: "image", source: { type: "base64", media_type: "image/png" } }],
        }],
      }),
      "messages[0].content[0].source.data",
    ],
    [
      "a tool_use without id",
      base({
        messages: [{ role: "assistant", content: [{ type: "tool_use", name: "f", input: {} }] }],
      }),
      "messages[0].content[0].id",
    ],
    [
      "a tool_result without tool_use_id",
      base({
        messages: [{ role: "user", content: [{ type: "tool_result", content: "x" }] }],
      }),
      "messages[0].content[0].tool_use_id",
    ],
    [
      "a custom tool without input_schema",
      base({ tools: [{ name: "f" }] }),
      "tools[0].input_schema",
    ],
    ["a custom tool without name", base({ tools: [{ input_schema: {} }] }), "tools[0].name"],
    ["tool_choice of unknown type", base({ tool_choice: { type: "some" } }), "tool_choice.type"],
    ["tool_choice tool without name", base({ tool_choice: { type: "tool" } }), "tool_choice.name"],
    [
      "thinking enabled without budget",
      base({ thinking: { type: "enabled" } }),
      "thinking.budget_tokens",
    ],
    ["temperature above 1", base({ temperature: 1.5 }), "temperature"],
    ["stop_sequences not a list", base({ stop_sequences: "END" }), "stop_sequences"],
    ["system of image blocks", base({ system: [{ type: "image" }] }), "system"],
  ];
  for (const [name, body, param] of cases) {
    await t.step(name, () => {
      const error = rejected(body);
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_request");
      assert.equal(error.param, param);
      assert.match(error.message, new RegExp(`'${param.replace(/[[\].]/g, "\\$&")}'`));
    });
  }
  await t.step("not an object", () => assert.equal(rejected("hi").param, null));
});

Deno.test("parseMessagesCountTokensRequest() needs no max_tokens", () => {
  const result = parseMessagesCountTokensRequest({
    model: "m",
    messages: [{ role: "user", content: "x" }],
  });
  assert.ok(result.ok);
});

Deno.test("parseMessagesRequest() accepts the request @anthropic-ai/sdk builds", async () => {
  const body = await captureSdkRequest((client) =>
    client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 256,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { c: "P" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "Sunny" }],
        },
      ],
      tools: [{ name: "get_weather", input_schema: { type: "object", properties: {} } }],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      thinking: { type: "enabled", budget_tokens: 1024 },
      metadata: { user_id: "u-1" },
      stop_sequences: ["END"],
    })
  );
  assert.deepEqual(accepted(body), body);
});

Deno.test("parseMessagesRequest() returns a request or a 400 for any input, never throws", () => {
  const block = fc.oneof(
    fc.record({ type: fc.constantFrom("text", "image", "tool_use", "tool_result", "x") }),
    fc.record({ type: fc.constant("text"), text: fc.oneof(fc.string(), fc.integer()) }),
    fc.anything(),
  );
  const message = fc.record({
    role: fc.oneof(fc.constantFrom("user", "assistant", "system"), fc.string()),
    content: fc.oneof(fc.string(), fc.array(block, { maxLength: 3 }), fc.anything()),
  }, { requiredKeys: [] });
  const body = fc.oneof(
    fc.anything(),
    fc.record({
      model: fc.oneof(fc.string(), fc.anything()),
      max_tokens: fc.oneof(fc.integer(), fc.anything()),
      messages: fc.oneof(fc.array(message, { maxLength: 3 }), fc.anything()),
      system: fc.anything(),
      tools: fc.anything(),
      tool_choice: fc.anything(),
      thinking: fc.anything(),
    }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(body, (value) => {
      const result = parseMessagesRequest(value);
      if (!result.ok) assert.ok(result.error instanceof GatewayError);
      else assert.equal(typeof result.request.model, "string");
    }),
    { numRuns: 500 },
  );
});
