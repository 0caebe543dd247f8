import assert from "node:assert/strict";
import { createRandomIds } from "../src/random_id.ts";

Deno.test("createRandomIds() gives 128-bit hex ids from its pool", async (t) => {
  await t.step("32 lowercase hex digits, all different over several refills", () => {
    const randomId = createRandomIds((bytes) => crypto.getRandomValues(bytes), 4);
    const ids = Array.from({ length: 1_000 }, randomId);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(new Set(ids).size, ids.length);
  });
  await t.step("the bytes come from the source, in order, one refill per pool", () => {
    let fills = 0;
    const randomId = createRandomIds((bytes) => {
      fills++;
      bytes.forEach((_, i) => (bytes[i] = (i + fills) % 256));
    }, 2);
    assert.equal(randomId(), "0102030405060708090a0b0c0d0e0f10");
    assert.equal(randomId(), "1112131415161718191a1b1c1d1e1f20");
    assert.equal(fills, 1);
    assert.equal(randomId(), "02030405060708090a0b0c0d0e0f1011");
    assert.equal(fills, 2);
  });
});
