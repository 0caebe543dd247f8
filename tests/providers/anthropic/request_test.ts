import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
} from "../../../src/openai/schema.ts";
import type { ProviderTarget } from "../../../src/providers/mod.ts";
import {
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  JSON_OBJECT_INSTRUCTION,
  toAnthropicRequest,
} from "../../../src/providers/anthropic/request.ts";

type Json = Record<string, unknown>;

function chat(body: Json): ChatCompletionRequest {
  const result = parseChatCompletionRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function target(baseUrl = "https://api.anthropic.com"): ProviderTarget {
  return { model: "claude-sonnet-4-5-20250929", baseUrl, apiKey: "sk-ant-api03-provider" };
}

const HI = [{ role: "user", content: "Hello" }];

/** Builds the request and reads its body back. */
async function build(body: Json): Promise<{ body: Json; adjusted: readonly string[] }> {
  const built = toAnthropicRequest(chat({ model: "claude-sonnet-4-5", ...body }), target());
  if (built instanceof GatewayError) assert.fail(`unexpected error: ${built.message}`);
  return { body: await built.request.json() as Json, adjusted: built.adjusted };
}

async function bodyOf(body: Json): Promise<Json> {
  return (await build(body)).body;
}

function refused(body: Json): GatewayError {
  const built = toAnthropicRequest(chat({ model: "claude-sonnet-4-5", ...body }), target());
  assert.ok(built instanceof GatewayError, "expected a GatewayError");
  return built;
}

function assertInvalid(error: GatewayError, param: string): void {
  assert.equal(error.status, 400);
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.code, "invalid_request");
  assert.equal(error.param, param);
}

Deno.test("toAnthropicRequest() posts to /v1/messages with x-api-key and anthropic-version", async (t) => {
  for (
    const [name, baseUrl, url] of [
      ["default base URL", "https://api.anthropic.com", "https://api.anthropic.com/v1/messages"],
      ["trailing slash", "http://127.0.0.1:9000/", "http://127.0.0.1:9000/v1/messages"],
    ] as const
  ) {
    await t.step(name, async () => {
      const built = toAnthropicRequest(
        chat({ model: "anthropic/claude-sonnet-4-5", messages: HI }),
        target(baseUrl),
      );
      if (built instanceof GatewayError) assert.fail(built.message);
      const { request } = built;
      assert.equal(request.method, "POST");
      assert.equal(request.url, url);
      assert.equal(request.headers.get("x-api-key"), "sk-ant-api03-provider");
      assert.equal(request.headers.get("anthropic-version"), "2023-06-01");
      assert.match(request.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(request.headers.get("authorization"), null);
      assert.equal(request.headers.get("accept"), "application/json");
      assert.deepEqual(await request.json(), {
        model: "claude-sonnet-4-5-20250929",
        max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
        messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
      });
    });
  }
});

Deno.test("toAnthropicRequest() lifts every system and developer message to top-level system, in order", async () => {
  const body = await bodyOf({
    messages: [
      { role: "system", content: "You are a terse assistant." },
      { role: "user", content: "Hi" },
      { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
      { role: "assistant", content: "Bonjour" },
      { role: "system", content: "Never use emoji." },
      { role: "user", content: "How are you?" },
    ],
  });
  assert.deepEqual(body.system, [
    { type: "text", text: "You are a terse assistant." },
    { type: "text", text: "Answer in French." },
    { type: "text", text: "Never use emoji." },
  ]);
  assert.deepEqual(body.messages, [
    { role: "user", content: [{ type: "text", text: "Hi" }] },
    { role: "assistant", content: [{ type: "text", text: "Bonjour" }] },
    { role: "user", content: [{ type: "text", text: "How are you?" }] },
  ]);
});

Deno.test("toAnthropicRequest() sends no system field without system messages", async () => {
  assert.equal("system" in await bodyOf({ messages: HI }), false);
});

Deno.test("toAnthropicRequest() merges consecutive turns of the same role", async (t) => {
  await t.step("user + user", async () => {
    const body = await bodyOf({
      messages: [{ role: "user", content: "First" }, { role: "user", content: "Second" }],
    });
    assert.deepEqual(body.messages, [{
      role: "user",
      content: [{ type: "text", text: "First" }, { type: "text", text: "Second" }],
    }]);
  });
  await t.step("assistant + assistant, separated by a system message", async () => {
    const body = await bodyOf({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", content: "A1" },
        { role: "system", content: "Be nice." },
        { role: "assistant", content: "A2" },
        { role: "user", content: "Q2" },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: "user", content: [{ type: "text", text: "Q" }] },
      { role: "assistant", content: [{ type: "text", text: "A1" }, { type: "text", text: "A2" }] },
      { role: "user", content: [{ type: "text", text: "Q2" }] },
    ]);
  });
});

const WEATHER_CALLS = {
  role: "assistant",
  content: null,
  tool_calls: [
    {
      id: "call_paris",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Paris"}' },
    },
    {
      id: "call_tokyo",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Tokyo"}' },
    },
  ],
};

Deno.test("toAnthropicRequest() puts parallel tool results in one user turn, before a following user text", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Weather in Paris and Tokyo?" },
      WEATHER_CALLS,
      { role: "tool", tool_call_id: "call_paris", content: "18°C, cloudy" },
      { role: "tool", tool_call_id: "call_tokyo", content: "24°C, sunny" },
      { role: "user", content: "And in Celsius only please." },
    ],
  });
  const messages = body.messages as Json[];
  assert.equal(messages.length, 3);
  assert.deepEqual(messages[2], {
    role: "user",
    content: [
      { type: "tool_result", tool_use_id: "call_paris", content: "18°C, cloudy" },
      { type: "tool_result", tool_use_id: "call_tokyo", content: "24°C, sunny" },
      { type: "text", text: "And in Celsius only please." },
    ],
  });
});

