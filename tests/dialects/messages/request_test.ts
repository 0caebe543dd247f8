import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { GatewayError } from "../../../src/errors.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
} from "../../../src/openai/schema.ts";
import {
  effortOfBudget,
  estimateInputTokens,
  toChatRequest,
} from "../../../src/dialects/messages/request.ts";
import {
  type MessagesRequest,
  parseMessagesCountTokensRequest,
  parseMessagesRequest,
} from "../../../src/dialects/messages/schema.ts";
import { estimatePromptTokens, estimateTokens } from "../../../src/tokens/mod.ts";

type Json = Record<string, unknown>;

function parsed(extra: Json): MessagesRequest {
  const result = parseMessagesRequest({
    model: "gpt-4o",
    max_tokens: 100,
    messages: [{ role: "user", content: "Hello" }],
    ...extra,
  });
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

/** The translation, checked to be a chat request the gateway itself accepts. */
function translated(extra: Json): { chat: ChatCompletionRequest; adjusted: string[] } {
  const out = toChatRequest(parsed(extra));
  if (out instanceof GatewayError) assert.fail(`unexpected error: ${out.message}`);
  const check = parseChatCompletionRequest(JSON.parse(JSON.stringify(out.chat)));
  assert.ok(check.ok, check.ok ? "" : `not a valid chat request: ${check.error.message}`);
  return out;
}

function chatOf(extra: Json): ChatCompletionRequest {
  return translated(extra).chat;
}

function messagesOf(messages: unknown[], extra: Json = {}): unknown[] {
  return chatOf({ messages, ...extra }).messages;
}

function refused(extra: Json, param: string): GatewayError {
  const out = toChatRequest(parsed(extra));
  assert.ok(out instanceof GatewayError, "expected a 400");
  assert.equal(out.status, 400);
  assert.equal(out.code, "invalid_request");
  assert.equal(out.param, param);
  return out;
}

const PNG = "iVBORw0KGgo=";
const PDF = "JVBERi0xLjQ=";
const user = (content: unknown) => ({ role: "user", content });
const assistant = (content: unknown) => ({ role: "assistant", content });
const WEATHER = { name: "get_weather", input_schema: { type: "object", properties: {} } };

Deno.test("toChatRequest() turns system prompts into system messages, in order", async (t) => {
  await t.step("a string", () => {
    assert.deepEqual(messagesOf([user("Hi")], { system: "Be brief." }), [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
  });
  await t.step("text blocks, joined by a blank line", () => {
    const system = [
      { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Be careful." },
    ];
    assert.deepEqual(messagesOf([user("Hi")], { system })[0], {
      role: "system",
      content: "You are Claude Code.\n\nBe careful.",
    });
  });
  await t.step("role system entries inside messages stay where they are", () => {
    const messages = [
      user("one"),
      { role: "system", content: [{ type: "text", text: "reminder" }] },
      user("two"),
    ];
    assert.deepEqual(messagesOf(messages, { system: "top" }), [
      { role: "system", content: "top" },
      { role: "user", content: "one" },
      { role: "system", content: "reminder" },
      { role: "user", content: "two" },
    ]);
  });
  await t.step("an image in a system entry is refused", () => {
    refused({
      messages: [{
        role: "system",
        content: [{ type: "image", source: { type: "url", url: "u" } }],
      }],
    }, "messages[0].content[0].type");
  });
});

Deno.test("toChatRequest() translates user content blocks", async (t) => {
  const cases: [string, unknown, unknown][] = [
    ["a string", "Hi", "Hi"],
    ["one text block is a string", [{ type: "text", text: "Hi" }], "Hi"],
    ["several text blocks stay parts", [{ type: "text", text: "a" }, { type: "text", text: "b" }], [
      { type: "text", text: "a" },
      { type: "text", text: "b" },
    ]],
    ["a base64 image is a data URL", [
      { type: "text", text: "What is it?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
    ], [
      { type: "text", text: "What is it?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
    ]],
    ["an image URL is kept", [
      { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
    ], [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }]],
    ["a base64 PDF is a file part, its title a line before", [
      {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: PDF },
        title: "Spec",
        context: "v2",
      },
    ], [
      { type: "text", text: "Spec\nv2" },
      {
        type: "file",
        file: { filename: "document.pdf", file_data: `data:application/pdf;base64,${PDF}` },
      },
    ]],
    ["a plain-text document is text", [
      { type: "document", source: { type: "text", media_type: "text/plain", data: "Body" } },
    ], "Body"],
    ["a content document gives its blocks", [
      {
        type: "document",
        source: {
          type: "content",
          content: [{ type: "text", text: "A" }, {
            type: "image",
            source: { type: "url", url: "https://example.com/b.png" },
          }],
        },
      },
    ], [
      { type: "text", text: "A" },
      { type: "image_url", image_url: { url: "https://example.com/b.png" } },
    ]],
    ["a search result is text", [
      {
        type: "search_result",
        source: "https://example.com",
        title: "Result",
        content: [{ type: "text", text: "one" }, { type: "text", text: "two" }],
      },
    ], "Result\nhttps://example.com\none\ntwo"],
  ];
  for (const [name, content, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(messagesOf([user(content)]), [{ role: "user", content: expected }]);
    });
  }
  await t.step("a document with citations enabled is named in adjusted", () => {
    const { adjusted } = translated({
      messages: [user([{
        type: "document",
        source: { type: "text", media_type: "text/plain", data: "x" },
        citations: { enabled: true },
      }])],
    });
    assert.deepEqual(adjusted, ["messages[0].content[0].citations"]);
  });
});

Deno.test("toChatRequest() refuses what no provider but Anthropic can take", async (t) => {
  const cases: [string, unknown, string][] = [
    [
      "an image file id",
      [{ type: "image", source: { type: "file", file_id: "file_1" } }],
      "messages[0].content[0].source.type",
    ],
    [
      "a document URL",
      [{ type: "document", source: { type: "url", url: "https://x/a.pdf" } }],
      "messages[0].content[0].source.type",
    ],
    ["a base64 document that is not a PDF", [{
      type: "document",
      source: { type: "base64", media_type: "text/csv", data: "YQ==" },
    }], "messages[0].content[0].source.media_type"],
    [
      "a block type the gateway does not know",
      [{ type: "container_upload", file_id: "f" }],
      "messages[0].content[0].type",
    ],
    [
      "a tool_use in a user turn",
      [{ type: "tool_use", id: "t", name: "f", input: {} }],
      "messages[0].content[0].type",
    ],
  ];
  for (const [name, content, param] of cases) {
    await t.step(name, () => void refused({ messages: [user(content)] }, param));
  }
  await t.step("an image in an assistant turn", () => {
    refused({
      messages: [user("a"), assistant([{ type: "image", source: { type: "url", url: "u" } }])],
    }, "messages[1].content[0].type");
  });
  await t.step("a server tool block in an assistant turn", () => {
    refused({
      messages: [user("a"), assistant([{ type: "server_tool_use", id: "s", name: "web_search" }])],
    }, "messages[1].content[0].type");
  });
  await t.step("a server tool", () => {
    const error = refused({
      tools: [WEATHER, { type: "web_search_20250305", name: "web_search" }],
    }, "tools[1]");
    assert.match(error.message, /web_search_20250305/);
  });
  await t.step("mcp_servers", () => {
    refused({ mcp_servers: [{ type: "url", url: "https://mcp", name: "m" }] }, "mcp_servers");
  });
  await t.step("container", () => void refused({ container: "c_1" }, "container"));
});

Deno.test("toChatRequest() turns tool use into tool_calls and tool messages", async (t) => {
  const call = { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } };
  await t.step("assistant text and tool_use; thinking dropped", () => {
    const messages = messagesOf([
      user("Weather?"),
      assistant([
        { type: "thinking", thinking: "Let me look", signature: "sig" },
        { type: "text", text: "Checking" },
        call,
      ]),
    ]);
    assert.deepEqual(messages[1], {
      role: "assistant",
      content: "Checking",
      tool_calls: [{
        id: "toolu_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    });
  });
  await t.step("tool_use alone has null content", () => {
    const messages = messagesOf([user("Weather?"), assistant([call]), user("ok")]);
    assert.deepEqual(messages[1], {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "toolu_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    });
  });
  await t.step("an assistant turn of thinking only is left out", () => {
    const messages = messagesOf([
      user("a"),
      assistant([{ type: "redacted_thinking", data: "x" }]),
      user("b"),
    ]);
    assert.deepEqual(messages, [{ role: "user", content: "a" }, { role: "user", content: "b" }]);
  });
  await t.step("a conversation of thinking only is refused", () => {
    refused({ messages: [assistant([{ type: "thinking", thinking: "" }])] }, "messages");
  });
  await t.step("results become tool messages before the rest of the turn", () => {
    const messages = messagesOf([
      user("Weather?"),
      assistant([call, { ...call, id: "toolu_2", input: { city: "Oslo" } }]),
      user([
        { type: "tool_result", tool_use_id: "toolu_1", content: "Sunny" },
        {
          type: "tool_result",
          tool_use_id: "toolu_2",
          content: [{ type: "text", text: "Rain" }, { type: "text", text: "5 C" }],
        },
        { type: "text", text: "And tomorrow?" },
      ]),
    ]);
    assert.deepEqual(messages.slice(2), [
      { role: "tool", tool_call_id: "toolu_1", content: "Sunny" },
      { role: "tool", tool_call_id: "toolu_2", content: "Rain\n5 C" },
      { role: "user", content: "And tomorrow?" },
    ]);
  });
  const result = (block: Json) =>
    messagesOf([user("q"), assistant([call]), user([block])]).slice(2);
  await t.step("is_error prefixes Error:", () => {
    assert.deepEqual(
      result({
        type: "tool_result",
        tool_use_id: "toolu_1",
        content: "No such city",
        is_error: true,
      }),
      [{ role: "tool", tool_call_id: "toolu_1", content: "Error: No such city" }],
    );
    assert.deepEqual(result({ type: "tool_result", tool_use_id: "toolu_1", is_error: true }), [
      { role: "tool", tool_call_id: "toolu_1", content: "Error" },
    ]);
  });
  await t.step("no content is empty text", () => {
    assert.deepEqual(result({ type: "tool_result", tool_use_id: "toolu_1" }), [
      { role: "tool", tool_call_id: "toolu_1", content: "" },
    ]);
  });
  await t.step("a tool_reference is a line of text", () => {
    assert.deepEqual(
      result({
        type: "tool_result",
        tool_use_id: "toolu_1",
        content: [{ type: "tool_reference", tool_name: "WebFetch" }],
      }),
      [{ role: "tool", tool_call_id: "toolu_1", content: "Tool loaded: WebFetch" }],
    );
  });
  await t.step("a PDF of a result opens the next user message; a text document is text", () => {
    const pdf = {
      type: "document",
      source: { type: "base64", media_type: "application/pdf", data: PDF },
    };
    const textDoc = { type: "document", source: { type: "text", data: "notes" } };
    const messages = messagesOf([
      user("q"),
      assistant([call]),
      user([
        { type: "tool_result", tool_use_id: "toolu_1", content: [textDoc, pdf] },
        { type: "text", text: "Summarise" },
      ]),
    ]);
    assert.deepEqual(messages.slice(2), [
      { role: "tool", tool_call_id: "toolu_1", content: "notes" },
      {
        role: "user",
        content: [
          { type: "text", text: "The result of tool call toolu_1:" },
          {
            type: "file",
            file: { filename: "document.pdf", file_data: `data:application/pdf;base64,${PDF}` },
          },
          { type: "text", text: "Summarise" },
        ],
      },
    ]);
  });
  await t.step("a block only Anthropic knows inside a result is refused", () => {
    refused({
      messages: [
        user("q"),
        assistant([call]),
        user([{
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [{ type: "web_search_result", url: "u" }],
        }]),
      ],
    }, "messages[2].content[0].content[0].type");
  });
  await t.step("images of a result open the next user message", () => {
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } };
    assert.deepEqual(result({ type: "tool_result", tool_use_id: "toolu_1", content: [image] }), [
      {
        role: "tool",
        tool_call_id: "toolu_1",
        content: "The result is attached in the next message.",
      },
      {
        role: "user",
        content: [
          { type: "text", text: "The result of tool call toolu_1:" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
    ]);
  });
});

Deno.test("toChatRequest() translates tools and tool_choice", async (t) => {
  await t.step("a custom tool is a function; defer_loading and cache_control dropped", () => {
    const { chat, adjusted } = translated({
      tools: [{
        ...WEATHER,
        description: "Weather now",
        defer_loading: true,
        cache_control: { type: "ephemeral" },
      }],
    });
    assert.deepEqual(chat.tools, [{
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather now",
        parameters: { type: "object", properties: {} },
      },
    }]);
    assert.deepEqual(adjusted, []);
  });
  await t.step("strict and input_examples are named in adjusted", () => {
    const { adjusted } = translated({
      tools: [{ ...WEATHER, strict: true, input_examples: [{}] }],
    });
    assert.deepEqual(adjusted, ["tools[0].strict", "tools[0].input_examples"]);
  });
  const cases: [string, Json, Json][] = [
    ["auto", { type: "auto" }, { tool_choice: "auto" }],
    ["any", { type: "any" }, { tool_choice: "required" }],
    ["none", { type: "none" }, { tool_choice: "none" }],
    ["tool", { type: "tool", name: "get_weather" }, {
      tool_choice: { type: "function", function: { name: "get_weather" } },
    }],
    ["auto without parallel calls", { type: "auto", disable_parallel_tool_use: true }, {
      tool_choice: "auto",
      parallel_tool_calls: false,
    }],
    ["any without parallel calls", { type: "any", disable_parallel_tool_use: true }, {
      tool_choice: "required",
      parallel_tool_calls: false,
    }],
  ];
  for (const [name, choice, expected] of cases) {
    await t.step(`tool_choice ${name}`, () => {
      const chat = chatOf({ tools: [WEATHER], tool_choice: choice });
      assert.deepEqual({
        tool_choice: chat.tool_choice,
        parallel_tool_calls: chat.parallel_tool_calls,
      }, {
        parallel_tool_calls: undefined,
        ...expected,
      });
    });
  }
  await t.step("no tools: auto is dropped, any is refused", () => {
    const chat = chatOf({ tool_choice: { type: "auto", disable_parallel_tool_use: true } });
    assert.equal("tool_choice" in chat || "parallel_tool_calls" in chat, false);
    refused({ tool_choice: { type: "any" } }, "tool_choice");
  });
  await t.step("a tool_choice naming no tool", () => {
    refused({ tools: [WEATHER], tool_choice: { type: "tool", name: "nope" } }, "tool_choice.name");
  });
});

Deno.test("toChatRequest() maps the generation parameters", async (t) => {
  await t.step("max_tokens, temperature, top_p, top_k, metadata.user_id", () => {
    const chat = chatOf({ temperature: 0.2, top_p: 0.8, top_k: 5, metadata: { user_id: "u-7" } });
    assert.deepEqual(chat, {
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hello" }],
      max_completion_tokens: 100,
      temperature: 0.2,
      top_p: 0.8,
      top_k: 5,
      user: "u-7",
    });
  });
  await t.step("stop_sequences: up to 4 become stop, none is omitted, 5 are refused", () => {
    assert.deepEqual(chatOf({ stop_sequences: ["a", "b", "c", "d"] }).stop, ["a", "b", "c", "d"]);
    assert.equal("stop" in chatOf({ stop_sequences: [] }), false);
    refused({ stop_sequences: ["a", "b", "c", "d", "e"] }, "stop_sequences");
  });
  await t.step("stream asks for usage", () => {
    const chat = chatOf({ stream: true });
    assert.equal(chat.stream, true);
    assert.deepEqual(chat.stream_options, { include_usage: true });
    assert.equal("stream" in chatOf({ stream: false }), false);
  });
  await t.step("a user_id longer than 64 characters (Claude Code's) is its SHA-256 digest", () => {
    const id = JSON.stringify({
      device_id: "d".repeat(64),
      account_uuid: "00000000-0000-4000-8000-000000000000",
      session_id: "11111111-1111-4111-8111-111111111111",
    });
    const digest = createHash("sha256").update(id).digest("hex");
    assert.equal(chatOf({ metadata: { user_id: id } }).user, digest);
    assert.equal(chatOf({ metadata: { user_id: "u".repeat(64) } }).user, "u".repeat(64));
  });
  await t.step("metadata.user_id null is no user", () => {
    assert.equal("user" in chatOf({ metadata: { user_id: null } }), false);
  });
  await t.step("output_config.format and output_format become response_format", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const expected = { type: "json_schema", json_schema: { name: "output", schema } };
    assert.deepEqual(
      chatOf({ output_config: { format: { type: "json_schema", schema } } }).response_format,
      expected,
    );
    assert.deepEqual(
      chatOf({ output_format: { type: "json_schema", schema } }).response_format,
      expected,
    );
  });
  await t.step("context_management and a prefill are named in adjusted", () => {
    const { adjusted } = translated({
      context_management: { edits: [] },
      messages: [user("Hi"), assistant("The answer is")],
    });
    assert.deepEqual(adjusted, ["messages[1]", "context_management"]);
  });
});

Deno.test("toChatRequest() maps thinking and effort to reasoning_effort", async (t) => {
  const cases: [string, Json, string | undefined, string[]][] = [
    ["budget 1024", { thinking: { type: "enabled", budget_tokens: 1024 } }, "low", []],
    ["budget 4000 (think)", { thinking: { type: "enabled", budget_tokens: 4000 } }, "low", []],
    ["budget 8000", { thinking: { type: "enabled", budget_tokens: 8000 } }, "medium", []],
    [
      "budget 10000 (think hard)",
      { thinking: { type: "enabled", budget_tokens: 10000 } },
      "medium",
      [],
    ],
    ["budget 24000", { thinking: { type: "enabled", budget_tokens: 24000 } }, "high", []],
    [
      "budget 31999 (ultrathink)",
      { thinking: { type: "enabled", budget_tokens: 31999 } },
      "high",
      [],
    ],
    ["disabled", { thinking: { type: "disabled" } }, undefined, []],
    ["adaptive", { thinking: { type: "adaptive" } }, undefined, []],
    [
      "effort wins",
      {
        thinking: { type: "enabled", budget_tokens: 31999 },
        output_config: { effort: "low" },
      },
      "low",
      [],
    ],
    ["effort max is high", { output_config: { effort: "max" } }, "high", ["output_config.effort"]],
  ];
  for (const [name, extra, effort, adjusted] of cases) {
    await t.step(name, () => {
      const out = translated(extra);
      assert.equal(out.chat.reasoning_effort, effort);
      assert.deepEqual(out.adjusted, adjusted);
    });
  }
  await t.step("an unknown effort is refused", () => {
    refused({ output_config: { effort: "extreme" } }, "output_config.effort");
  });
  await t.step("effortOfBudget() thresholds", () => {
    assert.deepEqual([7999, 8000, 23999, 24000].map(effortOfBudget), [
      "low",
      "medium",
      "medium",
      "high",
    ]);
  });
});

Deno.test("estimateInputTokens() counts the translated prompt and the tools", async (t) => {
  const request = (extra: Json) => {
    const result = parseMessagesCountTokensRequest({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hello there" }],
      ...extra,
    });
    assert.ok(result.ok);
    return result.request;
  };
  await t.step("messages as estimatePromptTokens counts them", () => {
    assert.equal(
      estimateInputTokens(request({ system: "Be brief." })),
      estimatePromptTokens([
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there" },
      ]),
    );
  });
  await t.step("plus the tools' JSON", () => {
    const withTools = estimateInputTokens(request({ tools: [WEATHER] }));
    const tools = [{
      type: "function",
      function: { name: "get_weather", parameters: WEATHER.input_schema },
    }];
    assert.equal(
      withTools,
      estimatePromptTokens([{ role: "user", content: "Hello there" }]) +
        estimateTokens(JSON.stringify(tools)),
    );
  });
  await t.step("a 400 for what cannot be translated", () => {
    const out = estimateInputTokens(request({ tools: [{ type: "bash_20250124", name: "bash" }] }));
    assert.ok(out instanceof GatewayError);
    assert.equal(out.param, "tools[0]");
  });
});

Deno.test("toChatRequest() gives a valid chat request or a 400 for any valid Messages request", () => {
  const text = fc.record({ type: fc.constant("text"), text: fc.string() });
  const image = fc.record({
    type: fc.constant("image"),
    source: fc.oneof(
      fc.record({
        type: fc.constant("base64"),
        media_type: fc.constant("image/png"),
        data: fc.base64String(),
      }),
      fc.record({ type: fc.constant("url"), url: fc.webUrl() }),
      fc.record({ type: fc.constant("file"), file_id: fc.string() }),
    ),
  });
  const toolUse = fc.record({
    type: fc.constant("tool_use"),
    id: fc.string({ minLength: 1 }),
    name: fc.string({ minLength: 1 }),
    input: fc.dictionary(fc.string(), fc.jsonValue()),
  });
  const toolResult = fc.record({
    type: fc.constant("tool_result"),
    tool_use_id: fc.string({ minLength: 1 }),
    content: fc.option(fc.oneof(fc.string(), fc.array(fc.oneof(text, image), { maxLength: 3 })), {
      nil: undefined,
    }),
    is_error: fc.boolean(),
  }, { requiredKeys: ["type", "tool_use_id"] });
  const thinking = fc.record({ type: fc.constant("thinking"), thinking: fc.string() });
  const content = <T>(block: fc.Arbitrary<T>) =>
    fc.oneof(fc.string(), fc.array(block, { minLength: 1, maxLength: 4 }));
  const message = fc.oneof(
    fc.record({ role: fc.constant("user"), content: content(fc.oneof(text, image, toolResult)) }),
    fc.record({
      role: fc.constant("assistant"),
      content: content(fc.oneof(text, toolUse, thinking)),
    }),
    fc.record({ role: fc.constant("system"), content: content(text) }),
    // Rarely, a block that only Anthropic takes.
    fc.record({ role: fc.constant("user"), content: content(fc.oneof(toolUse, thinking)) }),
  );
  const body = fc.record({
    model: fc.string({ minLength: 1 }),
    max_tokens: fc.integer({ min: 1, max: 100_000 }),
    messages: fc.array(message, { minLength: 1, maxLength: 5 }),
    system: fc.option(fc.oneof(fc.string(), fc.array(text, { maxLength: 2 })), { nil: undefined }),
    stop_sequences: fc.option(fc.array(fc.string(), { maxLength: 4 }), { nil: undefined }),
    tools: fc.option(
      fc.array(
        fc.record({
          name: fc.string({ minLength: 1 }),
          input_schema: fc.constant({ type: "object" }),
        }),
        { maxLength: 2 },
      ),
      { nil: undefined },
    ),
    stream: fc.boolean(),
  }, { requiredKeys: ["model", "max_tokens", "messages"] });
  let translatedCount = 0;
  fc.assert(
    fc.property(body, (value) => {
      const parsedBody = parseMessagesRequest(value);
      assert.ok(parsedBody.ok, parsedBody.ok ? "" : parsedBody.error.message);
      const out = toChatRequest(parsedBody.request);
      if (out instanceof GatewayError) return assert.equal(out.status, 400);
      const check = parseChatCompletionRequest(JSON.parse(JSON.stringify(out.chat)));
      assert.ok(check.ok, check.ok ? "" : check.error.message);
      translatedCount++;
    }),
    { numRuns: 300 },
  );
  // Most generated requests are translatable: the property is not checked on errors alone.
  assert.ok(translatedCount > 150, `only ${translatedCount} of 300 were translated`);
});
