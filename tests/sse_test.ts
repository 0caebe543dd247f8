import assert from "node:assert/strict";
import fc from "fast-check";
import { errors } from "../src/errors.ts";
import {
  createSseDecoder,
  MAX_EVENT_CHARS,
  SSE_DONE,
  sseData,
  sseError,
  type SseEvent,
} from "../src/sse.ts";

const encoder = new TextEncoder();

/** What a decoder delivered: `{event, data}` pairs, and the messages given to `onError`. */
interface Decoded {
  events: SseEvent[];
  errors: string[];
}

/**
 * Feeds SSE bytes to a new decoder in the given pieces, then ends the body unless told not to.
 */
function decode(
  pieces: readonly (string | Uint8Array)[],
  options: { end?: boolean } = {},
): Decoded {
  const decoded: Decoded = { events: [], errors: [] };
  const decoder = createSseDecoder(
    ({ event, data }) => decoded.events.push(event === undefined ? { data } : { event, data }),
    (message) => decoded.errors.push(message),
  );
  for (const piece of pieces) {
    decoder.feed(typeof piece === "string" ? encoder.encode(piece) : piece);
  }
  if (options.end ?? true) decoder.end();
  return decoded;
}

/** Splits bytes at the given offsets (sorted, deduplicated, within bounds). */
function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    pieces.push(bytes.slice(start, cut));
    start = cut;
  }
  return pieces;
}

Deno.test("createSseDecoder() frames events on LF, CRLF and CR", async (t) => {
  const cases: [string, string][] = [
    ["LF", "data: one\n\ndata: two\n\n"],
    ["CRLF", "data: one\r\n\r\ndata: two\r\n\r\n"],
    ["CR", "data: one\r\rdata: two\r\r"],
    ["mixed", "data: one\r\n\ndata: two\r\r\n"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      assert.deepEqual(decode([text]), { events: [{ data: "one" }, { data: "two" }], errors: [] });
    });
  }
});

Deno.test("createSseDecoder() parses fields like a browser EventSource", async (t) => {
  const cases: [string, string, SseEvent[]][] = [
    ["multi-line data", "data: a\ndata: b\ndata: c\n\n", [{ data: "a\nb\nc" }]],
    ["no space after the colon", 'data:{"a":1}\n\n', [{ data: '{"a":1}' }]],
    ["only one leading space removed", "data:  two spaces\n\n", [{ data: " two spaces" }]],
    ["empty data", "data:\n\n", [{ data: "" }]],
    [
      "event names",
      'event: error\ndata: {"error":{}}\n\nevent: message_stop\ndata: {}\n\n',
      [{ event: "error", data: '{"error":{}}' }, { event: "message_stop", data: "{}" }],
    ],
    ["event name does not carry over", "event: ping\ndata: 1\n\ndata: 2\n\n", [
      { event: "ping", data: "1" },
      { data: "2" },
    ]],
    ["comments ignored", ": keep-alive\n\n: OPENROUTER PROCESSING\ndata: x\n\n", [{ data: "x" }]],
    ["id and retry ignored", "id: 7\nretry: 1000\ndata: x\n\n", [{ data: "x" }]],
    ["unknown fields ignored", "foo: bar\ndata: x\n\n", [{ data: "x" }]],
    ["an invalid retry ignored", "retry: soon\ndata: x\n\n", [{ data: "x" }]],
    ["an event without data is not sent", "event: ping\n\ndata: x\n\n", [{ data: "x" }]],
    ["[DONE]", "data: [DONE]\n\n", [{ data: "[DONE]" }]],
    ["unicode kept", "data: héllo 🦄 日本\n\n", [{ data: "héllo 🦄 日本" }]],
    ["a leading BOM is skipped", "\uFEFFdata: a\n\n", [{ data: "a" }]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(decode([text]), { events: expected, errors: [] });
    });
  }
});

Deno.test("createSseDecoder() keeps decoding after a field it ignores", async (t) => {
  // A browser EventSource ignores these lines; they must not stop the events that follow.
  const cases: [string, string][] = [
    ["an unknown field", "foo: bar\n"],
    ["an invalid retry", "retry: soon\n"],
  ];
  for (const [name, line] of cases) {
    await t.step(`${name} in an earlier chunk`, () => {
      assert.deepEqual(decode(["data: a\n\n", line, "data: b\n\n", "data: c\n\n"]), {
        events: [{ data: "a" }, { data: "b" }, { data: "c" }],
        errors: [],
      });
    });
  }
});

Deno.test("createSseDecoder() delivers each event before feed() returns", () => {
  const events: string[] = [];
  const decoder = createSseDecoder((event) => events.push(event.data), assert.fail);
  decoder.feed(encoder.encode("data: one\n\ndata: tw"));
  assert.deepEqual(events, ["one"]);
  decoder.feed(encoder.encode("o\n"));
  assert.deepEqual(events, ["one"], "an event waits for its blank line");
  decoder.feed(encoder.encode("\n"));
  assert.deepEqual(events, ["one", "two"]);
});

Deno.test("createSseDecoder() end() delivers a last event that lacks its blank line", async (t) => {
  const cases: [string, string, SseEvent[]][] = [
    ["no blank line (LF)", "data: a\n\ndata: b\n", [{ data: "a" }, { data: "b" }]],
    ["no blank line (CRLF)", "data: a\r\n\r\ndata: b\r\n", [{ data: "a" }, { data: "b" }]],
    ["no blank line (CR)", "data: a\r\rdata: b\r", [{ data: "a" }, { data: "b" }]],
    ["no newline at all", "data: a\n\ndata: b", [{ data: "a" }, { data: "b" }]],
    ["multi-line data", "data: a\ndata: b", [{ data: "a\nb" }]],
    ["with an event name", "event: done\ndata: [DONE]\n", [{ event: "done", data: "[DONE]" }]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(decode([text]), { events: expected, errors: [] });
    });
  }
  await t.step("nothing is delivered before end()", () => {
    assert.deepEqual(decode(["data: a\n\ndata: b\n"], { end: false }), {
      events: [{ data: "a" }],
      errors: [],
    });
  });
});

