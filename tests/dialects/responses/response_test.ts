import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import type { ResponseObject } from "../../../src/dialects/responses/output.ts";
import { toResponsesResponse } from "../../../src/dialects/responses/response.ts";
import { contextFor, sdkClient } from "./_sdk.ts";

type Json = Record<string, unknown>;

function completion(message: Json, finish: string | null = "stop", extra: Json = {}): Json {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "upstream-model",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish }],
    usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
    ...extra,
  };
}

function translated(body: Json, request: Json = {}): ResponseObject {
  const out = toResponsesResponse(body, contextFor(request));
  if (out instanceof GatewayError) assert.fail(`unexpected error: ${out.message}`);
  return out;
}

function failed(body: Json): GatewayError {
  const out = toResponsesResponse(body, contextFor());
  assert.ok(out instanceof GatewayError, "expected an error");
  assert.equal(out.status, 502);
  assert.equal(out.code, "upstream_error");
  return out;
}

Deno.test("toResponsesResponse() gives every field OpenAI returns, echoing the request", () => {
  const response = translated(completion({ content: "Hi!" }), {
    instructions: "Be brief.",
    max_output_tokens: 50,
    metadata: { ticket: "42" },
    temperature: 0.2,
    top_p: 0.9,
    tools: [{ type: "function", name: "f", parameters: {}, strict: true }],
    tool_choice: "required",
    parallel_tool_calls: false,
    text: { format: { type: "json_object" }, verbosity: "low" },
    reasoning: { effort: "low", summary: "auto" },
    store: false,
    previous_response_id: "resp_00",
    user: "u1",
    safety_identifier: "s1",
    prompt_cache_key: "k",
    truncation: "auto",
  });
  assert.deepEqual(response, {
    id: "resp_01",
    object: "response",
    created_at: 1_767_225_600,
    status: "completed",
    background: false,
    error: null,
    incomplete_details: null,
    instructions: "Be brief.",
    max_output_tokens: 50,
    max_tool_calls: null,
    model: "smart",
    output: [{
      id: "msg_1",
      type: "message",
      status: "completed",
      content: [{ type: "output_text", text: "Hi!", annotations: [], logprobs: [] }],
      role: "assistant",
    }],
    output_text: "Hi!",
    parallel_tool_calls: false,
    previous_response_id: "resp_00",
    prompt_cache_key: "k",
    reasoning: { effort: "low", summary: "auto" },
    safety_identifier: "s1",
    service_tier: null,
    store: false,
    temperature: 0.2,
    text: { format: { type: "json_object" }, verbosity: "low" },
    tool_choice: "required",
    tools: [{ type: "function", name: "f", parameters: {}, strict: true }],
    top_logprobs: 0,
    top_p: 0.9,
    truncation: "auto",
    usage: {
      input_tokens: 9,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 12,
    },
    user: "u1",
    metadata: { ticket: "42" },
  });
});

Deno.test("toResponsesResponse() defaults the echoed fields as OpenAI does", () => {
  const response = translated(completion({ content: "Hi!" }));
  const picked = Object.fromEntries(
    [
      "instructions",
      "metadata",
      "parallel_tool_calls",
      "reasoning",
      "store",
      "temperature",
      "text",
      "tool_choice",
      "tools",
      "top_p",
      "truncation",
      "user",
    ].map((key) => [key, response[key as keyof ResponseObject]]),
  );
  assert.deepEqual(picked, {
    instructions: null,
    metadata: {},
    parallel_tool_calls: true,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: null,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: "auto",
    tools: [],
    top_p: null,
    truncation: "disabled",
    user: null,
  });
});

Deno.test("toResponsesResponse() builds output items in OpenAI's order", async (t) => {
  await t.step("reasoning, text, then function calls", () => {
    const response = translated(
      completion({
        reasoning_content: "The user wants weather.",
        content: "Checking.",
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "weather", arguments: '{"c":1}' } },
          { type: "function", function: { name: "clock", arguments: { tz: "CET" } } },
        ],
      }, "tool_calls"),
    );
    assert.deepEqual(response.output, [
      {
        id: "rs_1",
        type: "reasoning",
        summary: [{ type: "summary_text", text: "The user wants weather." }],
      },
      {
        id: "msg_2",
        type: "message",
        status: "completed",
        content: [{ type: "output_text", text: "Checking.", annotations: [], logprobs: [] }],
        role: "assistant",
      },
      {
        id: "fc_3",
        type: "function_call",
        status: "completed",
        arguments: '{"c":1}',
        call_id: "call_a",
        name: "weather",
      },
      {
        id: "fc_4",
        type: "function_call",
        status: "completed",
        arguments: '{"tz":"CET"}',
        call_id: "call_01_1",
        name: "clock",
      },
    ]);
    assert.equal(response.output_text, "Checking.");
  });
  await t.step("reasoning under OpenRouter's name, content as parts", () => {
    const response = translated(
      completion({ reasoning: "Hmm", content: [{ type: "text", text: "a" }, { text: "b" }] }),
    );
    assert.deepEqual(response.output.map((item) => item.type), ["reasoning", "message"]);
    assert.equal(response.output_text, "ab");
  });
  await t.step("a refusal", () => {
    const response = translated(completion({ content: null, refusal: "No." }));
    assert.deepEqual(response.output[0]?.type === "message" && response.output[0].content, [
      { type: "refusal", refusal: "No." },
    ]);
    assert.equal(response.output_text, "");
  });
  await t.step("nothing at all: no output items", () => {
    assert.deepEqual(translated(completion({ content: "" })).output, []);
  });
});

