import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import fc from "fast-check";
import { errors } from "../../../src/errors.ts";
import type { StreamItem } from "../../../src/providers/mod.ts";
import {
  createMessagesSseWriter,
  type MessagesStreamContext,
  pingEvent,
} from "../../../src/dialects/messages/stream.ts";
import { sdkStreamClient } from "./_sdk.ts";
import { delta, eventsOf, outline, toolPiece, usage } from "./_stream.ts";

const CTX: MessagesStreamContext = { id: "msg_01", model: "smart", inputTokens: 12 };

function render(items: readonly StreamItem[], ctx: MessagesStreamContext = CTX): string {
  const writer = createMessagesSseWriter(ctx);
  for (const item of items) writer.push(item);
  return writer.take();
}

/** What @anthropic-ai/sdk assembles from the stream. */
function finalMessage(sse: string): Promise<Anthropic.Message> {
  return sdkStreamClient(sse).messages.stream({
    model: "smart",
    max_tokens: 100,
    messages: [{ role: "user", content: "Hi" }],
  }).finalMessage();
}

const START = delta({ role: "assistant", content: "" });
const DONE: StreamItem = { type: "done" };

Deno.test("createMessagesSseWriter() writes Anthropic's exact events for a text answer", () => {
  const sse = render([
    START,
    delta({ content: "Hel" }),
    delta({ content: "lo" }),
    delta({}, "stop"),
    usage(12, 2),
    DONE,
  ]);
  const usageOut = {
    input_tokens: 12,
    output_tokens: 2,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  assert.deepEqual(eventsOf(sse), [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: {
          id: "msg_01",
          type: "message",
          role: "assistant",
          model: "smart",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usageOut, output_tokens: 0 },
        },
      },
    },
    {
      event: "content_block_start",
      data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
    },
    {
      event: "content_block_delta",
      data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
    },
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    {
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: usageOut,
      },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  ]);
});

