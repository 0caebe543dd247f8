import assert from "node:assert/strict";
import { APIError } from "openai";
import type { Response as SdkResponse } from "openai/resources/responses/responses";
import fc from "fast-check";
import { errors } from "../../../src/errors.ts";
import type { StreamItem } from "../../../src/providers/mod.ts";
import type { ResponsesContext } from "../../../src/dialects/responses/output.ts";
import { toResponsesResponse } from "../../../src/dialects/responses/response.ts";
import { createResponsesSseWriter } from "../../../src/dialects/responses/stream.ts";
import { contextFor, sdkStreamClient } from "./_sdk.ts";
import { delta, type Event, eventsOf, toolPiece, usage } from "../messages/_stream.ts";

type Json = Record<string, unknown>;

function writerFed(items: readonly StreamItem[], ctx: ResponsesContext = contextFor()) {
  const writer = createResponsesSseWriter(ctx);
  for (const item of items) writer.push(item);
  return writer;
}

function render(items: readonly StreamItem[], ctx?: ResponsesContext): string {
  return writerFed(items, ctx).take();
}

/** What the `openai` SDK assembles from the stream. */
function finalResponse(sse: string): Promise<SdkResponse> {
  return sdkStreamClient(sse).responses.stream({ model: "smart", input: "Hi" }).finalResponse();
}

/** Events as `type` or `type:output_index`, for sequence checks. */
function outline(events: readonly Event[]): string[] {
  return events.map(({ data }) => {
    const at = typeof data.output_index === "number" ? `:${data.output_index}` : "";
    return `${data.type}${at}`;
  });
}

const START = delta({ role: "assistant", content: "" });
const DONE: StreamItem = { type: "done" };

Deno.test("createResponsesSseWriter() writes OpenAI's exact events for a text answer", () => {
  const events = eventsOf(render([
    START,
    delta({ content: "Hel" }),
    delta({ content: "lo" }),
    delta({}, "stop"),
    usage(12, 2),
    DONE,
  ]));
  const at = { item_id: "msg_1", output_index: 0, content_index: 0 };
  const part = { type: "output_text", text: "", annotations: [], logprobs: [] };
  const item = {
    id: "msg_1",
    type: "message",
    status: "in_progress",
    content: [],
    role: "assistant",
  };
  const body = events.map(({ event, data }) => {
    assert.equal(event, data.type, "the event name is the type");
    const { response: _response, ...rest } = data;
    return rest;
  });
  assert.deepEqual(body, [
    { type: "response.created", sequence_number: 0 },
    { type: "response.in_progress", sequence_number: 1 },
    { type: "response.output_item.added", output_index: 0, item, sequence_number: 2 },
    { type: "response.content_part.added", ...at, part, sequence_number: 3 },
    { type: "response.output_text.delta", ...at, delta: "Hel", logprobs: [], sequence_number: 4 },
    { type: "response.output_text.delta", ...at, delta: "lo", logprobs: [], sequence_number: 5 },
    { type: "response.output_text.done", ...at, text: "Hello", logprobs: [], sequence_number: 6 },
    {
      type: "response.content_part.done",
      ...at,
      part: { ...part, text: "Hello" },
      sequence_number: 7,
    },
    {
      type: "response.output_item.done",
      output_index: 0,
      item: { ...item, status: "completed", content: [{ ...part, text: "Hello" }] },
      sequence_number: 8,
    },
    { type: "response.completed", sequence_number: 9 },
  ]);
  const created = events[0]?.data.response as Json;
  assert.deepEqual(
    [created.id, created.status, created.output, created.usage],
    ["resp_01", "in_progress", [], null],
  );
  const completed = events.at(-1)?.data.response as Json;
  assert.equal(completed.status, "completed");
  assert.equal(completed.output_text, "Hello");
  assert.deepEqual(completed.usage, {
    input_tokens: 12,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 2,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 14,
  });
});