Deno.test("toResponsesResponse() maps the finish reason to status", async (t) => {
  const cases: [string | null, string, Json | null, string][] = [
    ["stop", "completed", null, "completed"],
    [null, "completed", null, "completed"],
    ["tool_calls", "completed", null, "completed"],
    ["length", "incomplete", { reason: "max_output_tokens" }, "incomplete"],
    ["content_filter", "incomplete", { reason: "content_filter" }, "incomplete"],
  ];
  for (const [finish, status, details, itemStatus] of cases) {
    await t.step(`${finish} → ${status}`, () => {
      const response = translated(completion({ content: "text" }, finish));
      assert.equal(response.status, status);
      assert.deepEqual(response.incomplete_details, details);
      assert.equal(response.output[0]?.type === "message" && response.output[0].status, itemStatus);
    });
  }
  await t.step("only the last item of a cut answer is incomplete", () => {
    const response = translated(
      completion({
        content: "a",
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: '{"x"' } }],
      }, "length"),
    );
    assert.deepEqual(
      response.output.map((item) => item.type !== "reasoning" && item.status),
      ["completed", "incomplete"],
    );
  });
});

Deno.test("toResponsesResponse() maps usage with its details", async (t) => {
  await t.step("cached and reasoning tokens", () => {
    const response = translated(completion({ content: "x" }, "stop", {
      usage: {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 60 },
        completion_tokens_details: { reasoning_tokens: 30 },
      },
    }));
    assert.deepEqual(response.usage, {
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 60 },
      output_tokens: 50,
      output_tokens_details: { reasoning_tokens: 30 },
      total_tokens: 150,
    });
  });
  await t.step("no usage reported: null", () => {
    assert.equal(translated(completion({ content: "x" }, "stop", { usage: null })).usage, null);
  });
});

Deno.test("toResponsesResponse() refuses answers it cannot give", async (t) => {
  await t.step("no message", () => {
    failed({ object: "chat.completion", choices: [] });
  });
  await t.step("a tool call without a name", () => {
    const out = failed(completion({ tool_calls: [{ id: "c", function: { arguments: "{}" } }] }));
    assert.match(out.message, /tool call 0 without a function name/);
  });
});

Deno.test("toResponsesResponse() answers what the openai SDK reads", async () => {
  const body = translated(
    completion({
      content: "It is sunny.",
      tool_calls: [{ id: "call_a", type: "function", function: { name: "w", arguments: "{}" } }],
    }, "tool_calls"),
  );
  const client = sdkClient(() => Response.json(body));
  const response = await client.responses.create({ model: "smart", input: "Weather?" });
  assert.equal(response.id, "resp_01");
  assert.equal(response.output_text, "It is sunny.");
  const call = response.output[1];
  assert.ok(call?.type === "function_call");
  assert.deepEqual([call.call_id, call.name, call.arguments], ["call_a", "w", "{}"]);
  assert.equal(response.usage?.total_tokens, 12);
});

/** Codex's sub-agent tools, and a top-level `wait` that makes the namespace's one qualified. */
const NAMESPACED_TOOLS = [
  { type: "function", name: "wait" },
  {
    type: "namespace",
    name: "multi_agent_v1",
    description: "Sub-agents",
    tools: [{ type: "function", name: "spawn_agent" }, { type: "function", name: "wait" }],
  },
];

Deno.test("toResponsesResponse() names calls of a namespace's functions as OpenAI does", () => {
  const calls = ["spawn_agent", "multi_agent_v1__wait", "wait", "unknown"].map((name, i) => ({
    id: `call_${i}`,
    type: "function",
    function: { name, arguments: "{}" },
  }));
  const body = translated(completion({ tool_calls: calls }, "tool_calls"), {
    tools: NAMESPACED_TOOLS,
  });
  assert.deepEqual(body.output.map((item) => item.type === "function_call" && item), [
    {
      id: "fc_1",
      type: "function_call",
      status: "completed",
      arguments: "{}",
      call_id: "call_0",
      name: "spawn_agent",
      namespace: "multi_agent_v1",
    },
    {
      id: "fc_2",
      type: "function_call",
      status: "completed",
      arguments: "{}",
      call_id: "call_1",
      name: "wait",
      namespace: "multi_agent_v1",
    },
    {
      id: "fc_3",
      type: "function_call",
      status: "completed",
      arguments: "{}",
      call_id: "call_2",
      name: "wait",
    },
    {
      id: "fc_4",
      type: "function_call",
      status: "completed",
      arguments: "{}",
      call_id: "call_3",
      name: "unknown",
    },
  ]);
  assert.deepEqual(body.tools, NAMESPACED_TOOLS);
});
