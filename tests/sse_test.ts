import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeSse, type SseEvent } from "../src/sse.ts";

const encoder = new TextEncoder();

/** Decodes SSE bytes delivered in the given pieces, as `{event, data}` pairs. */
async function decode(pieces: readonly (string | Uint8Array)[]): Promise<SseEvent[]> {
  const bytes = pieces.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  const events = await Array.fromAsync(decodeSse(ReadableStream.from(bytes)));
  return events.map(({ event, data }) => (event === undefined ? { data } : { event, data }));
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

Deno.test("decodeSse() frames events on LF, CRLF and CR", async (t) => {
  const cases: [string, string][] = [
    ["LF", "data: one\n\ndata: two\n\n"],
    ["CRLF", "data: one\r\n\r\ndata: two\r\n\r\n"],
    ["CR", "data: one\r\rdata: two\r\r"],
    ["mixed", "data: one\r\n\ndata: two\r\r\n"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, async () => {
      assert.deepEqual(await decode([text]), [{ data: "one" }, { data: "two" }]);
    });
  }
});

Deno.test("decodeSse() parses fields like a browser EventSource", async (t) => {
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
    ["an event without data is not sent", "event: ping\n\ndata: x\n\n", [{ data: "x" }]],
    ["[DONE]", "data: [DONE]\n\n", [{ data: "[DONE]" }]],
    ["unicode kept", "data: héllo 🦄 日本\n\n", [{ data: "héllo 🦄 日本" }]],
    ["an unfinished last event is dropped", "data: a\n\ndata: b\n", [{ data: "a" }]],
    ["a leading BOM is skipped", "\uFEFFdata: a\n\n", [{ data: "a" }]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, async () => {
      assert.deepEqual(await decode([text]), expected);
    });
  }
});

Deno.test("decodeSse() reassembles events split across chunks", async (t) => {
  await t.step("inside a field name, a CRLF and a multi-byte character", async () => {
    const bytes = encoder.encode("da" + "ta: é🦄\r\n\r\nevent: e\r\ndata: 2\r\n\r\n");
    const pieces = [bytes.slice(0, 2), bytes.slice(2, 7), bytes.slice(7, 10), bytes.slice(10, 12)];
    pieces.push(bytes.slice(12, 13), bytes.slice(13));
    assert.deepEqual(await decode(pieces), [{ data: "é🦄" }, { event: "e", data: "2" }]);
  });
  await t.step("one byte at a time", async () => {
    const bytes = encoder.encode('data: {"a":"ü"}\r\n\r\ndata: [DONE]\r\n\r\n');
    const pieces = [...bytes].map((b) => new Uint8Array([b]));
    assert.deepEqual(await decode(pieces), [{ data: '{"a":"ü"}' }, { data: "[DONE]" }]);
  });
});

Deno.test("decodeSse() yields the same events for any split of a valid stream", async () => {
  const line = fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s));
  const event = fc.record({
    event: fc.option(fc.stringMatching(/^[a-z_]{1,12}$/), { nil: undefined }),
    lines: fc.array(line, { minLength: 1, maxLength: 4 }),
    comment: fc.boolean(),
  });
  const newline = fc.constantFrom("\n", "\r\n", "\r");
  const stream = fc.array(fc.tuple(event, newline), { minLength: 1, maxLength: 6 });
  await fc.assert(
    fc.asyncProperty(
      stream,
      fc.array(fc.nat(), { maxLength: 12 }),
      async (events, offsets) => {
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
        assert.deepEqual(await decode([bytes]), expected);
        assert.deepEqual(await decode(splitAt(bytes, offsets)), expected);
      },
    ),
    { numRuns: 300 },
  );
});