Deno.test("createResponsesSseWriter() streams what the openai SDK assembles", async (t) => {
  await t.step("text, with usage after the finish", async () => {
    const writer = writerFed([
      START,
      delta({ content: "4" }),
      delta({ content: "2" }),
      delta(
        {},
        "stop",
      ),
      usage(20, 2, 8),
      DONE,
    ]);
    const response = await finalResponse(writer.take());
    assert.equal(response.output_text, "42");
    assert.equal(response.status, "completed");
    assert.equal(response.usage?.input_tokens_details.cached_tokens, 8);
    assert.equal(response.usage?.total_tokens, 22);
    assert.deepEqual(writer.usage, {
      prompt_tokens: 20,
      completion_tokens: 2,
      total_tokens: 22,
      cache_read_tokens: 8,
    });
  });
  await t.step("reasoning, then text", async () => {
    const sse = render([
      START,
      delta({ reasoning_content: "Let me " }),
      delta({ reasoning_content: "think" }),
      delta({ content: "42" }),
      delta({}, "stop"),
      usage(12, 30),
      DONE,
    ]);
    assert.deepEqual(outline(eventsOf(sse)), [
      "response.created",
      "response.in_progress",
      "response.output_item.added:0",
      "response.reasoning_summary_part.added:0",
      "response.reasoning_summary_text.delta:0",
      "response.reasoning_summary_text.delta:0",
      "response.reasoning_summary_text.done:0",
      "response.reasoning_summary_part.done:0",
      "response.output_item.done:0",
      "response.output_item.added:1",
      "response.content_part.added:1",
      "response.output_text.delta:1",
      "response.output_text.done:1",
      "response.content_part.done:1",
      "response.output_item.done:1",
      "response.completed",
    ]);
    const response = await finalResponse(sse);
    assert.deepEqual(response.output[0], {
      id: "rs_1",
      type: "reasoning",
      summary: [{ type: "summary_text", text: "Let me think" }],
    });
    assert.equal(response.output_text, "42");
  });
  await t.step("two parallel tool calls with interleaved argument pieces", async () => {
    const sse = render([
      START,
      toolPiece(0, "", "call_a", "get_weather"),
      toolPiece(1, "", "call_b", "get_time"),
      toolPiece(0, '{"city":'),
      toolPiece(1, '{"tz":'),
      toolPiece(0, '"Paris"}'),
      toolPiece(1, '"CET"}'),
      delta({}, "tool_calls"),
      usage(30, 20),
      DONE,
    ]);
    const events = eventsOf(sse);
    assert.deepEqual(outline(events).slice(2), [
      "response.output_item.added:0",
      "response.output_item.added:1",
      "response.function_call_arguments.delta:0",
      "response.function_call_arguments.delta:1",
      "response.function_call_arguments.delta:0",
      "response.function_call_arguments.delta:1",
      "response.function_call_arguments.done:0",
      "response.output_item.done:0",
      "response.function_call_arguments.done:1",
      "response.output_item.done:1",
      "response.completed",
    ]);
    assert.deepEqual(events[2]?.data.item, {
      id: "fc_1",
      type: "function_call",
      status: "in_progress",
      arguments: "",
      call_id: "call_a",
      name: "get_weather",
    });
    const response = await finalResponse(sse);
    assert.deepEqual(
      response.output.map((item) =>
        item.type === "function_call" && [item.call_id, item.arguments]
      ),
      [["call_a", '{"city":"Paris"}'], ["call_b", '{"tz":"CET"}']],
    );
    assert.equal(response.output_text, "");
  });
  await t.step("text, then a call whose name comes after its first piece", async () => {
    const sse = render([
      START,
      delta({ content: "Checking." }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"q"' } }] }),
      toolPiece(0, ":1}", "call_x", "search"),
      delta({}, "tool_calls"),
      DONE,
    ]);
    const response = await finalResponse(sse);
    assert.deepEqual(response.output.map((item) => item.type), ["message", "function_call"]);
    const call = response.output[1];
    assert.ok(call?.type === "function_call");
    assert.deepEqual([call.name, call.call_id, call.arguments], ["search", "call_x", '{"q":1}']);
  });
  await t.step("calls of a namespace's functions: bare name and namespace", async () => {
    const tools = [
      { type: "function", name: "wait" },
      {
        type: "namespace",
        name: "multi_agent_v1",
        description: "Sub-agents",
        tools: [{ type: "function", name: "spawn_agent" }, { type: "function", name: "wait" }],
      },
    ];
    const sse = render([
      START,
      toolPiece(0, '{"message":"go"}', "call_a", "spawn_agent"),
      toolPiece(1, "{}", "call_b", "multi_agent_v1__wait"),
      toolPiece(2, "{}", "call_c", "wait"),
      delta({}, "tool_calls"),
      DONE,
    ], contextFor({ tools }));
    const added = eventsOf(sse).filter(({ data }) => data.type === "response.output_item.added");
    assert.deepEqual(added.map(({ data }) => data.item), [
      {
        id: "fc_1",
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: "call_a",
        name: "spawn_agent",
        namespace: "multi_agent_v1",
      },
      {
        id: "fc_2",
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: "call_b",
        name: "wait",
        namespace: "multi_agent_v1",
      },
      {
        id: "fc_3",
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: "call_c",
        name: "wait",
      },
    ]);
    const response = await finalResponse(sse);
    assert.deepEqual(
      response.output.map((item) =>
        item.type === "function_call" && [item.namespace, item.name, item.arguments]
      ),
      [
        ["multi_agent_v1", "spawn_agent", '{"message":"go"}'],
        ["multi_agent_v1", "wait", "{}"],
        [undefined, "wait", "{}"],
      ],
    );
  });
  await t.step("JSON for a json_schema format, which the SDK parses", async () => {
    const format = {
      type: "json_schema" as const,
      name: "answer",
      schema: {
        type: "object",
        properties: { n: { type: "number" } },
        required: ["n"],
        additionalProperties: false,
      },
      strict: true,
    };
    const ctx = contextFor({ text: { format } });
    const sse = render([START, delta({ content: '{"n":' }), delta({ content: "42}" }), DONE], ctx);
    const response = await sdkStreamClient(sse).responses.stream({
      model: "smart",
      input: "Answer",
      text: { format },
    }).finalResponse();
    assert.deepEqual(response.output_parsed, { n: 42 });
    assert.deepEqual(response.text?.format, format);
  });
  await t.step("a refusal", async () => {
    const sse = render([START, delta({ refusal: "I can't" }), delta({ refusal: " help." }), DONE]);
    assert.ok(sse.includes("event: response.refusal.delta\n"));
    const response = await finalResponse(sse);
    const message = response.output[0];
    assert.ok(message?.type === "message");
    assert.deepEqual(
      message.content.map((part) => part.type === "refusal" && part.refusal),
      ["I can't help."],
    );
  });
});

Deno.test("createResponsesSseWriter() ends a cut answer with response.incomplete", async (t) => {
  for (
    const [finish, reason] of [["length", "max_output_tokens"], [
      "content_filter",
      "content_filter",
    ]]
  ) {
    await t.step(finish as string, async () => {
      const sse = render([
        START,
        delta({ content: "Once upon" }),
        delta({}, finish),
        usage(5, 2),
        DONE,
      ]);
      const events = eventsOf(sse);
      assert.equal(events.at(-1)?.event, "response.incomplete");
      const response = await finalResponse(sse);
      assert.equal(response.status, "incomplete");
      assert.deepEqual(response.incomplete_details, { reason });
      assert.equal(
        response.output[0]?.type === "message" && response.output[0].status,
        "incomplete",
      );
      assert.equal(response.output_text, "Once upon");
    });
  }
});

Deno.test("createResponsesSseWriter() ends a failed stream with error, response.failed", async (t) => {
  await t.step("midway: the SDK raises the error's message", async () => {
    const failure = errors.upstreamTimeout("The provider went silent");
    const writer = writerFed([START, delta({ content: "Hal" }), { type: "error", error: failure }]);
    const events = eventsOf(writer.take());
    assert.deepEqual(events.slice(-2).map((event) => event.event), ["error", "response.failed"]);
    const { sequence_number: _, ...error } = events.at(-2)?.data ?? {};
    assert.deepEqual(error, {
      type: "error",
      code: "upstream_timeout",
      message: "The provider went silent",
      param: null,
    });
    const failed = events.at(-1)?.data.response as Json;
    assert.equal(failed.status, "failed");
    assert.deepEqual(failed.error, {
      code: "upstream_timeout",
      message: "The provider went silent",
    });
    assert.equal(writer.response?.status, "failed");
    assert.ok(writer.finished && writer.hasData);
    assert.equal(writer.error, failure);
    await assert.rejects(
      finalResponse(
        writerFed([START, delta({ content: "x" }), { type: "error", error: failure }]).take(),
      ),
      (error: unknown) => error instanceof APIError && error.message.includes("went silent"),
    );
  });
  await t.step("before anything: no data, so the route can answer with a plain error", () => {
    const writer = writerFed([{ type: "error", error: errors.upstream("refused") }]);
    assert.equal(writer.take(), "");
    assert.ok(writer.finished && !writer.hasData);
    assert.equal(writer.response, undefined);
    assert.equal(writer.error?.code, "upstream_error");
  });
  await t.step("a tool call that never got a name", () => {
    const writer = writerFed([
      START,
      delta({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
      DONE,
    ]);
    assert.equal(writer.error?.code, "upstream_error");
    assert.equal(eventsOf(writer.take()).at(-1)?.event, "response.failed");
  });
  await t.step("a bad raw chunk", () => {
    const writer = writerFed([START, { type: "raw", raw: "{nope", nullUsage: false }]);
    assert.equal(writer.error?.message, "The provider sent a bad chunk");
  });
});

Deno.test("createResponsesSseWriter() reads raw items and ignores what follows the end", () => {
  const raw = (chunk: Json): StreamItem => ({
    type: "raw",
    raw: JSON.stringify(chunk),
    nullUsage: true,
  });
  const writer = writerFed([
    raw({ choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }], usage: null }),
    raw({ choices: [{ index: 1, delta: { content: "other choice" } }], usage: null }),
    DONE,
    delta({ content: "late" }),
  ]);
  assert.equal(writer.response?.output_text, "Hi");
  assert.ok(!writer.take().includes("late"));
  assert.equal(writer.usage, undefined);
});

Deno.test("createResponsesSseWriter() and toResponsesResponse() give the same response", () => {
  const streamed = writerFed([
    START,
    delta({ reasoning_content: "Hmm." }),
    delta({ content: "Let me look." }),
    toolPiece(0, '{"a":1}', "call_1", "lookup"),
    toolPiece(1, "{}", "call_2", "clock"),
    delta({}, "tool_calls"),
    usage(40, 25),
    DONE,
  ]).response;
  const whole = toResponsesResponse({
    object: "chat.completion",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        reasoning_content: "Hmm.",
        content: "Let me look.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "lookup", arguments: '{"a":1}' } },
          { id: "call_2", type: "function", function: { name: "clock", arguments: "{}" } },
        ],
      },
      finish_reason: "tool_calls",
    }],
    usage: { prompt_tokens: 40, completion_tokens: 25, total_tokens: 65 },
  }, contextFor());
  assert.deepEqual(streamed, whole);
});

