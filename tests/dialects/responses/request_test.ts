import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { GatewayError } from "../../../src/errors.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
} from "../../../src/openai/schema.ts";
import { type ChatRequestSources, toChatRequest } from "../../../src/dialects/responses/request.ts";
import type { ResponseItem } from "../../../src/dialects/responses/items.ts";
import {
  parseResponsesRequest,
  type ResponsesRequest,
} from "../../../src/dialects/responses/schema.ts";
import { toResponsesResponse } from "../../../src/dialects/responses/response.ts";
import { contextFor } from "./_sdk.ts";

type Json = Record<string, unknown>;

function parsed(extra: Json): ResponsesRequest {
  const result = parseResponsesRequest({ model: "claude", input: "Hello", ...extra });
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

/** The translation, checked to be a chat request the gateway itself accepts. */
function translated(
  extra: Json,
  sources?: ChatRequestSources,
): { chat: ChatCompletionRequest; adjusted: string[] } {
  const out = toChatRequest(parsed(extra), sources);
  if (out instanceof GatewayError) assert.fail(`unexpected error: ${out.message}`);
  const check = parseChatCompletionRequest(JSON.parse(JSON.stringify(out.chat)));
  assert.ok(check.ok, check.ok ? "" : `not a valid chat request: ${check.error.message}`);
  return out;
}

function chatOf(extra: Json, sources?: ChatRequestSources): ChatCompletionRequest {
  return translated(extra, sources).chat;
}

function messagesOf(input: unknown, sources?: ChatRequestSources): unknown[] {
  return chatOf({ input }, sources).messages;
}

function refused(extra: Json, param: string, sources?: ChatRequestSources): GatewayError {
  const out = toChatRequest(parsed(extra), sources);
  assert.ok(out instanceof GatewayError, "expected a 400");
  assert.equal(out.status, 400);
  assert.equal(out.code, "invalid_request");
  assert.equal(out.param, param);
  return out;
}

const PNG = "data:image/png;base64,iVBORw0KGgo=";
const PDF = "data:application/pdf;base64,JVBERi0xLjQ=";
const user = (content: unknown) => ({ role: "user", content });
const text = (value: string) => ({ type: "input_text", text: value });
const call = (id: string, name = "f", args = "{}") => ({
  type: "function_call",
  call_id: id,
  name,
  arguments: args,
});
const output = (id: string, value: unknown) => ({
  type: "function_call_output",
  call_id: id,
  output: value,
});
const toolCall = (id: string, name = "f", args = "{}") => ({
  id,
  type: "function",
  function: { name, arguments: args },
});
const WEATHER = { type: "function", name: "weather", parameters: { type: "object" } };

Deno.test("toChatRequest() builds the conversation in order", async (t) => {
  await t.step("a string input is one user message, after the instructions", () => {
    assert.deepEqual(chatOf({ instructions: "Be brief.", input: "Hi" }).messages, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
  });
  await t.step("stored history comes before the input, the instructions first", () => {
    const history = [
      { id: "msg_1", type: "message", role: "user", content: [text("One")], status: "completed" },
      {
        id: "msg_2",
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: "1" }],
      },
    ];
    assert.deepEqual(chatOf({ instructions: "Count.", input: "Two" }, { history }).messages, [
      { role: "system", content: "Count." },
      { role: "user", content: "One" },
      { role: "assistant", content: "1" },
      { role: "user", content: "Two" },
    ]);
  });
  await t.step("a history item that cannot be sent names previous_response_id", () => {
    const history = [{ id: "ws_1", type: "web_search_call" }];
    refused({ input: "Hi" }, "previous_response_id.type", { history });
  });
  await t.step("no input at all is refused", () => {
    refused({ input: [] }, "input");
    refused({ input: undefined, instructions: "Only this." }, "input");
    refused({ input: [{ role: "system", content: "Only system." }] }, "input");
  });
});

