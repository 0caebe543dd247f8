import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkedDecoder, parseHead, ProtocolError } from "../../src/http/h1_parse.ts";
import { type ByteSource, nextChunk, readFixed, readHead, Wire } from "../../src/http/h1_wire.ts";

const encoder = new TextEncoder();

/** A source that hands out `pieces` one read at a time (as a socket would). */
function piecesSource(pieces: Uint8Array[]): ByteSource {
  let index = 0;
  let offset = 0;
  return {
    read(p) {
      const piece = pieces[index];
      if (piece === undefined) return Promise.resolve(null);
      const n = Math.min(p.length, piece.length - offset);
      p.set(piece.subarray(offset, offset + n));
      offset += n;
      if (offset === piece.length) {
        index++;
        offset = 0;
      }
      return Promise.resolve(n);
    },
  };
}

/** `bytes` cut at the given (sorted, deduplicated) positions. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const positions = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const position of [...positions, bytes.length]) {
    if (position > start) pieces.push(bytes.subarray(start, position));
    start = Math.max(start, position);
  }
  return pieces;
}

interface Parsed {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: number[];
  rest: number;
}

/** Reads one response (chunked or by Content-Length) the way the client does. */
async function parse(pieces: Uint8Array[], chunked: boolean): Promise<Parsed> {
  const wire = new Wire(piecesSource(pieces), 64);
  const head = await readHead(wire, 1 << 20);
  const body: number[] = [];
  if (chunked) {
    const decoder = new ChunkedDecoder();
    for (let piece = await nextChunk(wire, decoder); piece !== null;) {
      body.push(...piece);
      piece = await nextChunk(wire, decoder);
    }
  } else {
    const length = Number(head.headers.find(([name]) => name === "content-length")?.[1]);
    body.push(...await readFixed(wire, length));
  }
  return { ...head, body, rest: wire.buffered };
}

const tokenArb = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const valueArb = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
const responseArb = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  reason: fc.stringMatching(/^[A-Za-z ]{0,12}$/),
  headers: fc.array(fc.tuple(tokenArb, valueArb), { maxLength: 6 }),
  chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { maxLength: 6 }),
  extension: fc.boolean(),
  trailer: fc.boolean(),
  bareLf: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 30 }),
});

Deno.test("readHead() and nextChunk() parse a response the same however it is split", async () => {
  await fc.assert(
    fc.asyncProperty(responseArb, async (r) => {
      const eol = r.bareLf ? "\n" : "\r\n";
      let text = `HTTP/1.1 ${r.status} ${r.reason}${eol}`;
      for (const [name, value] of r.headers) text += `${name}: ${value}${eol}`;
      text += `transfer-encoding: chunked${eol}${eol}`;
      const parts: Uint8Array[] = [encoder.encode(text)];
      for (const data of r.chunks) {
        const ext = r.extension ? ';name="v"' : "";
        parts.push(
          encoder.encode(`${data.length.toString(16)}${ext}\r\n`),
          data,
          encoder.encode("\r\n"),
        );
      }
      parts.push(encoder.encode(`0\r\n${r.trailer ? "x-trailer: t\r\n" : ""}\r\n`));
      const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        whole.set(part, offset);
        offset += part.length;
      }
      const expected = await parse([whole], true);
      assert.deepEqual(await parse(split(whole, r.cuts), true), expected);
      assert.equal(expected.status, r.status);
      assert.equal(expected.statusText, r.reason);
      assert.deepEqual(expected.body, r.chunks.flatMap((c) => [...c]));
      assert.equal(expected.rest, 0);
      assert.deepEqual(
        expected.headers.slice(0, -1),
        r.headers.map(([n, v]) => [n.toLowerCase(), v]),
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("readFixed() reads a Content-Length body the same however it is split", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 500 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      async (body, cuts) => {
        const head = encoder.encode(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
        const whole = new Uint8Array(head.length + body.length);
        whole.set(head);
        whole.set(body, head.length);
        const parsed = await parse(split(whole, cuts), false);
        assert.deepEqual(parsed.body, [...body]);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("parseHead() reads status lines and headers", async (t) => {
  const cases: [string, number, string, [string, string][]][] = [
    ["HTTP/1.1 200 OK\r\n\r\n", 200, "OK", []],
    ["HTTP/1.1 204\r\n\r\n", 204, "", []],
    ["HTTP/1.0 404 Not Found\n\n", 404, "Not Found", []],
    ["HTTP/1.1 200 OK\r\nA:  b c \t\r\nX-Y:\r\n\r\n", 200, "OK", [["a", "b c"], ["x-y", ""]]],
  ];
  for (const [text, status, statusText, headers] of cases) {
    await t.step(JSON.stringify(text), () => {
      const bytes = encoder.encode(text);
      assert.deepEqual(parseHead(bytes, 0, bytes.length), {
        minor: text.startsWith("HTTP/1.1") ? 1 : 0,
        status,
        statusText,
        headers,
      });
    });
  }
  for (const bad of ["HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "x\r\n\r\n"]) {
    await t.step(`${JSON.stringify(bad)} is malformed`, () => {
      const bytes = encoder.encode(bad);
      assert.throws(() => parseHead(bytes, 0, bytes.length), ProtocolError);
    });
  }
});

Deno.test("ChunkedDecoder rejects broken framing", async (t) => {
  const cases = ["zz\r\n", "5\r\nabcdefg\r\n", "-1\r\n", "\r\n", "ffffffffffffffff\r\n"];
  for (const text of cases) {
    await t.step(JSON.stringify(text), () => {
      const bytes = encoder.encode(text);
      assert.throws(() => new ChunkedDecoder().decode(bytes, 0, bytes.length, []), ProtocolError);
    });
  }
});
