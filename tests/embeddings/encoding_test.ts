import assert from "node:assert/strict";
import fc from "fast-check";
import { base64ToFloats, floatsToBase64, formatEmbedding } from "../../src/embeddings/encoding.ts";

// [1, -2, 0.5] as little-endian float32 is 00 00 80 3f | 00 00 00 c0 | 00 00 00 3f, whose base64
// was worked out by hand and checked with Python:
// base64.b64encode(struct.pack('<3f', 1, -2, 0.5)) == b'AACAPwAAAMAAAAA/'
const KNOWN_VALUES = [1, -2, 0.5];
const KNOWN_BASE64 = "AACAPwAAAMAAAAA/";

Deno.test("floatsToBase64() encodes little-endian float32 as OpenAI does", () => {
  assert.equal(floatsToBase64(KNOWN_VALUES), KNOWN_BASE64);
  assert.equal(floatsToBase64([]), "");
});

Deno.test("base64ToFloats() decodes a known vector", () => {
  assert.deepEqual(base64ToFloats(KNOWN_BASE64), KNOWN_VALUES);
  assert.deepEqual(base64ToFloats(""), []);
});

Deno.test("floatsToBase64() rounds to float32", () => {
  assert.deepEqual(base64ToFloats(floatsToBase64([0.1])), [Math.fround(0.1)]);
});

Deno.test("base64ToFloats() reverses floatsToBase64() for any float32 values", () => {
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true })), (values) => {
      assert.deepEqual(base64ToFloats(floatsToBase64(values)), values);
    }),
  );
});

Deno.test("base64ToFloats() rejects text that is not whole float32 values in base64", async (t) => {
  const cases: [string, string][] = [
    ["not base64", "not base64!"],
    ["url-safe alphabet", "AACAPwAAAMAAAAA_"],
    ["missing padding", "AACAPwAAAMAAAAA"],
    ["6 bytes", "AACAPwAA"],
    ["whitespace", "AACA PwAA"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => {
      assert.throws(() => base64ToFloats(text), SyntaxError);
    });
  }
});

Deno.test("formatEmbedding() gives floats or base64", () => {
  assert.deepEqual(formatEmbedding(KNOWN_VALUES, "float"), KNOWN_VALUES);
  assert.equal(formatEmbedding(KNOWN_VALUES, "base64"), KNOWN_BASE64);
});