Deno.test("toChatRequest() translates messages by role", async (t) => {
  const cases: [string, unknown, unknown[]][] = [
    ["a user string", [user("Hi")], [{ role: "user", content: "Hi" }]],
    ["one text part becomes a string", [user([text("Hi")])], [{ role: "user", content: "Hi" }]],
    [
      "text and images stay parts",
      [user([text("Look"), { type: "input_image", image_url: PNG, detail: "high" }])],
      [{
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image_url", image_url: { url: PNG, detail: "high" } },
        ],
      }],
    ],
    [
      "an image detail chat does not know is left out",
      [user([{ type: "input_image", image_url: "https://x/a.png", detail: "original" }])],
      [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/a.png" } }] }],
    ],
    [
      "an inline file",
      [user([{ type: "input_file", file_data: PDF, filename: "a.pdf" }, text("Sum up")])],
      [{
        role: "user",
        content: [
          { type: "file", file: { file_data: PDF, filename: "a.pdf" } },
          { type: "text", text: "Sum up" },
        ],
      }],
    ],
    [
      "system and developer become system, text parts joined",
      [
        { role: "developer", content: [text("A"), text("B")] },
        { role: "system", content: "C" },
        user("x"),
      ],
      [{ role: "system", content: "A\n\nB" }, { role: "system", content: "C" }, {
        role: "user",
        content: "x",
      }],
    ],
    [
      "an assistant output item (replayed), refusal included",
      [{
        type: "message",
        id: "msg_1",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Hi ", annotations: [] }, {
          type: "refusal",
          refusal: "but no.",
        }],
      }],
      [{ role: "assistant", content: "Hi but no." }],
    ],
    ["an empty assistant message is dropped", [user("x"), { role: "assistant", content: "" }], [{
      role: "user",
      content: "x",
    }]],
    [
      "reasoning items are dropped",
      [user("x"), { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAA" }],
      [{ role: "user", content: "x" }],
    ],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.deepEqual(messagesOf(input), expected));
  }
});

Deno.test("toChatRequest() refuses content other providers cannot take", async (t) => {
  const cases: [string, unknown, string][] = [
    [
      "an image by file id",
      [user([{ type: "input_image", file_id: "file_1" }])],
      "input[0].content[0].file_id",
    ],
    [
      "a file by id",
      [user([{ type: "input_file", file_id: "file_1" }])],
      "input[0].content[0].file_id",
    ],
    [
      "a file by URL",
      [user([{ type: "input_file", file_url: "https://x/a.pdf" }])],
      "input[0].content[0].file_url",
    ],
    ["a file with nothing", [user([{ type: "input_file" }])], "input[0].content[0].file_data"],
    [
      "a refusal in a user message",
      [user([{ type: "refusal", refusal: "x" }])],
      "input[0].content[0].type",
    ],
    ["an unknown part type", [user([{ type: "input_audio" }])], "input[0].content[0].type"],
    ["an image in a system message", [{
      role: "system",
      content: [{ type: "input_image", image_url: PNG }],
    }], "input[0].content[0].type"],
    ["an image in an assistant message", [{
      role: "assistant",
      content: [{ type: "input_image", image_url: PNG }],
    }], "input[0].content[0].type"],
    ["a built-in tool's item", [user("x"), { type: "computer_call", id: "cu_1" }], "input[1].type"],
    [
      "a tool output without call_id",
      [output("", "x"), { ...output("c", "x"), call_id: null }],
      "input[1].call_id",
    ],
  ];
  for (const [name, input, param] of cases) {
    await t.step(name, () => void refused({ input }, param));
  }
});

Deno.test("toChatRequest() makes calls one assistant turn and outputs tool messages", async (t) => {
  await t.step("text and consecutive calls make one assistant message", () => {
    assert.deepEqual(
      messagesOf([
        user("Weather in Paris and Rome?"),
        { role: "assistant", content: "Checking." },
        { type: "reasoning", id: "rs_1", summary: [] },
        call("call_a", "weather", '{"c":"Paris"}'),
        call("call_b", "weather", '{"c":"Rome"}'),
        output("call_a", "sunny"),
        output("call_b", "rain"),
        user("Thanks"),
      ]),
      [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            toolCall("call_a", "weather", '{"c":"Paris"}'),
            toolCall("call_b", "weather", '{"c":"Rome"}'),
          ],
        },
        { role: "tool", tool_call_id: "call_a", content: "sunny" },
        { role: "tool", tool_call_id: "call_b", content: "rain" },
        { role: "user", content: "Thanks" },
      ],
    );
  });
  await t.step("a call after a user message opens an assistant message", () => {
    assert.deepEqual(messagesOf([user("Go"), call("c1")]).at(-1), {
      role: "assistant",
      content: null,
      tool_calls: [toolCall("c1")],
    });
  });
  await t.step("output parts: text joined, media after the run of tool messages", () => {
    assert.deepEqual(
      messagesOf([
        user("Shots?"),
        call("c1"),
        call("c2"),
        output("c1", [text("line 1"), text("line 2")]),
        output("c2", [{ type: "input_image", image_url: PNG }]),
      ]).slice(2),
      [
        { role: "tool", tool_call_id: "c1", content: "line 1\nline 2" },
        {
          role: "tool",
          tool_call_id: "c2",
          content: "The result is attached in the next message.",
        },
        {
          role: "user",
          content: [
            { type: "text", text: "The result of tool call c2:" },
            { type: "image_url", image_url: { url: PNG } },
          ],
        },
      ],
    );
  });
});

