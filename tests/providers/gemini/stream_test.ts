import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import { fromGeminiStreamError } from "../../../src/providers/gemini/error.ts";
import { fromGeminiUsage } from "../../../src/providers/gemini/finish_reason.ts";
import { geminiStream } from "../../../src/providers/gemini/stream.ts";
import { decodeToolCallId, encodeToolCallId } from "../../../src/providers/gemini/tool_ids.ts";
import type { StreamItem, TranslationContext } from "../../../src/providers/mod.ts";
import { createSseDecoder, type SseEvent } from "../../../src/sse.ts";
import { createSseWriter } from "../../../src/streaming/client_stream.ts";

const CTX: TranslationContext = {
  id: "chatcmpl-test",
  created: 1_760_000_000,
  model: "gemini-2.5-flash",
};

/** The id base the translator mints from `CTX.id` for call `k` of candidate `candidate`. */
function baseId(candidate: number, k: number): string {
  return `call_test_${candidate}_${k}`;
}

type Json = Record<string, unknown>;

/** One SSE event whose data is `body` as JSON. */
function ev(body: unknown): SseEvent {
  return { data: JSON.stringify(body) };
}

const USAGE_1 = { promptTokenCount: 8, candidatesTokenCount: 1, totalTokenCount: 9 };
const USAGE_2 = { promptTokenCount: 8, candidatesTokenCount: 4, totalTokenCount: 12 };

/** A `GenerateContentResponse` with one candidate (index 0 left out, as proto3 JSON does). */
function resp(parts: readonly Json[], finishReason?: string, usageMetadata: Json = USAGE_1): Json {
  const candidate: Json = { content: { role: "model", parts } };
  if (finishReason !== undefined) candidate.finishReason = finishReason;
  return {
    candidates: [candidate],
    usageMetadata,
    modelVersion: "gemini-2.5-flash",
    responseId: "mSpxaKmUM6KP2McPrOH_4AI",
  };
}

function call(name: string, args: Json, thoughtSignature?: string): Json {
  return thoughtSignature === undefined
    ? { functionCall: { name, args } }
    : { functionCall: { name, args }, thoughtSignature };
}

/** Runs events through a fresh translator, then ends the body, collecting what it emits. */
function run(events: readonly SseEvent[]): StreamItem[] {
  const translator = geminiStream(CTX);
  const items: StreamItem[] = [];
  const emit = (item: StreamItem) => {
    items.push(item);
  };
  for (const event of events) translator.event(event, emit);
  translator.end(emit);
  return items;
}

/** The one-choice chunk item the translator must produce. */
function chunk(delta: Json, finishReason: string | null = null, index = 0): StreamItem {
  return {
    type: "chunk",
    chunk: {
      id: CTX.id,
      object: "chat.completion.chunk",
      created: CTX.created,
      model: CTX.model,
      choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    },
  };
}

const ROLE: Json = { role: "assistant", content: "" };

function usageItem(usage: object): StreamItem {
  return {
    type: "chunk",
    chunk: {
      id: CTX.id,
      object: "chat.completion.chunk",
      created: CTX.created,
      model: CTX.model,
      choices: [],
      usage,
    },
  };
}

const DONE: StreamItem = { type: "done" };

function toolDelta(index: number, id: string, name: string, args: string): Json {
  return { tool_calls: [{ index, id, type: "function", function: { name, arguments: args } }] };
}

interface ToolCallDelta {
  index: number;
  id: string;
  type: string;
  function: Json;
}

/** The `tool_calls` of a one-choice chunk item (none for other items). */
function toolCallsOf(item: StreamItem): ToolCallDelta[] {
  if (item.type !== "chunk") return [];
  const choices = item.chunk.choices as { delta: { tool_calls?: ToolCallDelta[] } }[];
  assert.equal(choices.length <= 1, true);
  return choices[0]?.delta.tool_calls ?? [];
}

/** The single error item of `items`, checked to be the last one. */
function lastError(items: readonly StreamItem[]): GatewayError {
  const last = items.at(-1);
  assert.equal(last?.type, "error");
  assert.equal(items.filter((item) => item.type === "error").length, 1);
  assert.ok(!items.some((item) => item.type === "done"));
  return (last as { error: GatewayError }).error;
}