Deno.test("toAnthropicRequest() moves tool results ahead of user text that came first", async () => {
  // A client that interleaves a user note between tool results still gets a valid turn.
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Weather?" },
      WEATHER_CALLS,
      { role: "tool", tool_call_id: "call_paris", content: "18°C" },
      { role: "user", content: "note" },
      { role: "tool", tool_call_id: "call_tokyo", content: "24°C" },
    ],
  });
  const last = (body.messages as Json[])[2];
  assert.deepEqual(
    (last?.content as Json[]).map((block) => block.type),
    ["tool_result", "tool_result", "text"],
  );
});

Deno.test("toAnthropicRequest() maps max_completion_tokens, max_tokens, or the default to max_tokens", async (t) => {
  const cases: [string, Json, number][] = [
    ["max_completion_tokens preferred", { max_completion_tokens: 300, max_tokens: 100 }, 300],
    ["max_tokens alone", { max_tokens: 100 }, 100],
    ["neither: the documented default", {}, 4096],
  ];
  for (const [name, params, expected] of cases) {
    await t.step(name, async () => {
      assert.equal((await bodyOf({ messages: HI, ...params })).max_tokens, expected);
    });
  }
  assert.equal(DEFAULT_ANTHROPIC_MAX_TOKENS, 4096);
});

Deno.test("toAnthropicRequest() clamps temperature above 1 and reports it as adjusted", async (t) => {
  const cases: [number | undefined, number | undefined, string[]][] = [
    [0, 0, []],
    [0.7, 0.7, []],
    [1, 1, []],
    [1.5, 1, ["temperature"]],
    [2, 1, ["temperature"]],
    [undefined, undefined, []],
  ];
  for (const [given, sent, adjusted] of cases) {
    await t.step(`temperature ${given}`, async () => {
      const built = await build({
        messages: HI,
        ...(given === undefined ? {} : { temperature: given }),
      });
      assert.equal(built.body.temperature, sent);
      assert.deepEqual(built.adjusted, adjusted);
    });
  }
});

Deno.test("toAnthropicRequest() forwards top_p", async () => {
  assert.equal((await bodyOf({ messages: HI, top_p: 0.9 })).top_p, 0.9);
  assert.equal("top_p" in await bodyOf({ messages: HI }), false);
});

Deno.test("toAnthropicRequest() maps stop to stop_sequences without whitespace-only entries", async (t) => {
  const cases: [string, unknown, string[] | undefined][] = [
    ["a bare string", "END", ["END"]],
    ["a list", ["END", "\n\nHuman:"], ["END", "\n\nHuman:"]],
    ["whitespace-only entries dropped", ["\n", "STOP", " \t"], ["STOP"]],
    ["only whitespace: no field", "\n\n", undefined],
    ["null: no field", null, undefined],
  ];
  for (const [name, stop, expected] of cases) {
    await t.step(name, async () => {
      assert.deepEqual((await bodyOf({ messages: HI, stop })).stop_sequences, expected);
    });
  }
});

