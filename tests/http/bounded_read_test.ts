import assert from "node:assert/strict";
import { readAtMost } from "../../src/http/bounded_read.ts";

class TooLarge extends Error {}

/**
 * A body of `chunks` chunks of `size` bytes each, made on demand, that records how many chunks
 * were pulled and whether the reader cancelled it.
 */
function source(chunks: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(size).fill(seen.pulled % 256));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

const options = (maxBytes: number) => ({ maxBytes, tooLarge: () => new TooLarge("too large") });

Deno.test("readAtMost() reads a body within the limit whole, in order", async (t) => {
  const cases: [string, number, number, number][] = [
    ["one chunk", 1, 100, 1_000],
    ["several chunks", 5, 100, 1_000],
    ["exactly the limit", 10, 100, 1_000],
    ["empty", 0, 100, 1_000],
  ];
  for (const [name, chunks, size, max] of cases) {
    await t.step(name, async () => {
      const { stream, seen } = source(chunks, size);
      const bytes = await readAtMost(stream.getReader(), options(max));
      assert.equal(bytes.byteLength, chunks * size);
      for (let i = 0; i < chunks; i++) assert.equal(bytes[i * size], (i + 1) % 256);
      assert.equal(seen.cancelled, false);
    });
  }
});

Deno.test("readAtMost() stops at the limit: the rest is cancelled, unread", async (t) => {
  const cases: [string, number, number, number][] = [
    ["one byte over", 11, 100, 1_000],
    ["an endless body", 1_000_000, 1_024, 4_096],
    ["one chunk larger than the limit", 1, 10_000, 1_000],
  ];
  for (const [name, chunks, size, max] of cases) {
    await t.step(name, async () => {
      const { stream, seen } = source(chunks, size);
      await assert.rejects(readAtMost(stream.getReader(), options(max)), TooLarge);
      assert.equal(seen.cancelled, true);
      // The chunk that crossed the limit is the last one pulled.
      assert.equal(seen.pulled, Math.floor(max / size) + 1);
    });
  }
});