Deno.test("toChatRequest() resolves item references from the items it is given", async (t) => {
  const items = new Map<string, ResponseItem>([
    ["msg_9", {
      id: "msg_9",
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text: "Earlier" }],
    }],
    ["fc_9", { id: "fc_9", type: "function_call", call_id: "call_9", name: "f", arguments: "{}" }],
    ["rs_9", { id: "rs_9", type: "reasoning", summary: [] }],
  ]);
  await t.step("typed and untyped references (Vercel AI SDK)", () => {
    assert.deepEqual(
      messagesOf([
        user("Hi"),
        { type: "item_reference", id: "rs_9" },
        { type: "item_reference", id: "msg_9" },
        { id: "fc_9" },
        output("call_9", "done"),
      ], { items }),
      [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Earlier", tool_calls: [toolCall("call_9")] },
        { role: "tool", tool_call_id: "call_9", content: "done" },
      ],
    );
  });
  await t.step("an unknown id is a 400 naming the item", () => {
    const error = refused(
      { input: [user("Hi"), { type: "item_reference", id: "msg_x" }] },
      "input[1].id",
      { items },
    );
    assert.match(error.message, /no stored item has the id "msg_x"/);
    refused({ input: [{ id: "msg_9" }] }, "input[0].id");
  });
});

Deno.test("toChatRequest() translates tools and tool_choice", async (t) => {
  await t.step("function tools, strict kept, null fields left out", () => {
    const tools = [
      { ...WEATHER, description: "Weather", strict: true },
      { type: "function", name: "clock", parameters: null, description: null, strict: null },
    ];
    assert.deepEqual(chatOf({ tools }).tools, [
      {
        type: "function",
        function: {
          name: "weather",
          description: "Weather",
          parameters: { type: "object" },
          strict: true,
        },
      },
      { type: "function", function: { name: "clock" } },
    ]);
  });
  await t.step("built-in tools are refused, naming the tool", () => {
    const error = refused({ tools: [WEATHER, { type: "web_search" }] }, "tools[1]");
    assert.match(error.message, /"web_search"/);
    for (
      const type of [
        "file_search",
        "computer_use_preview",
        "code_interpreter",
        "mcp",
        "image_generation",
        "local_shell",
        "custom",
      ]
    ) {
      refused({ tools: [{ type, name: "x" }] }, "tools[0]");
    }
  });
  const choices: [string, Json, Json][] = [
    ["auto", { tools: [WEATHER], tool_choice: "auto" }, { tool_choice: "auto" }],
    ["none", { tools: [WEATHER], tool_choice: "none" }, { tool_choice: "none" }],
    ["required", { tools: [WEATHER], tool_choice: "required" }, { tool_choice: "required" }],
    ["a function", { tools: [WEATHER], tool_choice: { type: "function", name: "weather" } }, {
      tool_choice: { type: "function", function: { name: "weather" } },
    }],
    ["auto without tools is dropped", { tool_choice: "auto" }, {}],
    ["none without tools is dropped", { tool_choice: "none" }, {}],
  ];
  for (const [name, request, expected] of choices) {
    await t.step(name, () => {
      const chat = chatOf(request);
      assert.deepEqual(chat.tool_choice, expected.tool_choice);
    });
  }
  await t.step("allowed_tools narrows the tools, mode becomes the choice", () => {
    const chat = chatOf({
      tools: [WEATHER, { type: "function", name: "clock" }],
      tool_choice: {
        type: "allowed_tools",
        mode: "required",
        tools: [{ type: "function", name: "clock" }],
      },
    });
    assert.deepEqual(chat.tools, [{ type: "function", function: { name: "clock" } }]);
    assert.equal(chat.tool_choice, "required");
  });
  await t.step("allowed_tools allowing none leaves no tools (mode auto)", () => {
    const chat = chatOf({
      tools: [WEATHER],
      tool_choice: { type: "allowed_tools", mode: "auto", tools: [] },
    });
    assert.deepEqual([chat.tools, chat.tool_choice], [undefined, undefined]);
  });
  const bad: [string, Json, string][] = [
    [
      "allowed_tools allowing none with mode required",
      { tools: [WEATHER], tool_choice: { type: "allowed_tools", mode: "required", tools: [] } },
      "tool_choice.tools",
    ],
    ["required without tools", { tool_choice: "required" }, "tool_choice"],
    [
      "a function not in tools",
      { tools: [WEATHER], tool_choice: { type: "function", name: "x" } },
      "tool_choice.name",
    ],
    [
      "a built-in tool choice",
      { tools: [WEATHER], tool_choice: { type: "web_search_preview" } },
      "tool_choice.type",
    ],
    [
      "allowed_tools naming a built-in tool",
      {
        tools: [WEATHER],
        tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "mcp" }] },
      },
      "tool_choice.tools[0]",
    ],
    [
      "allowed_tools naming no tool",
      {
        tools: [WEATHER],
        tool_choice: {
          type: "allowed_tools",
          mode: "auto",
          tools: [{ type: "function", name: "y" }],
        },
      },
      "tool_choice.tools[0]",
    ],
  ];
  for (const [name, request, param] of bad) await t.step(name, () => void refused(request, param));
  await t.step("parallel_tool_calls goes with tools only", () => {
    assert.equal(
      chatOf({ tools: [WEATHER], parallel_tool_calls: false }).parallel_tool_calls,
      false,
    );
    assert.equal(chatOf({ parallel_tool_calls: false }).parallel_tool_calls, undefined);
  });
});