Deno.test("toAnthropicRequest() maps user to metadata.user_id", async (t) => {
  await t.step("user set", async () => {
    const body = await bodyOf({ messages: HI, user: "user-1234" });
    assert.deepEqual(body.metadata, { user_id: "user-1234" });
  });
  await t.step("safety_identifier when user is absent", async () => {
    const body = await bodyOf({ messages: HI, safety_identifier: "hash-abc" });
    assert.deepEqual(body.metadata, { user_id: "hash-abc" });
  });
  await t.step("neither: no metadata (OpenAI metadata is not forwarded)", async () => {
    const body = await bodyOf({ messages: HI, metadata: { purpose: "eval" } });
    assert.equal("metadata" in body, false);
  });
});

Deno.test("toAnthropicRequest() maps tools to name, description and input_schema", async () => {
  const parameters = {
    type: "object",
    properties: { city: { type: "string", description: "City name" } },
    required: ["city"],
  };
  const body = await bodyOf({
    messages: HI,
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather",
          parameters,
          strict: true,
        },
      },
      { type: "function", function: { name: "get_time" } },
      { type: "function", function: { name: "ping", parameters: { properties: {} } } },
    ],
  });
  assert.deepEqual(body.tools, [
    { name: "get_weather", description: "Current weather", input_schema: parameters },
    { name: "get_time", input_schema: { type: "object", properties: {} } },
    { name: "ping", input_schema: { type: "object", properties: {} } },
  ]);
  assert.equal("tool_choice" in body, false);
});

Deno.test("toAnthropicRequest() refuses a non-function tool", () => {
  assertInvalid(
    refused({ messages: HI, tools: [{ type: "custom", custom: { name: "x" } }] }),
    "tools[0].type",
  );
});

const ONE_TOOL = [{ type: "function", function: { name: "get_weather", parameters: {} } }];

Deno.test("toAnthropicRequest() maps tool_choice and parallel_tool_calls", async (t) => {
  const named = { type: "function", function: { name: "get_weather" } };
  const cases: [string, Json, unknown][] = [
    ["auto", { tool_choice: "auto" }, { type: "auto" }],
    ["required", { tool_choice: "required" }, { type: "any" }],
    ["none", { tool_choice: "none" }, { type: "none" }],
    ["named", { tool_choice: named }, { type: "tool", name: "get_weather" }],
    [
      "parallel false without tool_choice",
      { parallel_tool_calls: false },
      { type: "auto", disable_parallel_tool_use: true },
    ],
    [
      "parallel false with required",
      { tool_choice: "required", parallel_tool_calls: false },
      { type: "any", disable_parallel_tool_use: true },
    ],
    [
      "parallel false with named",
      { tool_choice: named, parallel_tool_calls: false },
      { type: "tool", name: "get_weather", disable_parallel_tool_use: true },
    ],
    ["parallel false with none", { tool_choice: "none", parallel_tool_calls: false }, {
      type: "none",
    }],
    ["parallel true: no flag", { tool_choice: "auto", parallel_tool_calls: true }, {
      type: "auto",
    }],
  ];
  for (const [name, params, expected] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({ messages: HI, tools: ONE_TOOL, ...params });
      assert.deepEqual(body.tool_choice, expected);
    });
  }
});

Deno.test("toAnthropicRequest() drops tool_choice and parallel_tool_calls without tools", async () => {
  const body = await bodyOf({ messages: HI, tool_choice: "auto", parallel_tool_calls: false });
  assert.equal("tools" in body, false);
  assert.equal("tool_choice" in body, false);
});

Deno.test("toAnthropicRequest() refuses a tool_choice form Anthropic lacks", () => {
  const error = refused({
    messages: HI,
    tools: ONE_TOOL,
    tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [] } },
  });
  assertInvalid(error, "tool_choice");
});