Deno.test("createMessagesSseWriter() streams what @anthropic-ai/sdk assembles", async (t) => {
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
      "message_start",
      "content_block_start:0:thinking",
      "content_block_delta:0:thinking_delta",
      "content_block_delta:0:thinking_delta",
      "content_block_stop:0",
      "content_block_start:1:text",
      "content_block_delta:1:text_delta",
      "content_block_stop:1",
      "message_delta",
      "message_stop",
    ]);
    const message = await finalMessage(sse);
    assert.deepEqual(message.content, [
      { type: "thinking", thinking: "Let me think", signature: "" },
      { type: "text", text: "42" },
    ]);
    assert.equal(message.usage.output_tokens, 30);
  });
  await t.step("reasoning under OpenRouter's name", async () => {
    const sse = render([
      START,
      delta({ reasoning: "Hmm" }),
      delta({ content: "ok" }, "stop"),
      DONE,
    ]);
    const message = await finalMessage(sse);
    assert.equal(message.content[0]?.type, "thinking");
  });
  await t.step("text, then two tool calls sent one after the other (OpenAI)", async () => {
    const items = [
      START,
      delta({ content: "Checking both." }),
      toolPiece(0, "", "call_a", "get_weather"),
      toolPiece(0, '{"city":'),
      toolPiece(0, '"Paris"}'),
      toolPiece(1, "", "call_b", "get_weather"),
      toolPiece(1, '{"city":"Oslo"}'),
      delta({}, "tool_calls"),
      usage(50, 20),
      DONE,
    ];
    const writer = createMessagesSseWriter(CTX);
    const seen: string[][] = [];
    let sse = "";
    for (const item of items) {
      writer.push(item);
      const text = writer.take();
      sse += text;
      seen.push(outline(eventsOf(text)));
    }
    // The arguments go out as they arrive: the second call opens as soon as it starts.
    assert.deepEqual(seen[3], ["content_block_delta:1:input_json_delta"]);
    assert.deepEqual(seen[5], ["content_block_stop:1", "content_block_start:2:tool_use"]);
    assert.deepEqual(seen[6], ["content_block_delta:2:input_json_delta"]);
    const message = await finalMessage(sse);
    assert.deepEqual(message.content, [
      { type: "text", text: "Checking both." },
      { type: "tool_use", id: "call_a", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_b", name: "get_weather", input: { city: "Oslo" } },
    ]);
    assert.equal(message.stop_reason, "tool_use");
  });
  await t.step("two tool calls with interleaved argument pieces", async () => {
    const sse = render([
      START,
      toolPiece(0, "", "call_a", "read"),
      toolPiece(1, "", "call_b", "write"),
      toolPiece(0, '{"path":'),
      toolPiece(1, '{"path":"b.txt",'),
      toolPiece(0, '"a.txt"}'),
      toolPiece(1, '"text":"hi"}'),
      delta({}, "tool_calls"),
      usage(50, 20),
      DONE,
    ]);
    const events = eventsOf(sse);
    // The second call waits until the first one's JSON is complete: blocks never interleave.
    assert.deepEqual(outline(events), [
      "message_start",
      "content_block_start:0:tool_use",
      "content_block_delta:0:input_json_delta",
      "content_block_delta:0:input_json_delta",
      "content_block_stop:0",
      "content_block_start:1:tool_use",
      "content_block_delta:1:input_json_delta",
      "content_block_delta:1:input_json_delta",
      "content_block_stop:1",
      "message_delta",
      "message_stop",
    ]);
    const message = await finalMessage(sse);
    assert.deepEqual(message.content, [
      { type: "tool_use", id: "call_a", name: "read", input: { path: "a.txt" } },
      { type: "tool_use", id: "call_b", name: "write", input: { path: "b.txt", text: "hi" } },
    ]);
  });
  await t.step("a waiting call is sent whole at the finish", async () => {
    const sse = render([
      START,
      toolPiece(0, '{"a":', "call_a", "f"),
      toolPiece(1, '{"b":2}', "call_b", "g"),
      toolPiece(0, "1"),
      toolPiece(0, "}"),
      delta({}, "tool_calls"),
      DONE,
    ]);
    const message = await finalMessage(sse);
    assert.deepEqual(message.content, [
      { type: "tool_use", id: "call_a", name: "f", input: { a: 1 } },
      { type: "tool_use", id: "call_b", name: "g", input: { b: 2 } },
    ]);
  });
  await t.step("a tool call whose arguments come whole (Gemini)", async () => {
    const sse = render([
      START,
      toolPiece(0, '{"q":"x"}', "call_1", "search"),
      delta({}, "stop"),
      DONE,
    ]);
    const message = await finalMessage(sse);
    assert.deepEqual(message.content, [
      { type: "tool_use", id: "call_1", name: "search", input: { q: "x" } },
    ]);
    assert.equal(message.stop_reason, "tool_use");
  });
});