Deno.test("geminiStream() text in several chunks: role first, one delta per chunk, stop", () => {
  const items = run([
    ev(resp([{ text: "Hel" }])),
    ev(resp([{ text: "lo" }])),
    ev(resp([{ text: " world" }], "STOP", USAGE_2)),
  ]);
  assert.deepEqual(items, [
    chunk(ROLE),
    chunk({ content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({ content: " world" }),
    chunk({}, "stop"),
    usageItem(fromGeminiUsage(USAGE_2)),
    DONE,
  ]);
});

Deno.test("geminiStream() consecutive text parts of one event become one delta; empty texts are skipped", () => {
  const items = run([
    ev(resp([{ text: "" }])),
    ev(resp([{ text: "a" }, { text: "" }, { text: "b" }], "STOP")),
  ]);
  assert.deepEqual(items, [
    chunk(ROLE),
    chunk({ content: "ab" }),
    chunk({}, "stop"),
    usageItem(fromGeminiUsage(USAGE_1)),
    DONE,
  ]);
});

Deno.test("geminiStream() a functionCall, then a STOP in a later chunk with an empty text part → tool_calls", () => {
  const items = run([
    ev(resp([call("get_weather", { city: "Paris" })])),
    ev(resp([{ text: "" }], "STOP", USAGE_2)),
  ]);
  assert.deepEqual(items, [
    chunk(ROLE),
    chunk(toolDelta(0, encodeToolCallId(baseId(0, 0)), "get_weather", '{"city":"Paris"}')),
    chunk({}, "tool_calls"),
    usageItem(fromGeminiUsage(USAGE_2)),
    DONE,
  ]);
});

Deno.test("geminiStream() two parallel functionCalls in one chunk: indexes 0 and 1, distinct ids", () => {
  const items = run([
    ev(resp([{ text: "Checking both." }])),
    ev(resp(
      [call("get_weather", { city: "Paris" }), call("get_time", { zone: "CET", exact: true })],
      "STOP",
    )),
  ]);
  assert.deepEqual(items.slice(0, 2), [chunk(ROLE), chunk({ content: "Checking both." })]);
  const calls = items.slice(2, 4).map((item) => {
    const deltas = toolCallsOf(item);
    assert.equal(deltas.length, 1);
    return deltas[0] as ToolCallDelta;
  });
  assert.deepEqual(calls.map((c) => c.index), [0, 1]);
  assert.deepEqual(calls.map((c) => c.type), ["function", "function"]);
  assert.deepEqual(calls.map((c) => c.function), [
    { name: "get_weather", arguments: '{"city":"Paris"}' },
    { name: "get_time", arguments: '{"zone":"CET","exact":true}' },
  ]);
  assert.notEqual(calls[0]?.id, calls[1]?.id);
  assert.ok(calls.every((c) => typeof c.id === "string" && c.id.length > 0));
  assert.deepEqual(items.slice(4), [
    chunk({}, "tool_calls"),
    usageItem(fromGeminiUsage(USAGE_1)),
    DONE,
  ]);
});

Deno.test("geminiStream() call indexes stay dense across chunks; missing args become {}", () => {
  const items = run([
    ev(resp([call("a", { x: 1 })])),
    ev(resp([{ functionCall: { name: "b" } }])),
    ev(resp([{ text: "" }], "STOP")),
  ]);
  assert.deepEqual(items.slice(0, 4), [
    chunk(ROLE),
    chunk(toolDelta(0, encodeToolCallId(baseId(0, 0)), "a", '{"x":1}')),
    chunk(toolDelta(1, encodeToolCallId(baseId(0, 1)), "b", "{}")),
    chunk({}, "tool_calls"),
  ]);
});

Deno.test("geminiStream() a functionCall's thoughtSignature is carried in its id", async (t) => {
  const signature = "CiQBVKhc7hB0gDyU/+3kx2pLg9nPwFQ==";
  const items = run([
    ev(resp([call("get_weather", { city: "Paris" }, signature), call("get_time", {})], "STOP")),
  ]);
  const ids = items.flatMap((item) => toolCallsOf(item).map((c) => c.id));
  assert.equal(ids.length, 2);
  await t.step("the signed call's id is encodeToolCallId(base, signature)", () => {
    assert.equal(ids[0], encodeToolCallId(baseId(0, 0), signature));
    assert.notEqual(ids[0], encodeToolCallId(baseId(0, 0)));
  });
  await t.step("the unsigned call (Gemini signs only the first parallel call) has none", () => {
    assert.equal(ids[1], encodeToolCallId(baseId(0, 1)));
  });
  await t.step("decodeToolCallId gives the base and the signature back", () => {
    assert.deepEqual(decodeToolCallId(ids[0] ?? ""), { base: baseId(0, 0), signature });
    assert.deepEqual(decodeToolCallId(ids[1] ?? ""), { base: baseId(0, 1) });
  });
});

Deno.test("geminiStream() thought parts become reasoning_content deltas, in order", () => {
  const items = run([
    ev(resp([{ text: "**Planning** the answer", thought: true }])),
    ev(resp([
      { text: "more ", thought: true },
      { text: "thinking", thought: true },
      { text: "", thought: true, thoughtSignature: "c2ln" },
      { text: "Answer" },
    ])),
    ev(resp([{ text: "." }], "STOP")),
  ]);
  assert.deepEqual(items, [
    chunk(ROLE),
    chunk({ reasoning_content: "**Planning** the answer" }),
    chunk({ reasoning_content: "more thinking" }),
    chunk({ content: "Answer" }),
    chunk({ content: "." }),
    chunk({}, "stop"),
    usageItem(fromGeminiUsage(USAGE_1)),
    DONE,
  ]);
});

Deno.test("geminiStream() a thought before a functionCall keeps the call's signature", () => {
  const items = run([
    ev(resp([{ text: "I need the weather.", thought: true }, call("f", {}, "c2ln")], "STOP")),
  ]);
  assert.deepEqual(items.slice(0, 3), [
    chunk(ROLE),
    chunk({ reasoning_content: "I need the weather." }),
    chunk(toolDelta(0, encodeToolCallId(baseId(0, 0), "c2ln"), "f", "{}")),
  ]);
  assert.deepEqual(items[3], chunk({}, "tool_calls"));
});

Deno.test("geminiStream() finishReason → finish_reason (T30)", async (t) => {
  const table: [string, string][] = [
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["SPII", "content_filter"],
  ];
  for (const [reason, expected] of table) {
    await t.step(`${reason} → ${expected}`, () => {
      const items = run([ev(resp([{ text: "Some" }])), ev(resp([], reason))]);
      assert.deepEqual(items, [
        chunk(ROLE),
        chunk({ content: "Some" }),
        chunk({}, expected),
        usageItem(fromGeminiUsage(USAGE_1)),
        DONE,
      ]);
    });
  }
  await t.step("a candidate with only a finishReason still gets its role chunk", () => {
    const items = run([ev({ candidates: [{ finishReason: "SAFETY", index: 0 }] })]);
    assert.deepEqual(items, [chunk(ROLE), chunk({}, "content_filter"), DONE]);
  });
  await t.step("the finish is sent once; later parts of a finished candidate are dropped", () => {
    const items = run([ev(resp([{ text: "x" }], "STOP")), ev(resp([{ text: "y" }], "STOP"))]);
    assert.deepEqual(items, [
      chunk(ROLE),
      chunk({ content: "x" }),
      chunk({}, "stop"),
      usageItem(fromGeminiUsage(USAGE_1)),
      DONE,
    ]);
  });
});

Deno.test("geminiStream() usage on every chunk → one usage item at the end, with the last values", () => {
  const last = {
    promptTokenCount: 11,
    candidatesTokenCount: 7,
    thoughtsTokenCount: 20,
    totalTokenCount: 38,
  };
  const items = run([
    ev(resp([{ text: "a" }], undefined, { promptTokenCount: 11, totalTokenCount: 11 })),
    ev(resp([{ text: "b" }], undefined, { ...USAGE_1, promptTokenCount: 11 })),
    ev(resp([{ text: "c" }], "STOP", last)),
  ]);
  const usages = items.filter((item) =>
    item.type === "chunk" && Array.isArray(item.chunk.choices) &&
    item.chunk.choices.length === 0
  );
  assert.deepEqual(usages, [usageItem(fromGeminiUsage(last))]);
  assert.deepEqual(items.slice(-2), [usageItem(fromGeminiUsage(last)), DONE]);
  const usage = (usages[0] as unknown as { chunk: { usage: Json } }).chunk.usage;
  assert.equal(usage.prompt_tokens, 11);
  assert.equal(usage.completion_tokens, 27); // candidates 7 + thoughts 20 (T31)
  assert.equal(usage.total_tokens, 38);
  // No chunk but the last carries usage.
  assert.ok(items.slice(0, -2).every((item) => item.type === "chunk" && !("usage" in item.chunk)));
});

Deno.test("geminiStream() no usageMetadata at all → no usage item", () => {
  const items = run([ev({ candidates: [{ content: { parts: [{ text: "hi" }] } }] })]);
  assert.deepEqual(items, [chunk(ROLE), chunk({ content: "hi" }), chunk({}, "stop"), DONE]);
});

Deno.test("geminiStream() an error object mid-stream → an error item, nothing after it", () => {
  const body = {
    error: {
      code: 503,
      message: "The model is overloaded. Please try again later.",
      status: "UNAVAILABLE",
    },
  };
  const items = run([
    ev(resp([{ text: "Hel" }])),
    ev(body),
    ev(resp([{ text: "lo" }], "STOP")),
  ]);
  assert.deepEqual(items.slice(0, 2), [chunk(ROLE), chunk({ content: "Hel" })]);
  assert.equal(items.length, 3);
  const error = lastError(items);
  const expected = fromGeminiStreamError(body);
  assert.ok(error instanceof GatewayError);
  assert.equal(error.status, expected.status);
  assert.deepEqual(error.toJSON(), expected.toJSON());
  assert.ok(error.status >= 500);
});

Deno.test("geminiStream() data that is not a JSON object, or breaks the API's types → 502", async (t) => {
  const table: [string, string][] = [
    ["not JSON", "not json at all"],
    ["truncated JSON", '{"candidates":[{"content":'],
    ["a JSON array", "[]"],
    ["a JSON string", '"hello"'],
    ["JSON null", "null"],
    ["candidates not a list", '{"candidates":{"content":{}}}'],
    ["a candidate not an object", '{"candidates":[7]}'],
    ["a negative candidate index", '{"candidates":[{"index":-1}]}'],
    ["parts not a list", '{"candidates":[{"content":{"parts":"x"}}]}'],
    ["a text part that is not a string", '{"candidates":[{"content":{"parts":[{"text":3}]}}]}'],
    [
      "a functionCall without a name",
      '{"candidates":[{"content":{"parts":[{"functionCall":{}}]}}]}',
    ],
    [
      "functionCall args that are not an object",
      '{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":[1]}}]}}]}',
    ],
  ];
  for (const [name, data] of table) {
    await t.step(name, () => {
      const items = run([ev(resp([{ text: "ok" }])), { data }, ev(resp([{ text: "x" }], "STOP"))]);
      const error = lastError(items);
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_error");
      assert.ok(/gemini/i.test(error.message));
    });
  }
});

Deno.test("geminiStream() end() without any finishReason closes every candidate", async (t) => {
  await t.step("text only → stop", () => {
    const items = run([ev(resp([{ text: "partial" }]))]);
    assert.deepEqual(items, [
      chunk(ROLE),
      chunk({ content: "partial" }),
      chunk({}, "stop"),
      usageItem(fromGeminiUsage(USAGE_1)),
      DONE,
    ]);
  });
  await t.step("a function call → tool_calls", () => {
    const items = run([ev(resp([call("f", {})]))]);
    assert.deepEqual(items, [
      chunk(ROLE),
      chunk(toolDelta(0, encodeToolCallId(baseId(0, 0)), "f", "{}")),
      chunk({}, "tool_calls"),
      usageItem(fromGeminiUsage(USAGE_1)),
      DONE,
    ]);
  });
  await t.step("events without candidates → choice 0 still gets a role and a stop", () => {
    const items = run([ev({ usageMetadata: USAGE_1 })]);
    assert.deepEqual(items, [
      chunk(ROLE),
      chunk({}, "stop"),
      usageItem(fromGeminiUsage(USAGE_1)),
      DONE,
    ]);
  });
  await t.step("an empty body → nothing (the writer reports the early end)", () => {
    assert.deepEqual(run([]), []);
  });
});

Deno.test("geminiStream() a blocked prompt (no candidates) → content_filter", () => {
  const usage = { promptTokenCount: 9, totalTokenCount: 9 };
  const items = run([
    ev({
      promptFeedback: {
        blockReason: "PROHIBITED_CONTENT",
        safetyRatings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH" }],
      },
      usageMetadata: usage,
      modelVersion: "gemini-2.5-flash",
    }),
  ]);
  assert.deepEqual(items, [
    chunk(ROLE),
    chunk({}, "content_filter"),
    usageItem(fromGeminiUsage(usage)),
    DONE,
  ]);
});

Deno.test("geminiStream() two candidates (n=2) become choices 0 and 1, each with its own state", () => {
  const items = run([
    ev({
      candidates: [
        { content: { role: "model", parts: [{ text: "A" }] } },
        { content: { role: "model", parts: [call("f", { n: 1 })] }, index: 1 },
      ],
    }),
    ev({
      candidates: [
        { content: { role: "model", parts: [{ text: "" }] }, finishReason: "STOP", index: 1 },
      ],
    }),
    ev({ candidates: [{ content: { role: "model", parts: [{ text: "B" }] } }] }),
  ]);
  assert.deepEqual(items, [
    chunk(ROLE, null, 0),
    chunk({ content: "A" }, null, 0),
    chunk(ROLE, null, 1),
    chunk(toolDelta(0, encodeToolCallId(baseId(1, 0)), "f", '{"n":1}'), null, 1),
    chunk({}, "tool_calls", 1),
    chunk({ content: "B" }, null, 0),
    chunk({}, "stop", 0), // from end(): candidate 0 never got a finishReason
    DONE,
  ]);
});

Deno.test("geminiStream() decodes Google's CRLF-framed SSE body through createSseDecoder", () => {
  const body = [
    `data: ${JSON.stringify(resp([{ text: "Hi" }]))}\r\n\r\n`,
    `data: ${JSON.stringify(resp([{ text: " there" }], "STOP", USAGE_2))}\r\n\r\n`,
  ].join("");
  const translator = geminiStream(CTX);
  const items: StreamItem[] = [];
  const emit = (item: StreamItem) => {
    items.push(item);
  };
  const decoder = createSseDecoder((event) => translator.event(event, emit), assert.fail);
  const bytes = new TextEncoder().encode(body);
  // Split mid-CRLF to make sure framing across reads works too.
  const cut = body.indexOf("\r\n\r\n") + 1;
  decoder.feed(bytes.slice(0, cut));
  decoder.feed(bytes.slice(cut));
  decoder.end();
  translator.end(emit);
  assert.deepEqual(items, [
    chunk(ROLE),
    chunk({ content: "Hi" }),
    chunk({ content: " there" }),
    chunk({}, "stop"),
    usageItem(fromGeminiUsage(USAGE_2)),
    DONE,
  ]);
});

Deno.test("geminiStream() through createSseWriter: [DONE] last, usage chunk only when asked", async (t) => {
  const events = [
    ev(resp([{ text: "Hello" }], undefined, USAGE_1)),
    ev(resp([{ text: "!" }], "STOP", USAGE_2)),
  ];
  const base = {
    id: CTX.id,
    object: "chat.completion.chunk",
    created: CTX.created,
    model: CTX.model,
  };
  const choice = (delta: Json, finish: string | null) =>
    JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  const choiceEvents = [
    choice(ROLE, null),
    choice({ content: "Hello" }, null),
    choice({ content: "!" }, null),
    choice({}, "stop"),
  ];
  const usage = fromGeminiUsage(USAGE_2);
  for (const includeUsage of [true, false]) {
    await t.step(`includeUsage: ${includeUsage}`, () => {
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
      assert.equal(writer.usage?.prompt_tokens, 8);
      assert.equal(writer.usage?.completion_tokens, 4);
      assert.equal(writer.usage?.total_tokens, 12);
    });
  }
});

Deno.test("geminiStream() a mid-stream error reaches the client as an error event, no [DONE]", () => {
  const body = {
    error: { code: 500, message: "An internal error has occurred.", status: "INTERNAL" },
  };
  const writer = createSseWriter(true);
  for (const item of run([ev(resp([{ text: "Hel" }])), ev(body)])) writer.push(item);
  const text = writer.take();
  const events = text.split("\n\n").slice(0, -1);
  assert.equal(events.length, 3);
  assert.deepEqual(
    JSON.parse(events[2]?.slice("data: ".length) ?? ""),
    fromGeminiStreamError(body).toJSON(),
  );
  assert.ok(!text.includes("[DONE]"));
  assert.equal(writer.finished, true);
  assert.ok(writer.error instanceof GatewayError);
});