Deno.test("toAnthropicRequest() turns assistant tool_calls into tool_use blocks after the text", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [
          {
            id: "toolu_01A09q90qw90lq917835lq9",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris","unit":"c"}' },
          },
          { id: "toolu_02", type: "function", function: { name: "get_time", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_01A09q90qw90lq917835lq9", content: "18°C" },
      { role: "tool", tool_call_id: "toolu_02", content: "12:00" },
    ],
  });
  assert.deepEqual((body.messages as Json[])[1], {
    role: "assistant",
    content: [
      { type: "text", text: "Let me check." },
      {
        type: "tool_use",
        id: "toolu_01A09q90qw90lq917835lq9",
        name: "get_weather",
        input: { city: "Paris", unit: "c" },
      },
      { type: "tool_use", id: "toolu_02", name: "get_time", input: {} },
    ],
  });
});

Deno.test("toAnthropicRequest() sends only tool_use blocks when the assistant content is null or empty", async (t) => {
  for (const content of [null, "", [{ type: "text", text: "" }]]) {
    await t.step(`content ${JSON.stringify(content)}`, async () => {
      const body = await bodyOf({
        messages: [
          { role: "user", content: "Weather?" },
          { ...WEATHER_CALLS, content },
          { role: "tool", tool_call_id: "call_paris", content: "18°C" },
          { role: "tool", tool_call_id: "call_tokyo", content: "24°C" },
        ],
      });
      const assistant = (body.messages as Json[])[1];
      assert.deepEqual(
        (assistant?.content as Json[]).map((block) => block.type),
        ["tool_use", "tool_use"],
      );
    });
  }
});

Deno.test("toAnthropicRequest() refuses tool call arguments that are not a JSON object", async (t) => {
  for (const args of ['{"city": "Par', "[1,2]", "42"]) {
    await t.step(args, () => {
      const error = refused({
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "call_1", type: "function", function: { name: "f", arguments: "{}" } },
              { id: "call_2", type: "function", function: { name: "f", arguments: args } },
            ],
          },
        ],
      });
      assertInvalid(error, "messages[1].tool_calls[1].function.arguments");
    });
  }
});

Deno.test("toAnthropicRequest() turns tool messages into tool_result blocks", async (t) => {
  const cases: [string, unknown, Json][] = [
    ["string content", "18°C", { type: "tool_result", tool_use_id: "call_1", content: "18°C" }],
    ["text parts", [{ type: "text", text: "18" }, { type: "text", text: "°C" }], {
      type: "tool_result",
      tool_use_id: "call_1",
      content: [{ type: "text", text: "18" }, { type: "text", text: "°C" }],
    }],
    ["empty content: no content field", "", { type: "tool_result", tool_use_id: "call_1" }],
  ];
  for (const [name, content, expected] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{
              id: "call_1",
              type: "function",
              function: { name: "w", arguments: "{}" },
            }],
          },
          { role: "tool", tool_call_id: "call_1", content },
        ],
      });
      assert.deepEqual((body.messages as Json[])[2], { role: "user", content: [expected] });
    });
  }
});

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

function imageMessage(url: string): Json[] {
  return [{
    role: "user",
    content: [
      { type: "text", text: "What is in this image?" },
      { type: "image_url", image_url: { url, detail: "high" } },
    ],
  }];
}

Deno.test("toAnthropicRequest() maps image_url parts to base64 or url sources", async (t) => {
  const cases: [string, string, Json][] = [
    ["png data URL", `data:image/png;base64,${PNG_B64}`, {
      type: "base64",
      media_type: "image/png",
      data: PNG_B64,
    }],
    ["jpeg data URL, upper case type", "data:IMAGE/JPEG;base64,/9j/4AAQ", {
      type: "base64",
      media_type: "image/jpeg",
      data: "/9j/4AAQ",
    }],
    ["https URL", "https://upload.wikimedia.org/cat.jpg", {
      type: "url",
      url: "https://upload.wikimedia.org/cat.jpg",
    }],
  ];
  for (const [name, url, source] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({ messages: imageMessage(url) });
      assert.deepEqual(body.messages, [{
        role: "user",
        content: [{ type: "text", text: "What is in this image?" }, { type: "image", source }],
      }]);
    });
  }
});

Deno.test("toAnthropicRequest() refuses images Anthropic cannot take", async (t) => {
  const cases: [string, string][] = [
    ["bmp data URL", "data:image/bmp;base64,Qk0="],
    ["svg data URL", "data:image/svg+xml;base64,PHN2Zz4="],
    ["data URL without base64", "data:image/png,rawbytes"],
    ["ftp URL", "ftp://example.com/cat.png"],
  ];
  for (const [name, url] of cases) {
    await t.step(name, () => {
      assertInvalid(
        refused({ messages: imageMessage(url) }),
        "messages[0].content[1].image_url.url",
      );
    });
  }
});