Deno.test("createResponsesSseWriter() numbers events in order and never throws", () => {
  const piece = fc.oneof(
    fc.record({ content: fc.string() }),
    fc.record({ reasoning_content: fc.string() }),
    fc.record({ refusal: fc.string() }),
    fc.record({
      tool_calls: fc.array(fc.record({
        index: fc.nat(3),
        id: fc.option(fc.string(), { nil: undefined }),
        function: fc.record({
          name: fc.option(fc.string(), { nil: undefined }),
          arguments: fc.string(),
        }),
      }, { requiredKeys: ["index", "function"] })),
    }),
  );
  const item: fc.Arbitrary<StreamItem> = fc.oneof(
    piece.map((value) => delta(value)),
    fc.constantFrom("stop", "length", "tool_calls").map((finish) => delta({}, finish)),
    fc.constant(usage(3, 4)),
    fc.string().map((raw): StreamItem => ({ type: "raw", raw, nullUsage: false })),
    fc.constant<StreamItem>({ type: "error", error: errors.upstream("boom") }),
  );
  fc.assert(fc.property(fc.array(item, { maxLength: 30 }), (items) => {
    const writer = writerFed([...items, DONE]);
    const events = eventsOf(writer.take());
    events.forEach((event, i) => assert.equal(event.data.sequence_number, i));
    assert.ok(writer.finished);
    if (writer.hasData) assert.ok(writer.response !== undefined);
  }));
});
