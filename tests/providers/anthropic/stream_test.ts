import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import { fromAnthropicStreamError } from "../../../src/providers/anthropic/error.ts";
import { fromAnthropicUsage } from "../../../src/providers/anthropic/usage.ts";
import { anthropicStream } from "../../../src/providers/anthropic/stream.ts";
import type { StreamItem, TranslationContext } from "../../../src/providers/mod.ts";
import type { SseEvent } from "../../../src/sse.ts";
import { createSseWriter } from "../../../src/streaming/client_stream.ts";

const CTX: TranslationContext = {
  id: "chatcmpl-test",
  created: 1_760_000_000,
  model: "claude-sonnet-4-5",
};

/** One Anthropic event: `event: <type>` and JSON data whose `.type` is the same. */
function ev(type: string, fields: Record<string, unknown> = {}): SseEvent {
  return { event: type, data: JSON.stringify({ type, ...fields }) };
}

const PING = ev("ping");

function messageStart(usage: Record<string, unknown> = { input_tokens: 12, output_tokens: 1 }) {
  return ev("message_start", {
    message: {
      id: "msg_01XFDUDYJgAACzvnptvVoYEL",
      type: "message",
      role: "assistant",
      content: [],
      model: "claude-sonnet-4-5-20250929",
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });
}

function textStart(index: number): SseEvent {
  return ev("content_block_start", { index, content_block: { type: "text", text: "" } });
}

function textDelta(index: number, text: string): SseEvent {
  return ev("content_block_delta", { index, delta: { type: "text_delta", text } });
}

function toolStart(index: number, id: string, name: string): SseEvent {
  return ev("content_block_start", {
    index,
    content_block: { type: "tool_use", id, name, input: {} },
  });
}

function jsonDelta(index: number, partial_json: string): SseEvent {
  return ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } });
}

function blockStop(index: number): SseEvent {
  return ev("content_block_stop", { index });
}

function messageDelta(stop_reason: string, usage: Record<string, unknown> = { output_tokens: 5 }) {
  return ev("message_delta", { delta: { stop_reason, stop_sequence: null }, usage });
}

const MESSAGE_STOP = ev("message_stop");

/** Runs events through a fresh translator, then ends the body, collecting what it emits. */
function run(events: readonly SseEvent[]): StreamItem[] {
  const translator = anthropicStream(CTX);
  const items: StreamItem[] = [];
  const emit = (item: StreamItem) => {
    items.push(item);
  };
  for (const event of events) translator.event(event, emit);
  translator.end(emit);
  return items;
}

/** The choice-bearing chunk item the translator must produce. */
function chunk(delta: Record<string, unknown>, finishReason: string | null = null): StreamItem {
  return {
    type: "chunk",
    chunk: {
      id: CTX.id,
      object: "chat.completion.chunk",
      created: CTX.created,
      model: CTX.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    },
  };
}

const ROLE = chunk({ role: "assistant", content: "" });

/** The usage chunk for Anthropic usage numbers (the mapping itself is tested below). */
function usageChunk(usage: {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}): StreamItem {
  return {
    type: "chunk",
    chunk: {
      id: CTX.id,
      object: "chat.completion.chunk",
      created: CTX.created,
      model: CTX.model,
      choices: [],
      usage: fromAnthropicUsage({
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        ...usage,
      }),
    },
  };
}

const DONE: StreamItem = { type: "done" };

function errorOf(items: readonly StreamItem[]): GatewayError {
  const last = items.at(-1);
  assert.ok(last?.type === "error", `expected an error item last, got ${JSON.stringify(last)}`);
  return last.error;
}

/** Text, then two parallel tool calls in Anthropic blocks 1 and 2. */
const TEXT_AND_TOOLS: readonly SseEvent[] = [
  messageStart({ input_tokens: 472, output_tokens: 2 }),
  textStart(0),
  textDelta(0, "I'll check both cities."),
  blockStop(0),
  toolStart(1, "toolu_01A", "get_weather"),
  jsonDelta(1, ""),
  jsonDelta(1, '{"city": "Par'),
  jsonDelta(1, 'is"}'),
  blockStop(1),
  toolStart(2, "toolu_01B", "get_weather"),
  jsonDelta(2, ""),
  jsonDelta(2, '{"city": '),
  PING,
  jsonDelta(2, '"Tokyo"}'),
  blockStop(2),
  messageDelta("tool_use", { output_tokens: 89 }),
  MESSAGE_STOP,
];