Deno.test("toAnthropicRequest() refuses content parts without an Anthropic equivalent", () => {
  const error = refused({
    messages: [{
      role: "user",
      content: [{ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }],
    }],
  });
  assertInvalid(error, "messages[0].content[0].type");
});

Deno.test("toAnthropicRequest() refuses function-role messages", () => {
  const error = refused({
    messages: [...HI, { role: "function", name: "f", content: "{}" }],
  });
  assertInvalid(error, "messages[1].role");
});

Deno.test("toAnthropicRequest() maps response_format", async (t) => {
  await t.step("json_object: an instruction appended to system", async () => {
    const body = await bodyOf({
      messages: [{ role: "system", content: "You extract data." }, ...HI],
      response_format: { type: "json_object" },
    });
    assert.deepEqual(body.system, [
      { type: "text", text: "You extract data." },
      { type: "text", text: JSON_OBJECT_INSTRUCTION },
    ]);
    assert.equal("output_config" in body, false);
  });
  await t.step("json_schema: output_config.format", async () => {
    const schema = {
      type: "object",
      properties: { name: { type: "string" }, age: { type: "integer" } },
      required: ["name", "age"],
      additionalProperties: false,
    };
    const body = await bodyOf({
      messages: HI,
      response_format: {
        type: "json_schema",
        json_schema: { name: "person", strict: true, schema },
      },
    });
    assert.deepEqual(body.output_config, { format: { type: "json_schema", schema } });
    assert.equal("system" in body, false);
    assert.equal("response_format" in body, false);
  });
  await t.step("json_schema without a schema: handled as json_object", async () => {
    const body = await bodyOf({
      messages: HI,
      response_format: { type: "json_schema", json_schema: { name: "anything" } },
    });
    assert.deepEqual(body.system, [{ type: "text", text: JSON_OBJECT_INSTRUCTION }]);
  });
  await t.step("text: nothing", async () => {
    const body = await bodyOf({ messages: HI, response_format: { type: "text" } });
    assert.equal("system" in body, false);
    assert.equal("output_config" in body, false);
  });
});

Deno.test("toAnthropicRequest() never sends an empty or whitespace-only text block", async () => {
  const body = await bodyOf({
    messages: [
      { role: "system", content: "" },
      { role: "user", content: [{ type: "text", text: "Hi" }, { type: "text", text: "  \n" }] },
      { role: "assistant", content: "" },
      { role: "user", content: "Still there?" },
    ],
  });
  assert.equal("system" in body, false);
  assert.deepEqual(body.messages, [{
    role: "user",
    content: [{ type: "text", text: "Hi" }, { type: "text", text: "Still there?" }],
  }]);
});

Deno.test("toAnthropicRequest() refuses a conversation with nothing but system messages", () => {
  assertInvalid(
    refused({
      messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "" }],
    }),
    "messages",
  );
});

Deno.test("toAnthropicRequest() sends a final assistant message as a prefill without trailing whitespace", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Give me a JSON greeting." },
      { role: "assistant", content: '{"greeting": \n ' },
    ],
  });
  assert.deepEqual((body.messages as Json[]).at(-1), {
    role: "assistant",
    content: [{ type: "text", text: '{"greeting":' }],
  });
});

Deno.test("toAnthropicRequest() keeps trailing whitespace of a non-final assistant message", async () => {
  const body = await bodyOf({
    messages: [
      { role: "user", content: "Q" },
      { role: "assistant", content: "Answer. " },
      { role: "user", content: "Q2" },
    ],
  });
  assert.deepEqual((body.messages as Json[])[1], {
    role: "assistant",
    content: [{ type: "text", text: "Answer. " }],
  });
});

Deno.test("toAnthropicRequest() drops name on messages", async () => {
  const body = await bodyOf({
    messages: [
      { role: "system", name: "policy", content: "Be brief." },
      { role: "user", name: "alice", content: "Hi" },
    ],
  });
  assert.equal(JSON.stringify(body).includes("alice"), false);
  assert.equal(JSON.stringify(body).includes("policy"), false);
  assert.deepEqual(body.messages, [{ role: "user", content: [{ type: "text", text: "Hi" }] }]);
});