/** Codex's sub-agent tools: a namespace of function tools. */
const AGENTS = {
  type: "namespace",
  name: "multi_agent_v1",
  description: "Tools for spawning and managing sub-agents.",
  tools: [
    { type: "function", name: "spawn_agent", description: "Spawn", parameters: { type: "object" } },
    { type: "function", name: "wait", strict: false },
  ],
};

Deno.test("toChatRequest() flattens namespace tools into function tools", async (t) => {
  await t.step("a namespace's functions keep their names when no other tool has them", () => {
    assert.deepEqual(chatOf({ tools: [WEATHER, AGENTS] }).tools, [
      { type: "function", function: { name: "weather", parameters: { type: "object" } } },
      {
        type: "function",
        function: { name: "spawn_agent", description: "Spawn", parameters: { type: "object" } },
      },
      { type: "function", function: { name: "wait", strict: false } },
    ]);
  });
  await t.step("a name another tool has is qualified by the namespace", () => {
    const other = { type: "namespace", name: "jobs", tools: [{ type: "function", name: "wait" }] };
    const wait = { type: "function", name: "wait" };
    const names = chatOf({ tools: [wait, AGENTS, other] }).tools?.map((tool) =>
      (tool as { function: { name: string } }).function.name
    );
    assert.deepEqual(names, ["wait", "spawn_agent", "multi_agent_v1__wait", "jobs__wait"]);
  });
  await t.step("a qualified name that is still taken is a 400 naming the function", () => {
    const taken = { type: "function", name: "multi_agent_v1__wait" };
    const error = refused(
      { tools: [{ type: "function", name: "wait" }, taken, AGENTS] },
      "tools[2].tools[1].name",
    );
    assert.match(error.message, /"multi_agent_v1__wait"/);
  });
  await t.step("a namespace's tool that is not a function is a 400 naming it", () => {
    const tools = [{ ...AGENTS, tools: [...AGENTS.tools, { type: "custom", name: "patch" }] }];
    refused({ tools }, "tools[0].tools[2]");
  });
  await t.step("tool_choice names a namespace's function by its name (and namespace)", () => {
    const tools = [{ type: "function", name: "wait" }, AGENTS];
    assert.deepEqual(
      chatOf({ tools: [AGENTS], tool_choice: { type: "function", name: "wait" } })
        .tool_choice,
      { type: "function", function: { name: "wait" } },
    );
    assert.deepEqual(
      chatOf({
        tools,
        tool_choice: { type: "function", name: "wait", namespace: "multi_agent_v1" },
      }).tool_choice,
      { type: "function", function: { name: "multi_agent_v1__wait" } },
    );
    const chat = chatOf({
      tools,
      tool_choice: {
        type: "allowed_tools",
        mode: "auto",
        tools: [{ type: "function", name: "wait", namespace: "multi_agent_v1" }],
      },
    });
    assert.deepEqual(chat.tools, [{
      type: "function",
      function: { name: "multi_agent_v1__wait", strict: false },
    }]);
  });
  await t.step("a replayed call with a namespace takes its function's chat name", () => {
    const tools = [{ type: "function", name: "wait" }, AGENTS];
    const replayed = (name: string) => ({ ...call("c1", name), namespace: "multi_agent_v1" });
    assert.deepEqual(messagesOfTools([replayed("wait"), output("c1", "done")], tools), [
      { role: "assistant", content: null, tool_calls: [toolCall("c1", "multi_agent_v1__wait")] },
      { role: "tool", tool_call_id: "c1", content: "done" },
    ]);
    assert.deepEqual(messagesOfTools([replayed("spawn_agent"), output("c1", "ok")], tools)[0], {
      role: "assistant",
      content: null,
      tool_calls: [toolCall("c1", "spawn_agent")],
    });
    // A namespace the request no longer declares: the bare name.
    assert.deepEqual(messagesOfTools([replayed("gone"), output("c1", "ok")], tools)[0], {
      role: "assistant",
      content: null,
      tool_calls: [toolCall("c1", "gone")],
    });
  });
  await t.step("an answer's namespaced call continues under the same chat name", () => {
    const tools = [{ type: "function", name: "wait" }, AGENTS];
    const answer = toResponsesResponse({
      object: "chat.completion",
      choices: [{
        index: 0,
        message: { role: "assistant", tool_calls: [toolCall("c9", "multi_agent_v1__wait")] },
        finish_reason: "tool_calls",
      }],
    }, contextFor({ tools }));
    assert.ok(!(answer instanceof GatewayError));
    const messages = messagesOfTools([user("Go"), ...answer.output, output("c9", "ok")], tools);
    assert.deepEqual(messages[1], {
      role: "assistant",
      content: null,
      tool_calls: [toolCall("c9", "multi_agent_v1__wait")],
    });
  });
});