Deno.test("createMessagesSseWriter() reports usage and the stop reason at the end", async (t) => {
  await t.step(
    "usage after the finish chunk reaches message_delta; cache reads apart",
    () => {
      const writer = createMessagesSseWriter(CTX);
      writer.push(START);
      writer.push(delta({ content: "a" }, "stop"));
      assert.doesNotMatch(writer.take(), /message_delta/);
      writer.push(usage(100, 5, 60));
      writer.push(DONE);
      const events = eventsOf(writer.take());
      const messageDelta = events.find((e) => e.event === "message_delta");
      assert.deepEqual(messageDelta?.data.usage, {
        input_tokens: 40,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 60,
      });
      assert.deepEqual(writer.usage, {
        prompt_tokens: 100,
        completion_tokens: 5,
        total_tokens: 105,
        cache_read_tokens: 60,
      });
      assert.equal(writer.finished, true);
    },
  );
  await t.step("message_start carries the estimate; the SDK ends with the real count", async () => {
    const sse = render([START, delta({ content: "a" }, "stop"), usage(30, 1), DONE]);
    const start = eventsOf(sse)[0]?.data.message as { usage: { input_tokens: number } };
    assert.equal(start.usage.input_tokens, 12);
    assert.equal((await finalMessage(sse)).usage.input_tokens, 30);
  });
  const cases: [string, StreamItem[], string, string | null, MessagesStreamContext?][] = [
    ["length", [START, delta({ content: "a" }, "length")], "max_tokens", null],
    ["content_filter", [START, delta({}, "content_filter")], "refusal", null],
    ["a refusal", [START, delta({ refusal: "No." }), delta({}, "stop")], "refusal", null],
    [
      "a requested stop sequence at the end of the text",
      [
        START,
        delta({ content: "one EN" }),
        delta({ content: "D" }, "stop"),
      ],
      "stop_sequence",
      "END",
      { ...CTX, stopSequences: ["END"] },
    ],
    [
      "vLLM naming the stop sequence",
      [
        START,
        delta({ content: "one" }),
        {
          type: "chunk",
          chunk: { choices: [{ index: 0, delta: {}, finish_reason: "stop", stop_reason: "##" }] },
        },
      ],
      "stop_sequence",
      "##",
      { ...CTX, stopSequences: ["##"] },
    ],
    ["done without a finish reason", [START, delta({ content: "a" })], "end_turn", null],
  ];
  for (const [name, items, stopReason, stopSequence, ctx] of cases) {
    await t.step(name, async () => {
      const message = await finalMessage(render([...items, DONE], ctx));
      assert.equal(message.stop_reason, stopReason);
      assert.equal(message.stop_sequence, stopSequence);
    });
  }
  await t.step("done with nothing before it is still a whole message", async () => {
    const sse = render([DONE]);
    assert.deepEqual(outline(eventsOf(sse)), ["message_start", "message_delta", "message_stop"]);
    assert.deepEqual((await finalMessage(sse)).content, []);
  });
});

Deno.test("createMessagesSseWriter() reads raw items and skips chunks without a choice", async () => {
  const raw = (json: unknown): StreamItem => ({
    type: "raw",
    raw: JSON.stringify(json),
    nullUsage: true,
  });
  const sse = render([
    // Azure's first chunk: no choices, only prompt filter results.
    raw({ id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [] }),
    raw({ choices: [{ index: 0, delta: { role: "assistant", content: "" } }], usage: null }),
    raw({ choices: [{ index: 0, delta: { content: "raw text" } }], usage: null }),
    raw({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null }),
    DONE,
  ]);
  const message = await finalMessage(sse);
  assert.deepEqual(message.content, [{ type: "text", text: "raw text" }]);
});

Deno.test("createMessagesSseWriter() ends a failed stream with an error event", async (t) => {
  await t.step("midway: event error, nothing after, the SDK raises the error type", async () => {
    const writer = createMessagesSseWriter(CTX);
    writer.push(START);
    writer.push(delta({ content: "partial" }));
    writer.push({ type: "error", error: errors.upstreamOverloaded("openai: overloaded") });
    writer.push(delta({ content: "ignored" }));
    writer.push(DONE);
    const sse = writer.take();
    const events = eventsOf(sse);
    assert.deepEqual(events.at(-1), {
      event: "error",
      data: {
        type: "error",
        error: {
          type: "overloaded_error",
          message: "openai: overloaded",
          code: "upstream_overloaded",
        },
      },
    });
    assert.equal(events.filter((e) => e.event === "message_stop").length, 0);
    assert.equal(writer.finished, true);
    assert.equal(writer.hasData, true);
    assert.equal(writer.error?.code, "upstream_overloaded");
    await assert.rejects(finalMessage(sse), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.equal(error.type, "overloaded_error");
      return true;
    });
  });
  await t.step("before anything: no data, so the route can answer with a plain error", () => {
    const writer = createMessagesSseWriter(CTX);
    writer.push({ type: "error", error: errors.upstream("boom") });
    assert.equal(writer.finished, true);
    assert.equal(writer.hasData, false);
  });
  await t.step("more arguments for a call already complete", () => {
    const sse = render([
      START,
      toolPiece(0, "{}", "call_a", "f"),
      toolPiece(1, "{}", "call_b", "g"),
      toolPiece(0, "  "), // whitespace: ignored
      toolPiece(0, '{"x":1}'),
      DONE,
    ]);
    const last = eventsOf(sse).at(-1);
    assert.equal(last?.event, "error");
    assert.match(String((last?.data.error as { message: string }).message), /after they were/);
  });
  await t.step("a bad raw chunk", () => {
    const sse = render([{ type: "raw", raw: "not json", nullUsage: false }]);
    assert.equal(eventsOf(sse).at(-1)?.event, "error");
  });
});

