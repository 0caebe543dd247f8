import assert from "node:assert/strict";
import { createMemoryLimiter } from "../../src/limits/limiter.ts";

const RPM_100 = { rpm: 100, tpm: null };
const ONE_REQUEST = { requests: 1, tokens: 0 };

/** A clock the test moves by hand. */
function createClock(start = 1_700_000_000_000) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

Deno.test("createMemoryLimiter() admits exactly 100 of 1,000 concurrent takes at 100 rpm", async () => {
  const clock = createClock();
  const limiter = createMemoryLimiter({ now: clock.now });
  const decisions = await Promise.all(
    Array.from({ length: 1_000 }, () => limiter.take("key_a", RPM_100, ONE_REQUEST)),
  );
  const admitted = decisions.filter((d) => d.allowed);
  assert.equal(admitted.length, 100);
  assert.deepEqual(
    admitted.map((d) => d.requests?.remaining).sort((a = 0, b = 0) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  for (const refused of decisions.filter((d) => !d.allowed)) {
    assert.equal(refused.refusedBy, "requests");
    assert.equal(refused.retryAfterMs, 600);
    assert.deepEqual(refused.requests, { limit: 100, remaining: 0, resetMs: 60_000 });
  }
});

Deno.test("createMemoryLimiter() keeps keys apart and applies both limits", async (t) => {
  await t.step("another key has its own buckets", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now });
    for (let i = 0; i < 100; i++) await limiter.take("a", RPM_100, ONE_REQUEST);
    assert.equal((await limiter.take("a", RPM_100, ONE_REQUEST)).allowed, false);
    assert.equal((await limiter.take("b", RPM_100, ONE_REQUEST)).allowed, true);
  });
  await t.step("concurrent takes of 50 tokens at 1,000 tpm: 20 admitted", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now });
    const spec = { rpm: 1_000, tpm: 1_000 };
    const decisions = await Promise.all(
      Array.from({ length: 100 }, () => limiter.take("a", spec, { requests: 1, tokens: 50 })),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 20);
    const last = await limiter.take("a", spec, { requests: 0, tokens: 0 });
    assert.equal(last.requests?.remaining, 980);
  });
  await t.step("refill follows the injected clock", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    for (let i = 0; i < 100; i++) await limiter.take("a", RPM_100, ONE_REQUEST);
    clock.advance(599);
    assert.equal((await limiter.take("a", RPM_100, ONE_REQUEST)).allowed, false);
    clock.advance(1);
    assert.equal((await limiter.take("a", RPM_100, ONE_REQUEST)).allowed, true);
  });
  await t.step("adjust gives back and charges", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now });
    const spec = { rpm: 10, tpm: 1_000 };
    await limiter.take("a", spec, { requests: 1, tokens: 900 });
    await limiter.adjust("a", spec, { requests: 1, tokens: 400 });
    const peek = await limiter.take("a", spec, { requests: 0, tokens: 0 });
    assert.equal(peek.requests?.remaining, 10);
    assert.equal(peek.tokens?.remaining, 500);
    await limiter.adjust("a", spec, { requests: 0, tokens: -1_000 });
    const refused = await limiter.take("a", spec, { requests: 1, tokens: 1 });
    assert.equal(refused.refusedBy, "tokens");
    assert.equal(refused.retryAfterMs, 30_060); // 501 tokens at 1,000 per minute
  });
  await t.step("an invalid cost rejects and forgets nothing", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now });
    await limiter.take("a", RPM_100, ONE_REQUEST);
    await assert.rejects(limiter.take("a", RPM_100, { requests: -1, tokens: 0 }), RangeError);
    await assert.rejects(limiter.adjust("a", RPM_100, { requests: 0.5, tokens: 0 }), RangeError);
    assert.equal((await limiter.take("a", RPM_100, ONE_REQUEST)).requests?.remaining, 98);
  });
  await t.step("status is ok and close resolves", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now });
    assert.equal(limiter.status(), "ok");
    await limiter.close();
  });
});