function messagesOfTools(input: unknown[], tools: unknown[]): unknown[] {
  return chatOf({ input, tools }).messages;
}

Deno.test("toChatRequest() maps the other parameters", async (t) => {
  const cases: [string, Json, Json][] = [
    ["max_output_tokens", { max_output_tokens: 64 }, { max_completion_tokens: 64 }],
    ["temperature and top_p", { temperature: 0.3, top_p: 0.8 }, { temperature: 0.3, top_p: 0.8 }],
    ["json_object", { text: { format: { type: "json_object" } } }, {
      response_format: { type: "json_object" },
    }],
    [
      "json_schema",
      {
        text: {
          format: {
            type: "json_schema",
            name: "out",
            schema: { type: "object" },
            strict: true,
            description: "d",
          },
        },
      },
      {
        response_format: {
          type: "json_schema",
          json_schema: { name: "out", schema: { type: "object" }, strict: true, description: "d" },
        },
      },
    ],
    ["text format text sends nothing", { text: { format: { type: "text" } } }, {}],
    ["verbosity", { text: { verbosity: "low" } }, { verbosity: "low" }],
    ["user", { user: "u1", safety_identifier: "s1" }, { user: "u1" }],
    ["safety_identifier when no user", { safety_identifier: "s1" }, { user: "s1" }],
    [
      "a long user id is hashed to 64 characters",
      { safety_identifier: "x".repeat(100) },
      { user: createHash("sha256").update("x".repeat(100)).digest("hex") },
    ],
    ["prompt_cache_key", { prompt_cache_key: "k" }, { prompt_cache_key: "k" }],
    ["stream asks for usage", { stream: true }, {
      stream: true,
      stream_options: { include_usage: true },
    }],
  ];
  const base = chatOf({});
  for (const [name, request, fields] of cases) {
    await t.step(name, () => assert.deepEqual(chatOf(request), { ...base, ...fields }));
  }
  await t.step("dropped: metadata, store, include, service_tier and unknown fields", () => {
    const chat = chatOf({
      metadata: { a: "b" },
      store: true,
      include: ["reasoning.encrypted_content"],
      service_tier: "flex",
      reasoning: { summary: "detailed" },
      max_tool_calls: 3,
      future: 1,
    });
    assert.deepEqual(chat, base);
  });
});