Deno.test("anthropicStream() translates a text-only stream", () => {
  const items = run([
    messageStart({ input_tokens: 25, output_tokens: 1 }),
    textStart(0),
    PING,
    textDelta(0, "Hello"),
    textDelta(0, "!"),
    blockStop(0),
    messageDelta("end_turn", { output_tokens: 15 }),
    MESSAGE_STOP,
  ]);
  assert.deepEqual(items, [
    ROLE,
    chunk({ content: "Hello" }),
    chunk({ content: "!" }),
    chunk({}, "stop"),
    usageChunk({ input_tokens: 25, output_tokens: 15 }),
    DONE,
  ]);
});

Deno.test("anthropicStream() numbers tool calls densely, not by Anthropic's block index", () => {
  assert.deepEqual(run(TEXT_AND_TOOLS), [
    ROLE,
    chunk({ content: "I'll check both cities." }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "toolu_01A",
        type: "function",
        function: { name: "get_weather", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Par' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: 'is"}' } }] }),
    chunk({
      tool_calls: [{
        index: 1,
        id: "toolu_01B",
        type: "function",
        function: { name: "get_weather", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city": ' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: '"Tokyo"}' } }] }),
    chunk({}, "tool_calls"),
    usageChunk({ input_tokens: 472, output_tokens: 89 }),
    DONE,
  ]);
});

Deno.test("anthropicStream() tool-call arguments join into the tool's JSON input", () => {
  const calls = new Map<number, { id?: unknown; name?: unknown; arguments: string }>();
  for (const item of run(TEXT_AND_TOOLS)) {
    if (item.type !== "chunk") continue;
    const choice = (item.chunk.choices as { delta: { tool_calls?: unknown[] } }[])[0];
    for (const raw of choice?.delta.tool_calls ?? []) {
      const call = raw as { index: number; id?: string; function: Record<string, string> };
      const entry = calls.get(call.index) ?? { arguments: "" };
      if (call.id !== undefined) entry.id = call.id;
      if (call.function.name !== undefined) entry.name = call.function.name;
      entry.arguments += call.function.arguments ?? "";
      calls.set(call.index, entry);
    }
  }
  assert.deepEqual([...calls.keys()], [0, 1]);
  assert.deepEqual(
    [...calls.values()].map((call) => [call.id, call.name, JSON.parse(call.arguments)]),
    [["toolu_01A", "get_weather", { city: "Paris" }], ["toolu_01B", "get_weather", {
      city: "Tokyo",
    }]],
  );
});

Deno.test("anthropicStream() handles tool_use input fragments", async (t) => {
  const cases: {
    name: string;
    fragments: string[];
    expected: string[];
  }[] = [
    {
      name: "an empty first fragment is skipped",
      fragments: ["", '{"q":', '"x"}'],
      expected: [
        '{"q":',
        '"x"}',
      ],
    },
    {
      name: "empty fragments anywhere are skipped",
      fragments: ['{"q":', "", '"x"}', ""],
      expected: [
        '{"q":',
        '"x"}',
      ],
    },
    { name: "a tool without parameters gets {} at block stop", fragments: [""], expected: ["{}"] },
    {
      name: "a tool with no fragment at all gets {} at block stop",
      fragments: [],
      expected: [
        "{}",
      ],
    },
  ];
  for (const { name, fragments, expected } of cases) {
    await t.step(name, () => {
      const items = run([
        messageStart(),
        toolStart(0, "toolu_X", "now"),
        ...fragments.map((fragment) => jsonDelta(0, fragment)),
        blockStop(0),
        messageDelta("tool_use"),
        MESSAGE_STOP,
      ]);
      assert.deepEqual(items, [
        ROLE,
        chunk({
          tool_calls: [{
            index: 0,
            id: "toolu_X",
            type: "function",
            function: { name: "now", arguments: "" },
          }],
        }),
        ...expected.map((piece) =>
          chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] })
        ),
        chunk({}, "tool_calls"),
        usageChunk({ input_tokens: 12, output_tokens: 5 }),
        DONE,
      ]);
    });
  }
});

Deno.test("anthropicStream() ignores pings anywhere", () => {
  const without = run(TEXT_AND_TOOLS);
  const everywhere = TEXT_AND_TOOLS.flatMap((event) => [PING, event]).concat(PING);
  assert.deepEqual(run(everywhere), without);
  // A ping's data is not read: even one that is not JSON is ignored.
  assert.deepEqual(run([{ event: "ping", data: "" }, ...TEXT_AND_TOOLS]), without);
});

Deno.test("anthropicStream() maps every stop reason to a finish reason", async (t) => {
  const table: [string, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["pause_turn", "stop"],
    ["refusal", "content_filter"],
    ["model_context_window_exceeded", "length"],
  ];
  for (const [stopReason, finishReason] of table) {
    await t.step(`${stopReason} → ${finishReason}`, () => {
      const items = run([
        messageStart(),
        textStart(0),
        textDelta(0, "x"),
        blockStop(0),
        messageDelta(stopReason),
        MESSAGE_STOP,
      ]);
      assert.deepEqual(items.slice(2, 3), [chunk({}, finishReason)]);
      assert.equal(items.length, 5);
    });
  }
});

Deno.test("anthropicStream() counts cache tokens in the prompt and output once", async (t) => {
  const start = {
    input_tokens: 10,
    cache_creation_input_tokens: 200,
    cache_read_input_tokens: 3000,
    output_tokens: 1,
  };
  const cases: { name: string; deltas: Record<string, unknown>[] }[] = [
    { name: "message_delta with output_tokens only", deltas: [{ output_tokens: 42 }] },
    {
      name: "message_delta repeating the cumulative input counts",
      deltas: [{
        input_tokens: 10,
        cache_creation_input_tokens: 200,
        cache_read_input_tokens: 3000,
        output_tokens: 42,
      }],
    },
    {
      name: "message_delta with null input counts",
      deltas: [{
        input_tokens: null,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
        output_tokens: 42,
      }],
    },
    {
      name: "two message_delta events: the last total wins, one finish chunk",
      deltas: [{ output_tokens: 20 }, { output_tokens: 42 }],
    },
  ];
  for (const { name, deltas } of cases) {
    await t.step(name, () => {
      const items = run([
        messageStart(start),
        textStart(0),
        textDelta(0, "cached"),
        blockStop(0),
        ...deltas.map((usage) => messageDelta("end_turn", usage)),
        MESSAGE_STOP,
      ]);
      assert.deepEqual(items, [
        ROLE,
        chunk({ content: "cached" }),
        chunk({}, "stop"),
        usageChunk({ ...start, output_tokens: 42 }),
        DONE,
      ]);
      const usageItem = items[3];
      assert.ok(usageItem?.type === "chunk");
      const usage = usageItem.chunk.usage as Record<string, unknown>;
      assert.equal(usage.prompt_tokens, 3210);
      assert.equal(usage.completion_tokens, 42);
      assert.equal(usage.total_tokens, 3252);
      assert.deepEqual(
        (usage.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens,
        3000,
      );
    });
  }
});

Deno.test("anthropicStream() turns an error event mid-stream into an error item", () => {
  const data = {
    type: "error",
    error: { type: "overloaded_error", message: "Overloaded" },
  };
  const items = run([
    messageStart(),
    textStart(0),
    textDelta(0, "Par"),
    { event: "error", data: JSON.stringify(data) },
    // Whatever follows an error is not translated.
    textDelta(0, "tial"),
    messageDelta("end_turn"),
    MESSAGE_STOP,
  ]);
  assert.equal(items.length, 3);
  assert.deepEqual(items.slice(0, 2), [ROLE, chunk({ content: "Par" })]);
  const error = errorOf(items);
  assert.ok(error instanceof GatewayError);
  assert.deepEqual(error.toJSON(), fromAnthropicStreamError(data).toJSON());
  assert.equal(error.status, fromAnthropicStreamError(data).status);
  assert.match(error.message, /Overloaded/);
});

Deno.test("anthropicStream() ignores unknown events, blocks and deltas", () => {
  const items = run([
    ev("brand_new_event", { payload: [1, 2, 3] }),
    messageStart(),
    ev("content_block_start", {
      index: 0,
      content_block: { type: "thinking", thinking: "", signature: "" },
    }),
    ev("content_block_delta", {
      index: 0,
      delta: { type: "thinking_delta", thinking: "Let me think" },
    }),
    ev("content_block_delta", { index: 0, delta: { type: "signature_delta", signature: "EqQ=" } }),
    blockStop(0),
    textStart(1),
    textDelta(1, "Answer"),
    ev("content_block_delta", {
      index: 1,
      delta: { type: "citations_delta", citation: { type: "char_location", cited_text: "x" } },
    }),
    ev("content_block_delta", { index: 1, delta: { type: "future_delta", value: 1 } }),
    blockStop(1),
    ev("content_block_start", {
      index: 2,
      content_block: { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} },
    }),
    blockStop(2),
    ev("another_new_event"),
    messageDelta("end_turn"),
    MESSAGE_STOP,
  ]);
  assert.deepEqual(items, [
    ROLE,
    chunk({ content: "Answer" }),
    chunk({}, "stop"),
    usageChunk({ input_tokens: 12, output_tokens: 5 }),
    DONE,
  ]);
});

Deno.test("anthropicStream() reads the type from the data when the event has no name", () => {
  const unnamed = TEXT_AND_TOOLS.map((event) => ({ data: event.data }));
  assert.deepEqual(run(unnamed), run(TEXT_AND_TOOLS));
});

Deno.test("anthropicStream() fails the stream on data it cannot read", async (t) => {
  const cases: { name: string; event: SseEvent }[] = [
    { name: "data that is not JSON", event: { event: "content_block_delta", data: "{not json" } },
    { name: "JSON that is not an object", event: { event: "message_delta", data: "[1,2]" } },
    { name: "an unnamed event that is not JSON", event: { data: "oops" } },
    { name: "input_json_delta for a block that is no tool_use", event: jsonDelta(0, '{"a":1}') },
    {
      name: "text_delta without text",
      event: ev("content_block_delta", { index: 0, delta: { type: "text_delta" } }),
    },
    {
      name: "tool_use block without a name",
      event: ev("content_block_start", {
        index: 1,
        content_block: { type: "tool_use", id: "toolu_1", input: {} },
      }),
    },
  ];
  for (const { name, event } of cases) {
    await t.step(name, () => {
      const items = run([
        messageStart(),
        textStart(0),
        textDelta(0, "a"),
        event,
        textDelta(0, "b"),
        MESSAGE_STOP,
      ]);
      assert.deepEqual(items.slice(0, 2), [ROLE, chunk({ content: "a" })]);
      assert.equal(items.length, 3);
      const error = errorOf(items);
      assert.equal(error.status, 502);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, "upstream_error");
    });
  }
});

Deno.test("anthropicStream() emits nothing more when the body ends without message_stop", () => {
  const items = run([
    messageStart(),
    textStart(0),
    textDelta(0, "cut"),
    blockStop(0),
    messageDelta("end_turn"),
  ]);
  assert.deepEqual(items, [ROLE, chunk({ content: "cut" }), chunk({}, "stop")]);
  assert.deepEqual(run([]), []);
});

Deno.test("anthropicStream() items become the client's SSE, usage chunk only when asked", async (t) => {
  const events = [
    messageStart({ input_tokens: 7, cache_read_input_tokens: 3, output_tokens: 1 }),
    PING,
    textStart(0),
    textDelta(0, "Hi"),
    blockStop(0),
    toolStart(1, "toolu_Z", "lookup"),
    jsonDelta(1, ""),
    jsonDelta(1, '{"k":1}'),
    blockStop(1),
    messageDelta("tool_use", { output_tokens: 9 }),
    MESSAGE_STOP,
  ];
  const base = {
    id: CTX.id,
    object: "chat.completion.chunk",
    created: CTX.created,
    model: CTX.model,
  };
  const choice = (delta: unknown, finish_reason: string | null = null) =>
    JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }] });
  const choiceEvents = [
    choice({ role: "assistant", content: "" }),
    choice({ content: "Hi" }),
    choice({
      tool_calls: [{
        index: 0,
        id: "toolu_Z",
        type: "function",
        function: { name: "lookup", arguments: "" },
      }],
    }),
    choice({ tool_calls: [{ index: 0, function: { arguments: '{"k":1}' } }] }),
    choice({}, "tool_calls"),
  ];
  const usage = fromAnthropicUsage({
    input_tokens: 7,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 3,
    output_tokens: 9,
  });
  for (const includeUsage of [true, false]) {
    await t.step(`include_usage ${includeUsage}`, () => {
      const writer = createSseWriter(includeUsage);
      for (const item of run(events)) writer.push(item);
      const text = writer.take();
      const expected = [
        ...choiceEvents,
        ...(includeUsage ? [JSON.stringify({ ...base, choices: [], usage })] : []),
        "[DONE]",
      ];
      assert.equal(text, expected.map((data) => `data: ${data}\n\n`).join(""));
      assert.ok(text.endsWith("data: [DONE]\n\n"));
      assert.equal(text.includes('"usage"'), includeUsage);
      assert.equal(writer.finished, true);
      assert.equal(writer.error, undefined);
      // The writer records the usage either way (for usage logs).
      assert.equal(writer.usage?.prompt_tokens, 10);
      assert.equal(writer.usage?.completion_tokens, 9);
      assert.equal(writer.usage?.total_tokens, 19);
    });
  }
});

Deno.test("anthropicStream() a mid-stream error reaches the client as an error event, no [DONE]", () => {
  const data = { type: "error", error: { type: "api_error", message: "Internal server error" } };
  const writer = createSseWriter(true);
  const items = run([
    messageStart(),
    textStart(0),
    textDelta(0, "Hel"),
    { event: "error", data: JSON.stringify(data) },
  ]);
  for (const item of items) writer.push(item);
  const text = writer.take();
  const events = text.split("\n\n").slice(0, -1);
  assert.equal(events.length, 3);
  assert.deepEqual(
    JSON.parse(events[2]?.slice("data: ".length) ?? ""),
    fromAnthropicStreamError(data).toJSON(),
  );
  assert.ok(!text.includes("[DONE]"));
  assert.equal(writer.finished, true);
  assert.ok(writer.error instanceof GatewayError);
});