Deno.test("createMemoryLimiter() stays bounded however many keys it sees", async (t) => {
  await t.step("100,000 keys at once: never more than maxKeys", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now, maxKeys: 10_000 });
    for (let i = 0; i < 100_000; i++) {
      await limiter.take(`key_${i}`, RPM_100, ONE_REQUEST);
      assert.ok(limiter.size <= 10_000);
    }
    assert.equal(limiter.size, 10_000);
    // The most recent keys are kept; the least recently used were forgotten.
    assert.equal((await limiter.take("key_99999", RPM_100, ONE_REQUEST)).requests?.remaining, 98);
    assert.equal((await limiter.take("key_0", RPM_100, ONE_REQUEST)).requests?.remaining, 99);
  });
  await t.step("100,000 keys, one a millisecond: only the ~600 not yet full are kept", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      await limiter.take(`key_${i}`, RPM_100, ONE_REQUEST);
      largest = Math.max(largest, limiter.size);
      clock.advance(1);
    }
    assert.ok(largest <= 601, `held ${largest} keys`);
  });
  await t.step("idle keys are dropped once full again, a batch per call", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    for (let i = 0; i < 1_000; i++) await limiter.take(`key_${i}`, RPM_100, ONE_REQUEST);
    assert.equal(limiter.size, 1_000);
    clock.advance(600);
    for (let i = 0; i < 40; i++) await limiter.take("other", { rpm: null, tpm: null }, ONE_REQUEST);
    assert.equal(limiter.size, 0);
  });
  await t.step("full buckets are never stored", async () => {
    const limiter = createMemoryLimiter({ now: createClock().now });
    await limiter.take("unlimited", { rpm: null, tpm: null }, ONE_REQUEST);
    await limiter.take("impossible", { rpm: null, tpm: 10 }, { requests: 1, tokens: 11 });
    await limiter.take("free", { rpm: null, tpm: 10 }, { requests: 1, tokens: 0 });
    await limiter.take("refunded", RPM_100, ONE_REQUEST);
    await limiter.adjust("refunded", RPM_100, ONE_REQUEST);
    assert.equal(limiter.size, 0);
  });
  await t.step("dropping a full key changes no decision", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    const fresh = await limiter.take("a", RPM_100, ONE_REQUEST);
    clock.advance(600);
    await limiter.take("b", RPM_100, ONE_REQUEST); // sweeps "a"
    assert.equal(limiter.size, 1);
    assert.deepEqual(await limiter.take("a", RPM_100, ONE_REQUEST), fresh);
  });
  await t.step("a key in debt is kept until its debt is paid", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    const spec = { rpm: null, tpm: 100 };
    await limiter.adjust("a", spec, { requests: 0, tokens: -200 }); // -100: full in 2 minutes
    clock.advance(119_999);
    await limiter.take("b", RPM_100, { requests: 0, tokens: 0 });
    assert.equal(limiter.size, 1);
    assert.equal((await limiter.take("a", spec, { requests: 0, tokens: 100 })).allowed, false);
  });
  await t.step("maxKeys must be a positive integer", () => {
    assert.throws(() => createMemoryLimiter({ now: Date.now, maxKeys: 0 }), RangeError);
  });
});

Deno.test("createMemoryLimiter() goes on from the buckets it mirrors", async (t) => {
  await t.step("a mirrored level, refilled since", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    const buckets = { requests: { level: 2 * 60_000, at: clock.now() }, tokens: undefined };
    limiter.mirror("a", RPM_100, { buckets, now: clock.now() });
    clock.advance(600); // one more request refilled
    const decisions = await Promise.all(
      Array.from({ length: 5 }, () => limiter.take("a", RPM_100, ONE_REQUEST)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 3);
  });
  await t.step("a full mirror is not stored, and replaces what was there", async () => {
    const clock = createClock();
    const limiter = createMemoryLimiter({ now: clock.now });
    await limiter.take("a", RPM_100, ONE_REQUEST);
    const full = { requests: { level: 100 * 60_000, at: clock.now() }, tokens: undefined };
    limiter.mirror("a", RPM_100, { buckets: full, now: clock.now() });
    assert.equal(limiter.size, 0);
    assert.equal((await limiter.take("a", RPM_100, ONE_REQUEST)).requests?.remaining, 99);
  });
});