Deno.test("toChatRequest() maps reasoning.effort, naming what it changes", async (t) => {
  const cases: [string, string | undefined, string[]][] = [
    ["none", undefined, []],
    ["minimal", "low", ["reasoning.effort"]],
    ["low", "low", []],
    ["medium", "medium", []],
    ["high", "high", []],
    ["xhigh", "high", ["reasoning.effort"]],
  ];
  for (const [effort, expected, adjusted] of cases) {
    await t.step(effort, () => {
      const out = translated({ reasoning: { effort } });
      assert.equal(out.chat.reasoning_effort, expected);
      assert.deepEqual(out.adjusted, adjusted);
    });
  }
  await t.step(
    "an unknown effort is refused",
    () => void refused({ reasoning: { effort: "huge" } }, "reasoning.effort"),
  );
});

Deno.test("toChatRequest() refuses OpenAI-only features and names adjustments", async (t) => {
  const cases: [Json, string][] = [
    [{ background: true }, "background"],
    [{ conversation: "conv_1" }, "conversation"],
    [{ prompt: { id: "pmpt_1" } }, "prompt"],
    [{ text: { format: { type: "grammar" } } }, "text.format.type"],
  ];
  for (const [request, param] of cases) await t.step(param, () => void refused(request, param));
  await t.step("background false and null conversation are fine", () => {
    translated({ background: false, conversation: null });
  });
  await t.step("truncation auto and top_logprobs are adjusted", () => {
    assert.deepEqual(translated({ truncation: "auto", top_logprobs: 2 }).adjusted, [
      "truncation",
      "top_logprobs",
    ]);
    assert.deepEqual(translated({ truncation: "disabled", top_logprobs: 0 }).adjusted, []);
  });
});

Deno.test("toChatRequest() continues from a translated answer's own output items", () => {
  const answer = toResponsesResponse({
    object: "chat.completion",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        reasoning_content: "Think",
        content: "Let me check.",
        tool_calls: [toolCall("call_1", "weather", '{"c":"Oslo"}')],
      },
      finish_reason: "tool_calls",
    }],
  }, contextFor());
  assert.ok(!(answer instanceof GatewayError));
  const input = [user("Weather?"), ...answer.output, output("call_1", "cold")];
  assert.deepEqual(messagesOf(input), [
    { role: "user", content: "Weather?" },
    {
      role: "assistant",
      content: "Let me check.",
      tool_calls: [toolCall("call_1", "weather", '{"c":"Oslo"}')],
    },
    { role: "tool", tool_call_id: "call_1", content: "cold" },
  ]);
});

Deno.test("toChatRequest() never throws on a parsed request", () => {
  const part = fc.oneof(
    fc.record({ type: fc.constant("input_text"), text: fc.string() }),
    fc.record({ type: fc.constant("input_image"), image_url: fc.webUrl() }),
    fc.record({ type: fc.constant("input_file"), file_id: fc.string() }),
    fc.record({
      type: fc.constantFrom("output_text", "refusal", "x"),
      text: fc.string(),
      refusal: fc.string(),
    }),
  );
  const item = fc.oneof(
    fc.record({
      role: fc.constantFrom("user", "assistant", "system", "developer"),
      content: fc.oneof(fc.string(), fc.array(part)),
    }),
    fc.record({
      type: fc.constant("function_call"),
      call_id: fc.string(),
      name: fc.string(),
      arguments: fc.string(),
    }),
    fc.record({
      type: fc.constant("function_call_output"),
      call_id: fc.string(),
      output: fc.oneof(fc.string(), fc.array(part)),
    }),
    fc.record({
      type: fc.constantFrom("reasoning", "web_search_call", "item_reference"),
      id: fc.string(),
    }),
  );
  const request = fc.record({
    input: fc.array(item, { maxLength: 8 }),
    tools: fc.array(
      fc.oneof(fc.constant(WEATHER), fc.constant({ type: "web_search" }), fc.constant(AGENTS)),
      { maxLength: 2 },
    ),
    tool_choice: fc.constantFrom("auto", "none", "required", { type: "function", name: "weather" }),
    reasoning: fc.record({ effort: fc.constantFrom("none", "minimal", "low", "xhigh", "bad") }),
  }, { requiredKeys: ["input"] });
  fc.assert(fc.property(request, (extra) => {
    const body = parseResponsesRequest({ model: "m", ...extra });
    if (!body.ok) return;
    const out = toChatRequest(body.request);
    if (out instanceof GatewayError) assert.equal(out.status, 400);
    else assert.ok(parseChatCompletionRequest(JSON.parse(JSON.stringify(out.chat))).ok);
  }));
});
