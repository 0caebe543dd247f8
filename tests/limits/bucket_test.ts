import assert from "node:assert/strict";
import fc from "fast-check";
import {
  adjustBuckets,
  type Amounts,
  type BucketPair,
  fullAt,
  takeFromBuckets,
} from "../../src/limits/bucket.ts";
import type { Decision, LimitSpec } from "../../src/limits/limiter.ts";

const RPM_100: LimitSpec = { rpm: 100, tpm: null };
const ONE_REQUEST: Amounts = { requests: 1, tokens: 0 };

/** A key's buckets under an explicit clock: each call takes or adjusts at the given time. */
function createKey(spec: LimitSpec) {
  let buckets: BucketPair | undefined;
  return {
    take(now: number, cost: Amounts = ONE_REQUEST): Decision {
      const result = takeFromBuckets(buckets, { now, spec, cost });
      buckets = result.buckets;
      return result.decision;
    },
    /** Takes `count` times at `now`; returns how many were admitted. */
    burst(now: number, count: number, cost: Amounts = ONE_REQUEST): number {
      let admitted = 0;
      for (let i = 0; i < count; i++) if (this.take(now, cost).allowed) admitted++;
      return admitted;
    },
    adjust(now: number, delta: Amounts): void {
      buckets = adjustBuckets(buckets, { now, spec, delta });
    },
    /** The decision of a zero cost: what the buckets hold now, changing nothing. */
    peek(now: number): Decision {
      return takeFromBuckets(buckets, { now, spec, cost: { requests: 0, tokens: 0 } }).decision;
    },
    get buckets() {
      return buckets;
    },
  };
}

Deno.test("takeFromBuckets() never admits 200 around a minute boundary at 100 rpm", async (t) => {
  await t.step("100 at 59.999 s and 100 at 60.001 s: 100 admitted, none after", () => {
    const key = createKey(RPM_100);
    assert.equal(key.burst(59_999, 100), 100);
    assert.equal(key.burst(60_001, 100), 0);
  });
  await t.step("100 at 59.999 s, then one every 10 ms for a second: one more, at 60.599 s", () => {
    const key = createKey(RPM_100);
    assert.equal(key.burst(59_999, 100), 100);
    const admittedAt: number[] = [];
    for (let now = 60_000; now < 61_000; now += 10) if (key.take(now).allowed) admittedAt.push(now);
    assert.deepEqual(admittedAt, [60_600]);
  });
  await t.step("a fixed window would reset at 60 s; the bucket has 0.05 request by then", () => {
    const key = createKey(RPM_100);
    key.burst(59_970, 100);
    assert.deepEqual(key.peek(60_000).requests, { limit: 100, remaining: 0, resetMs: 59_970 });
  });
});