Deno.test("createSseDecoder() end() adds nothing after complete events", async (t) => {
  const cases: [string, string, SseEvent[]][] = [
    ["an empty body", "", []],
    ["a complete stream", "data: a\n\ndata: b\n\n", [{ data: "a" }, { data: "b" }]],
    ["a trailing comment", "data: a\n\n: keep-alive\n", [{ data: "a" }]],
    ["a trailing event without data", "data: a\n\nevent: ping\n", [{ data: "a" }]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(decode([text]), { events: expected, errors: [] });
    });
  }
});

Deno.test("createSseDecoder() reassembles events split across chunks", async (t) => {
  await t.step("inside a field name, a CRLF and a multi-byte character", () => {
    const bytes = encoder.encode("da" + "ta: é🦄\r\n\r\nevent: e\r\ndata: 2\r\n\r\n");
    const pieces = [bytes.slice(0, 2), bytes.slice(2, 7), bytes.slice(7, 10), bytes.slice(10, 12)];
    pieces.push(bytes.slice(12, 13), bytes.slice(13));
    assert.deepEqual(decode(pieces), {
      events: [{ data: "é🦄" }, { event: "e", data: "2" }],
      errors: [],
    });
  });
  await t.step("one byte at a time", () => {
    const bytes = encoder.encode('\uFEFFdata: {"a":"ü"}\r\n\r\ndata: [DONE]\r\n\r\n');
    const pieces = [...bytes].map((b) => new Uint8Array([b]));
    assert.deepEqual(decode(pieces), {
      events: [{ data: '{"a":"ü"}' }, { data: "[DONE]" }],
      errors: [],
    });
  });
  await t.step("at every byte of 2-, 3- and 4-byte characters", () => {
    const data = "é€🦄日本";
    const bytes = encoder.encode(`data: ${data}\n\n`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const pieces = [bytes.slice(0, cut), bytes.slice(cut)];
      assert.deepEqual(decode(pieces), { events: [{ data }], errors: [] }, `cut at ${cut}`);
    }
    for (let a = 6; a < bytes.length; a++) {
      for (let b = a; b < bytes.length; b++) {
        const pieces = [bytes.slice(0, a), bytes.slice(a, b), bytes.slice(b)];
        assert.deepEqual(decode(pieces), { events: [{ data }], errors: [] }, `cuts ${a}, ${b}`);
      }
    }
  });
});

Deno.test("createSseDecoder() yields the same events for any split of a valid stream", () => {
  // Graphemes include multi-byte UTF-8, so the byte offsets often fall inside a character.
  const line = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s));
  const event = fc.record({
    event: fc.option(fc.stringMatching(/^[a-z_]{1,12}$/), { nil: undefined }),
    lines: fc.array(line, { minLength: 1, maxLength: 4 }),
    comment: fc.boolean(),
  });
  const newline = fc.constantFrom("\n", "\r\n", "\r");
  const stream = fc.array(fc.tuple(event, newline), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (events, offsets) => {
      let text = "";
      const expected: SseEvent[] = [];
      for (const [{ event, lines, comment }, nl] of events) {
        if (comment) text += `: comment${nl}`;
        if (event !== undefined) text += `event: ${event}${nl}`;
        for (const l of lines) text += `data: ${l}${nl}`;
        text += nl;
        const data = lines.join("\n");
        expected.push(event === undefined ? { data } : { event, data });
      }
      const bytes = encoder.encode(text);
      assert.deepEqual(decode([bytes]), { events: expected, errors: [] });
      assert.deepEqual(decode(splitAt(bytes, offsets)), { events: expected, errors: [] });
    }),
    { numRuns: 300 },
  );
});

Deno.test("createSseDecoder() reports an event longer than MAX_EVENT_CHARS once", () => {
  const decoded = decode([
    "data: first\n\n",
    "data: ",
    "x".repeat(MAX_EVENT_CHARS),
    "\n\ndata: after\n\n",
  ]);
  assert.deepEqual(decoded.events, [{ data: "first" }]);
  assert.equal(decoded.errors.length, 1);
  assert.match(decoded.errors[0] ?? "", new RegExp(`${MAX_EVENT_CHARS}`));
});

Deno.test("sseData(), SSE_DONE and sseError() frame one data event each", async (t) => {
  await t.step("sseData()", () => {
    assert.equal(sseData('{"a":1}'), 'data: {"a":1}\n\n');
  });
  await t.step("SSE_DONE", () => {
    assert.equal(SSE_DONE, "data: [DONE]\n\n");
  });
  await t.step("sseError() sends the OpenAI error body", () => {
    assert.equal(
      sseError(errors.upstream("openai: boom")),
      'data: {"error":{"message":"openai: boom","type":"api_error","param":null,"code":"upstream_error"}}\n\n',
    );
  });
  await t.step("the encoded events decode back", () => {
    const text = sseData('{"a":1}') + sseError(errors.shuttingDown()) + SSE_DONE;
    assert.deepEqual(decode([text]).events.map((e) => e.data), [
      '{"a":1}',
      JSON.stringify(errors.shuttingDown().toJSON()),
      "[DONE]",
    ]);
  });
});