Deno.test("toAnthropicRequest() refuses parameters set to a value Anthropic cannot honour", async (t) => {
  const cases: [string, Json][] = [
    ["n", { n: 2 }],
    ["logprobs", { logprobs: true }],
    ["top_logprobs", { top_logprobs: 3 }],
    ["logit_bias", { logit_bias: { "50256": -100 } }],
    ["presence_penalty", { presence_penalty: 0.5 }],
    ["frequency_penalty", { frequency_penalty: -1 }],
    ["audio", { audio: { voice: "alloy", format: "wav" } }],
    ["modalities", { modalities: ["text", "audio"] }],
    ["web_search_options", { web_search_options: {} }],
    ["functions", { functions: [{ name: "f", parameters: {} }] }],
    ["function_call", { function_call: "auto" }],
  ];
  for (const [param, params] of cases) {
    await t.step(param, () => {
      const error = refused({ messages: HI, ...params });
      assertInvalid(error, param);
      assert.ok(error.message.includes(param), error.message);
    });
  }
});

Deno.test("toAnthropicRequest() accepts those parameters at their OpenAI defaults", async (t) => {
  const cases: [string, Json][] = [
    ["n: 1", { n: 1 }],
    ["logprobs: false", { logprobs: false }],
    ["top_logprobs: 0", { top_logprobs: 0 }],
    ["logit_bias: {}", { logit_bias: {} }],
    ["penalties: 0", { presence_penalty: 0, frequency_penalty: 0 }],
    ["modalities: [text]", { modalities: ["text"] }],
    ["all null", {
      n: null,
      logprobs: null,
      top_logprobs: null,
      logit_bias: null,
      presence_penalty: null,
      frequency_penalty: null,
      audio: null,
      modalities: null,
    }],
  ];
  for (const [name, params] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf({ messages: HI, ...params });
      for (const key of Object.keys(params)) assert.equal(key in body, false, key);
    });
  }
});

Deno.test("toAnthropicRequest() forwards no field Anthropic does not know", async () => {
  const body = await bodyOf({
    messages: HI,
    seed: 42,
    store: true,
    service_tier: "flex",
    reasoning_effort: "low",
    prediction: { type: "content", content: "x" },
    stream_options: { include_usage: true },
    some_future_param: { x: 1 },
  });
  assert.deepEqual(Object.keys(body).sort(), ["max_tokens", "messages", "model"]);
});

Deno.test("toAnthropicRequest() sets stream for streaming requests", async (t) => {
  await t.step("stream: true", async () => {
    const built = toAnthropicRequest(
      chat({ model: "claude-sonnet-4-5", messages: HI, stream: true }),
      target(),
    );
    if (built instanceof GatewayError) assert.fail(built.message);
    assert.equal(built.request.headers.get("accept"), "text/event-stream");
    assert.equal((await built.request.json() as Json).stream, true);
  });
  await t.step("stream: false: no field", async () => {
    assert.equal("stream" in await bodyOf({ messages: HI, stream: false }), false);
  });
});

Deno.test("toAnthropicRequest() translates a realistic multi-turn tool conversation", async () => {
  const body = await bodyOf({
    messages: [
      { role: "system", content: "You are a weather bot." },
      { role: "user", name: "alice", content: "Weather in Paris and Tokyo?" },
      WEATHER_CALLS,
      { role: "tool", tool_call_id: "call_paris", content: '{"temp":18}' },
      { role: "tool", tool_call_id: "call_tokyo", content: '{"temp":24}' },
    ],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        description: "Get the weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
    tool_choice: "auto",
    parallel_tool_calls: true,
    max_completion_tokens: 1024,
    temperature: 0.2,
    stop: ["###"],
    user: "alice-1",
  });
  assert.deepEqual(body, {
    model: "claude-sonnet-4-5-20250929",
    max_tokens: 1024,
    system: [{ type: "text", text: "You are a weather bot." }],
    messages: [
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Tokyo?" }] },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_paris", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "call_tokyo", name: "get_weather", input: { city: "Tokyo" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_paris", content: '{"temp":18}' },
          { type: "tool_result", tool_use_id: "call_tokyo", content: '{"temp":24}' },
        ],
      },
    ],
    temperature: 0.2,
    stop_sequences: ["###"],
    metadata: { user_id: "alice-1" },
    tools: [{
      name: "get_weather",
      description: "Get the weather",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    }],
    tool_choice: { type: "auto" },
  });
});