Deno.test("takeFromBuckets() admits at most capacity + refill over any interval", () => {
  // Property: for any sequence of takes, the tokens admitted between two of them (inclusive)
  // never exceed the capacity plus what refills in between, exactly in integer units.
  const operation = fc.record({
    dt: fc.integer({ min: 0, max: 5_000 }),
    tokens: fc.integer({ min: 0, max: 12 }),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10 }),
      fc.array(operation, { maxLength: 80 }),
      (tpm, ops) => {
        const spec = { rpm: null, tpm };
        let buckets: BucketPair | undefined;
        let now = 0;
        const admitted: { now: number; tokens: number }[] = [];
        for (const op of ops) {
          now += op.dt;
          const result = takeFromBuckets(buckets, {
            now,
            spec,
            cost: { requests: 0, tokens: op.tokens },
          });
          buckets = result.buckets;
          if (result.decision.allowed) admitted.push({ now, tokens: op.tokens });
        }
        for (let i = 0; i < admitted.length; i++) {
          let sum = 0;
          for (let j = i; j < admitted.length; j++) {
            sum += admitted[j]?.tokens ?? 0;
            const elapsed = (admitted[j]?.now ?? 0) - (admitted[i]?.now ?? 0);
            assert.ok(
              sum * 60_000 <= tpm * 60_000 + elapsed * tpm,
              `${sum} tokens in ${elapsed} ms`,
            );
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("takeFromBuckets() refills continuously, exactly", async (t) => {
  await t.step("100 rpm: one request per 600 ms, none a millisecond early", () => {
    const key = createKey(RPM_100);
    assert.equal(key.burst(0, 100), 100);
    assert.equal(key.take(599).allowed, false);
    assert.equal(key.take(599).retryAfterMs, 1);
    assert.equal(key.take(600).allowed, true);
    assert.equal(key.take(600).retryAfterMs, 600);
    assert.equal(key.burst(6_600, 11), 10);
  });
  await t.step("an idle bucket refills to its capacity, never beyond", () => {
    const key = createKey(RPM_100);
    key.burst(0, 100);
    assert.equal(key.burst(1_000_000_000, 150), 100);
  });
  await t.step("1,000 tpm: half a token after 30 ms is not a token", () => {
    const key = createKey({ rpm: null, tpm: 1_000 });
    const cost = { requests: 0, tokens: 1 };
    assert.equal(key.burst(0, 1_000, cost), 1_000);
    assert.equal(key.take(30, cost).retryAfterMs, 30);
    assert.equal(key.take(60, cost).allowed, true);
  });
  await t.step("a limit that does not divide a minute (7 rpm) refills every 8,572 ms", () => {
    const key = createKey({ rpm: 7, tpm: null });
    assert.equal(key.burst(0, 7), 7);
    assert.equal(key.take(8_571).allowed, false);
    assert.equal(key.take(8_572).allowed, true);
    assert.equal(key.burst(8_572 + 60_000, 10), 7);
  });
  await t.step("a clock that goes backwards refills nothing", () => {
    const key = createKey(RPM_100);
    key.burst(10_000, 100);
    assert.equal(key.take(5_000).retryAfterMs, 600);
    assert.equal(key.take(10_599).allowed, false);
    assert.equal(key.take(10_600).allowed, true);
  });
  await t.step("fractional times are floored", () => {
    const key = createKey(RPM_100);
    key.burst(0.7, 100);
    assert.equal(key.take(599.9).allowed, false);
    assert.equal(key.take(600.2).allowed, true);
  });
});

Deno.test("takeFromBuckets() reports limit, remaining, reset and retry-after", async (t) => {
  const cases: {
    name: string;
    spec: LimitSpec;
    before: { now: number; cost: Amounts; times: number }[];
    now: number;
    cost: Amounts;
    expected: Partial<Decision>;
  }[] = [
    {
      name: "one request of 100 rpm: 99 left, full again in 600 ms",
      spec: RPM_100,
      before: [],
      now: 0,
      cost: ONE_REQUEST,
      expected: { allowed: true, requests: { limit: 100, remaining: 99, resetMs: 600 } },
    },
    {
      name: "the 100th request: none left, full again in a minute",
      spec: RPM_100,
      before: [{ now: 0, cost: ONE_REQUEST, times: 99 }],
      now: 0,
      cost: ONE_REQUEST,
      expected: { allowed: true, requests: { limit: 100, remaining: 0, resetMs: 60_000 } },
    },
    {
      name: "the 101st: refused by requests, retry in 600 ms",
      spec: RPM_100,
      before: [{ now: 0, cost: ONE_REQUEST, times: 100 }],
      now: 0,
      cost: ONE_REQUEST,
      expected: {
        allowed: false,
        refusedBy: "requests",
        impossible: false,
        retryAfterMs: 600,
        requests: { limit: 100, remaining: 0, resetMs: 60_000 },
      },
    },
    {
      name: "300 ms later: retry in 300 ms",
      spec: RPM_100,
      before: [{ now: 0, cost: ONE_REQUEST, times: 100 }],
      now: 300,
      cost: ONE_REQUEST,
      expected: { retryAfterMs: 300, requests: { limit: 100, remaining: 0, resetMs: 59_700 } },
    },
    {
      name: "1.5 requests held: remaining is floored, 2 requests wait 300 ms",
      spec: RPM_100,
      before: [{ now: 0, cost: ONE_REQUEST, times: 100 }],
      now: 900,
      cost: { requests: 2, tokens: 0 },
      expected: { retryAfterMs: 300, requests: { limit: 100, remaining: 1, resetMs: 59_100 } },
    },
    {
      name: "2,500 of 10,000 tpm: 7,500 left, full again in 15 s",
      spec: { rpm: null, tpm: 10_000 },
      before: [],
      now: 0,
      cost: { requests: 1, tokens: 2_500 },
      expected: {
        allowed: true,
        requests: undefined,
        tokens: { limit: 10_000, remaining: 7_500, resetMs: 15_000 },
      },
    },
    {
      name: "an allowed decision has no retry and no refusal",
      spec: { rpm: 10, tpm: 100 },
      before: [],
      now: 0,
      cost: { requests: 1, tokens: 10 },
      expected: { allowed: true, retryAfterMs: 0, refusedBy: undefined, impossible: false },
    },
    {
      name: "no limits: allowed, no views",
      spec: { rpm: null, tpm: null },
      before: [],
      now: 0,
      cost: { requests: 5, tokens: 1_000_000 },
      expected: { allowed: true, requests: undefined, tokens: undefined },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const key = createKey(c.spec);
      for (const b of c.before) key.burst(b.now, b.times, b.cost);
      const decision = key.take(c.now, c.cost);
      for (const [field, value] of Object.entries(c.expected)) {
        assert.deepEqual(decision[field as keyof Decision], value, field);
      }
    });
  }
});

Deno.test("takeFromBuckets() takes from both buckets or from neither", async (t) => {
  const spec = { rpm: 10, tpm: 100 };
  await t.step("the tokens refuse: no request is taken either", () => {
    const key = createKey(spec);
    assert.equal(key.take(0, { requests: 1, tokens: 60 }).allowed, true);
    const before = key.buckets;
    const refused = key.take(0, { requests: 1, tokens: 60 });
    assert.equal(refused.allowed, false);
    assert.equal(refused.refusedBy, "tokens");
    assert.equal(refused.retryAfterMs, 12_000); // 20 tokens at 100 per minute
    assert.deepEqual(refused.requests, { limit: 10, remaining: 9, resetMs: 6_000 });
    assert.deepEqual(refused.tokens, { limit: 100, remaining: 40, resetMs: 36_000 });
    assert.deepEqual(key.buckets, before);
  });
  await t.step("the requests refuse: no token is taken either", () => {
    const key = createKey(spec);
    key.burst(0, 10, { requests: 1, tokens: 1 });
    const refused = key.take(0, { requests: 1, tokens: 1 });
    assert.equal(refused.refusedBy, "requests");
    assert.deepEqual(refused.tokens, { limit: 100, remaining: 90, resetMs: 6_000 });
  });
  await t.step("both refuse: the longer wait is reported", () => {
    const key = createKey(spec);
    key.take(0, { requests: 10, tokens: 100 });
    const refused = key.take(0, { requests: 1, tokens: 50 });
    assert.equal(refused.refusedBy, "tokens");
    assert.equal(refused.retryAfterMs, 30_000);
  });
  await t.step("a dimension whose cost is 0 always fits", () => {
    const key = createKey(spec);
    key.take(0, { requests: 1, tokens: 100 });
    key.adjust(0, { requests: 0, tokens: -50 });
    assert.equal(key.take(0, { requests: 1, tokens: 0 }).allowed, true);
    assert.equal(key.take(0, { requests: 0, tokens: 1 }).allowed, false);
  });
});

Deno.test("takeFromBuckets() flags a cost that can never fit", async (t) => {
  await t.step("more tokens than the limit: impossible, nothing taken", () => {
    const key = createKey({ rpm: 10, tpm: 1_000 });
    const decision = key.take(0, { requests: 1, tokens: 1_001 });
    assert.equal(decision.allowed, false);
    assert.equal(decision.impossible, true);
    assert.equal(decision.refusedBy, "tokens");
    assert.equal(decision.retryAfterMs, 1);
    assert.deepEqual(key.peek(0).tokens, { limit: 1_000, remaining: 1_000, resetMs: 0 });
    assert.deepEqual(key.peek(0).requests, { limit: 10, remaining: 10, resetMs: 0 });
    assert.equal(key.take(0, { requests: 1, tokens: 1_000 }).allowed, true);
  });
  await t.step("impossible wins over an ordinary refusal", () => {
    const key = createKey({ rpm: 1, tpm: 100 });
    key.take(0, { requests: 1, tokens: 0 });
    const decision = key.take(0, { requests: 1, tokens: 101 });
    assert.equal(decision.refusedBy, "tokens");
    assert.equal(decision.impossible, true);
  });
  await t.step("impossible: retry-after is the time until the bucket is full", () => {
    const key = createKey({ rpm: null, tpm: 1_000 });
    key.take(0, { requests: 0, tokens: 500 });
    assert.equal(key.take(0, { requests: 0, tokens: 5_000 }).retryAfterMs, 30_000);
  });
  await t.step("a limit of 0 refuses every request as impossible", () => {
    const key = createKey({ rpm: 0, tpm: null });
    const decision = key.take(0);
    assert.equal(decision.impossible, true);
    assert.deepEqual(decision.requests, { limit: 0, remaining: 0, resetMs: 0 });
  });
});

Deno.test("adjustBuckets() reconciles: refunds, charges and debt", async (t) => {
  const spec = { rpm: 100, tpm: 1_000 };
  await t.step("a refund gives tokens back", () => {
    const key = createKey(spec);
    key.take(0, { requests: 1, tokens: 800 });
    key.adjust(0, { requests: 0, tokens: 500 });
    assert.deepEqual(key.peek(0).tokens, { limit: 1_000, remaining: 700, resetMs: 18_000 });
  });
  await t.step("a refund never fills a bucket beyond its capacity", () => {
    const key = createKey(spec);
    key.take(0, { requests: 1, tokens: 800 });
    key.adjust(0, { requests: 5, tokens: 5_000 });
    assert.deepEqual(key.peek(0).tokens, { limit: 1_000, remaining: 1_000, resetMs: 0 });
    assert.deepEqual(key.peek(0).requests, { limit: 100, remaining: 100, resetMs: 0 });
  });
  await t.step("a charge takes more; below zero, later requests wait for the debt", () => {
    const key = createKey(spec);
    key.take(0, { requests: 1, tokens: 200 });
    key.adjust(0, { requests: 0, tokens: -1_500 }); // 800 - 1,500 = -700 tokens
    assert.deepEqual(key.peek(0).tokens, { limit: 1_000, remaining: 0, resetMs: 102_000 });
    const refused = key.take(0, { requests: 1, tokens: 1 });
    assert.equal(refused.refusedBy, "tokens");
    assert.equal(refused.impossible, false);
    assert.equal(refused.retryAfterMs, 42_060); // 701 tokens at 1,000 per minute
    assert.equal(key.take(42_059, { requests: 1, tokens: 1 }).allowed, false);
    assert.equal(key.take(42_060, { requests: 1, tokens: 1 }).allowed, true);
  });
  await t.step("a charge on a key never seen starts from a full bucket", () => {
    const key = createKey(spec);
    key.adjust(0, { requests: -100, tokens: 0 });
    assert.equal(key.take(599).allowed, false);
    assert.equal(key.take(600).allowed, true);
  });
  await t.step("a zero delta changes nothing; unlimited dimensions are ignored", () => {
    const key = createKey({ rpm: 100, tpm: null });
    key.take(0);
    const before = key.buckets;
    key.adjust(50, { requests: 0, tokens: -1_000 });
    assert.equal(key.buckets?.requests, before?.requests);
    assert.equal(key.buckets?.tokens, undefined);
  });
});

Deno.test("fullAt() is when every limited bucket is full again", async (t) => {
  await t.step("one request of 100 rpm at t=1,000: full at 1,600", () => {
    const result = takeFromBuckets(undefined, { now: 1_000, spec: RPM_100, cost: ONE_REQUEST });
    assert.equal(fullAt(result.buckets, RPM_100), 1_600);
  });
  await t.step("the later of the two buckets", () => {
    const spec = { rpm: 100, tpm: 1_000 };
    const result = takeFromBuckets(undefined, { now: 0, spec, cost: { requests: 1, tokens: 100 } });
    assert.equal(fullAt(result.buckets, spec), 6_000);
  });
  await t.step("nothing stored: -Infinity", () => {
    assert.equal(fullAt({ requests: undefined, tokens: undefined }, RPM_100), -Infinity);
  });
});

Deno.test("takeFromBuckets() and adjustBuckets() reject numbers that are not integers", async (t) => {
  const cases: { name: string; run: () => unknown }[] = [
    {
      name: "negative cost",
      run: () =>
        takeFromBuckets(undefined, { now: 0, spec: RPM_100, cost: { requests: -1, tokens: 0 } }),
    },
    {
      name: "fractional cost",
      run: () =>
        takeFromBuckets(undefined, { now: 0, spec: RPM_100, cost: { requests: 0.5, tokens: 0 } }),
    },
    {
      name: "NaN tokens",
      run: () =>
        takeFromBuckets(undefined, { now: 0, spec: RPM_100, cost: { requests: 1, tokens: NaN } }),
    },
    {
      name: "negative limit",
      run: () =>
        takeFromBuckets(undefined, { now: 0, spec: { rpm: -1, tpm: null }, cost: ONE_REQUEST }),
    },
    {
      name: "NaN clock",
      run: () => takeFromBuckets(undefined, { now: NaN, spec: RPM_100, cost: ONE_REQUEST }),
    },
    {
      name: "infinite delta",
      run: () =>
        adjustBuckets(undefined, {
          now: 0,
          spec: RPM_100,
          delta: { requests: -Infinity, tokens: 0 },
        }),
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assert.throws(c.run, RangeError));
  }
});