Deno.test("pingEvent() is Anthropic's ping, which the SDK skips", async () => {
  assert.equal(pingEvent(), 'event: ping\ndata: {"type":"ping"}\n\n');
  const events = render([START, delta({ content: "a" }, "stop"), DONE]);
  const [first, ...rest] = events.split(/(?<=\n\n)/);
  const message = await finalMessage([first, pingEvent(), ...rest, pingEvent()].join(""));
  assert.deepEqual(message.content.map((block) => block.type), ["text"]);
});

Deno.test("createMessagesSseWriter() keeps every tool call whole however its pieces interleave", async () => {
  const input = fc.dictionary(
    fc.constantFrom("a", "city", "path", "text", "n"),
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)),
    { maxKeys: 3 },
  );
  const scenario = fc.record({
    inputs: fc.array(input, { minLength: 1, maxLength: 3 }),
    cuts: fc.array(fc.array(fc.nat(), { maxLength: 6 }), { minLength: 3, maxLength: 3 }),
    schedule: fc.array(fc.nat(2), { maxLength: 40 }),
    text: fc.string({ maxLength: 10 }),
  });
  await fc.assert(
    fc.asyncProperty(scenario, async ({ inputs, cuts, schedule, text }) => {
      // Each call's JSON cut into pieces; the pieces of all calls merged in a random order that
      // keeps each call's own order (as a provider that interleaves would send them).
      const queues = inputs.map((value, i) => {
        const json = JSON.stringify(value);
        const points = [...new Set((cuts[i] ?? []).map((n) => n % (json.length + 1)))].sort(
          (a, b) => a - b,
        );
        const pieces = [0, ...points, json.length].slice(1).map((end, k, all) =>
          json.slice(k === 0 ? 0 : all[k - 1], end)
        );
        return pieces.map((piece, k) =>
          k === 0 ? toolPiece(i, piece, `call_${i}`, `tool_${i}`) : toolPiece(i, piece)
        );
      });
      const items: StreamItem[] = [START];
      if (text !== "") items.push(delta({ content: text }));
      // Calls start in index order (OpenAI numbers them as they appear); then any may go on.
      let started = 0;
      const next = (want: number) => {
        const ready = (i: number) => i <= started && (queues[i]?.length ?? 0) > 0;
        const i = ready(want) ? want : queues.findIndex((_, k) => ready(k));
        if (i < 0) return undefined;
        if (i === started) started++;
        return queues[i]?.shift();
      };
      for (const want of schedule) {
        const item = next(want);
        if (item !== undefined) items.push(item);
      }
      for (let item = next(0); item !== undefined; item = next(0)) items.push(item);
      items.push(delta({}, "tool_calls"), usage(10, 5), DONE);
      const sse = render(items);
      // Blocks open and close one at a time, with consecutive indexes.
      let open: number | undefined;
      let expected = 0;
      for (const { event, data } of eventsOf(sse)) {
        if (event === "content_block_start") {
          assert.equal(open, undefined);
          assert.equal(data.index, expected++);
          open = data.index as number;
        } else if (event === "content_block_delta") assert.equal(data.index, open);
        else if (event === "content_block_stop") {
          assert.equal(data.index, open);
          open = undefined;
        }
      }
      const message = await finalMessage(sse);
      const tools = message.content.filter((block) => block.type === "tool_use");
      assert.deepEqual(
        tools.map((block) => ({ id: block.id, name: block.name, input: block.input })),
        inputs.map((value, i) => ({
          id: `call_${i}`,
          name: `tool_${i}`,
          input: JSON.parse(JSON.stringify(value)),
        })),
      );
    }),
    { numRuns: 150 },
  );
});
