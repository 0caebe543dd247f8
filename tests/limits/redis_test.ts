import assert from "node:assert/strict";
import fc from "fast-check";
import { createClient } from "redis";
import { createMemoryLimiter, type LimitSpec, type RateLimiter } from "../../src/limits/limiter.ts";
import { createRedisLimiter, REDIS_KEY_PREFIX, REDIS_TIMEOUT_MS } from "../../src/limits/redis.ts";
import { createLogger } from "../../src/log.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";

const HAS_REDIS = await hasRedisServer();

/** Registers a test that needs redis-server: skipped visibly, by name, when it is missing. */
function redisTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: HAS_REDIS ? name : `${name} (${REDIS_SKIPPED})`, ignore: !HAS_REDIS, fn });
}

const RPM_100: LimitSpec = { rpm: 100, tpm: null };
const ONE_REQUEST = { requests: 1, tokens: 0 };
const FROZEN = 1_700_000_000_000;

/** A replica's limiter on the given clock, with its own fallback and its log lines. */
function createReplica(url: string, clock: { now: () => number }, timeoutMs = 2_000) {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger((line) => lines.push(JSON.parse(line)), clock.now);
  const fallback = createMemoryLimiter({ now: clock.now });
  // Exactness tests allow 2 s per call so that a loaded CI machine cannot push a call to the
  // fallback; the slow-Redis test uses the production default of 200 ms.
  const limiter = createRedisLimiter({ url, now: clock.now, log, fallback, timeoutMs });
  return {
    limiter,
    fallback,
    lines,
    warnings: () => lines.filter((l) => l.level === "warn").length,
    [Symbol.asyncDispose]: () => limiter.close(),
  };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

/** `count` concurrent takes spread over the limiters in turn; returns how many were admitted. */
async function burst(
  limiters: readonly RateLimiter[],
  count: number,
  options: { keyId: string; spec?: LimitSpec },
): Promise<number> {
  const decisions = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        limiters[i % limiters.length]?.take(options.keyId, options.spec ?? RPM_100, ONE_REQUEST),
    ),
  );
  return decisions.filter((d) => d?.allowed === true).length;
}

redisTest("createRedisLimiter() shares exact limits between two replicas", async () => {
  await using redis = await startRedis();
  const clock = { now: () => FROZEN };
  await using a = createReplica(redis.url, clock);
  await using b = createReplica(redis.url, clock);
  await waitFor(
    "both replicas to connect",
    () => a.limiter.status() === "ok" && b.limiter.status() === "ok",
  );

  const decisions = await Promise.all(
    Array.from(
      { length: 1_000 },
      (_, i) => (i % 2 === 0 ? a : b).limiter.take("key_shared", RPM_100, ONE_REQUEST),
    ),
  );
  const admitted = decisions.filter((d) => d.allowed);
  assert.equal(admitted.length, 100);
  assert.deepEqual(
    admitted.map((d) => d.requests?.remaining).sort((x = 0, y = 0) => x - y),
    Array.from({ length: 100 }, (_, i) => i),
  );
  for (const refused of decisions.filter((d) => !d.allowed)) {
    assert.equal(refused.retryAfterMs, 600);
    assert.deepEqual(refused.requests, { limit: 100, remaining: 0, resetMs: 60_000 });
  }
  assert.equal(a.warnings() + b.warnings(), 0, "no call fell back");
});

redisTest(
  "createRedisLimiter() limits per replica while Redis is down, and shares again once back",
  async () => {
    await using redis = await startRedis();
    const clock = { now: () => FROZEN };
    await using a = createReplica(redis.url, clock);
    await using b = createReplica(redis.url, clock);
    await waitFor(
      "both replicas to connect",
      () => a.limiter.status() === "ok" && b.limiter.status() === "ok",
    );
    assert.equal(await burst([a.limiter], 30, { keyId: "key_1" }), 30);
    assert.equal(await burst([b.limiter], 1, { keyId: "key_1" }), 1);

    await redis.stop();
    // Mid-run: nothing throws, and each replica still limits, from its own fallback. Each goes
    // on from the shared bucket as it last saw it (70 left for a, 69 for b), not from a full one.
    assert.equal(await burst([a.limiter], 300, { keyId: "key_1" }), 70);
    assert.equal(await burst([b.limiter], 300, { keyId: "key_1" }), 69);
    await waitFor(
      "both replicas to report degraded",
      () => a.limiter.status() === "degraded" && b.limiter.status() === "degraded",
    );
    assert.equal(await burst([a.limiter], 10, { keyId: "key_2" }), 10);
    await a.limiter.adjust("key_2", RPM_100, { requests: 5, tokens: 0 });
    assert.equal(a.fallback.size, 2);
    assert.equal(a.warnings(), 1, "one warning a minute, however many failures");
    assert.equal(b.warnings(), 1);

    await redis.restart();
    const ms = await waitFor(
      "both replicas to report ok",
      () => a.limiter.status() === "ok" && b.limiter.status() === "ok",
    );
    assert.ok(ms < 5_000, `back after ${Math.round(ms)} ms`);
    // Shared again: either fallback alone would admit 100 of its 500.
    assert.equal(await burst([a.limiter, b.limiter], 1_000, { keyId: "key_3" }), 100);
    assert.ok(a.lines.some((l) => l.msg === "Redis reachable again: rate limits are shared"));
  },
);

redisTest("createRedisLimiter() keeps a burst longer than its timeout on Redis", async () => {
  // 8,000 concurrent calls take 300-700 ms in all, longer than the default timeout of 200 ms,
  // but Redis answers all along: no call may fall back (that would admit more than the limit).
  await using redis = await startRedis();
  const clock = { now: () => FROZEN };
  await using a = createReplica(redis.url, clock, REDIS_TIMEOUT_MS);
  await waitFor("the replica to connect", () => a.limiter.status() === "ok");
  const started = performance.now();
  const admitted = await burst([a.limiter], 8_000, { keyId: "key_1" });
  const took = Math.round(performance.now() - started);
  assert.equal(admitted, 100, `${took} ms; log: ${JSON.stringify(a.lines)}`);
  assert.equal(a.warnings(), 0, `fell back during a ${took} ms burst`);
  assert.equal(a.limiter.status(), "ok");
});

/** Keeps the event loop busy for `ms`, as a request's parsing and answering do. */
function work(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

redisTest("createRedisLimiter() does not take a busy replica for a silent Redis", async () => {
  // Two replicas in one process, with the production timeout (200 ms), get 2,000 concurrent
  // requests on one key, and answering each keeps the event loop busy for 1.5 ms: 3 s in all.
  // Answers then wait unread for longer than the timeout, and the last calls wait 15 times it
  // for their turn. Redis answers all along: no call may fall back.
  await using redis = await startRedis();
  const clock = { now: () => FROZEN };
  await using a = createReplica(redis.url, clock, REDIS_TIMEOUT_MS);
  await using b = createReplica(redis.url, clock, REDIS_TIMEOUT_MS);
  await waitFor(
    "both replicas to connect",
    () => a.limiter.status() === "ok" && b.limiter.status() === "ok",
  );
  const decisions = await Promise.all(
    Array.from(
      { length: 2_000 },
      (_, i) =>
        (i % 2 === 0 ? a : b).limiter.take("key_busy", RPM_100, ONE_REQUEST).then((decision) => {
          work(1.5);
          return decision.allowed;
        }),
    ),
  );
  const log = JSON.stringify([...a.lines, ...b.lines]);
  assert.equal(decisions.filter(Boolean).length, 100, log);
  assert.equal(a.warnings() + b.warnings(), 0, `a call fell back: ${log}`);
});

redisTest("createRedisLimiter() answers from the fallback when Redis is too slow", async () => {
  await using redis = await startRedis();
  const clock = { now: () => FROZEN };
  await using a = createReplica(redis.url, clock, REDIS_TIMEOUT_MS);
  await waitFor("the replica to connect", () => a.limiter.status() === "ok");
  assert.equal((await a.limiter.take("key_1", RPM_100, ONE_REQUEST)).requests?.remaining, 99);

  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    await admin.sendCommand(["CLIENT", "PAUSE", "1500", "ALL"]);
    let started = performance.now();
    const slow = await a.limiter.take("key_1", RPM_100, ONE_REQUEST);
    const waited = performance.now() - started;
    assert.ok(waited >= 190 && waited < 1_400, `waited ${Math.round(waited)} ms`);
    assert.equal(slow.requests?.remaining, 98, "the fallback went on from the shared bucket");
    assert.equal(a.limiter.status(), "degraded");

    started = performance.now();
    await a.limiter.take("key_1", RPM_100, ONE_REQUEST);
    assert.ok(performance.now() - started < 100, "no second wait: straight to the fallback");

    await admin.ping(); // answered once the pause is over
    await waitFor("Redis to answer again", () => a.limiter.status() === "ok");
    // The call that timed out was answered (and counted) by the fallback; whether Redis also ran
    // it once the pause ended depends on timing: counted once or twice, never zero times.
    const after = (await a.limiter.take("key_1", RPM_100, ONE_REQUEST)).requests?.remaining;
    assert.ok(after === 97 || after === 98, `remaining ${after}`);
    const level = await admin.hGet(`${REDIS_KEY_PREFIX}key_1`, "rl");
    assert.equal(level, String((after ?? 0) * 60_000), "Redis answered the last take");
    assert.equal(a.warnings(), 1);

    // close() does not wait for a Redis that does not answer.
    await admin.sendCommand(["CLIENT", "PAUSE", "3000", "ALL"]);
    await a.limiter.take("key_1", RPM_100, ONE_REQUEST);
    started = performance.now();
    await a.limiter.close();
    assert.ok(performance.now() - started < 1_500, "closed without waiting for the pause");
  } finally {
    admin.destroy(); // paused too: no goodbye
  }
});

redisTest("createRedisLimiter() decides exactly as the in-process limiter does", async () => {
  await using redis = await startRedis();
  let time = FROZEN;
  const clock = { now: () => time };
  await using replica = createReplica(redis.url, clock);
  await waitFor("the replica to connect", () => replica.limiter.status() === "ok");
  const limit = fc.option(fc.integer({ min: 1, max: 30 }), { nil: null });
  const operation = fc.oneof(
    fc.record({
      kind: fc.constant("take" as const),
      dt: fc.integer({ min: 0, max: 4_000 }),
      requests: fc.integer({ min: 0, max: 3 }),
      tokens: fc.integer({ min: 0, max: 40 }),
    }),
    fc.record({
      kind: fc.constant("adjust" as const),
      dt: fc.integer({ min: 0, max: 4_000 }),
      requests: fc.integer({ min: -3, max: 3 }),
      tokens: fc.integer({ min: -60, max: 60 }),
    }),
  );
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      limit,
      limit,
      fc.array(operation, { maxLength: 25 }),
      async (rpm, tpm, ops) => {
        const keyId = `key_${run++}`;
        const spec = { rpm, tpm };
        const memory = createMemoryLimiter({ now: clock.now });
        for (const op of ops) {
          time += op.dt;
          const amounts = { requests: op.requests, tokens: op.tokens };
          if (op.kind === "adjust") {
            await replica.limiter.adjust(keyId, spec, amounts);
            await memory.adjust(keyId, spec, amounts);
          } else {
            assert.deepEqual(
              await replica.limiter.take(keyId, spec, amounts),
              await memory.take(keyId, spec, amounts),
            );
          }
        }
      },
    ),
    { numRuns: 60 },
  );
  assert.equal(replica.warnings(), 0, "every call was answered by Redis");
});

redisTest(
  "createRedisLimiter() adjusts atomically, and keys expire once their buckets are full",
  async () => {
    await using redis = await startRedis();
    const clock = { now: () => FROZEN };
    await using a = createReplica(redis.url, clock);
    await using b = createReplica(redis.url, clock);
    await waitFor(
      "both replicas to connect",
      () => a.limiter.status() === "ok" && b.limiter.status() === "ok",
    );
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      assert.equal(await burst([a.limiter], 100, { keyId: "key_1" }), 100);
      await b.limiter.adjust("key_1", RPM_100, { requests: 10, tokens: 0 });
      assert.equal(await burst([a.limiter], 11, { keyId: "key_1" }), 10);

      await a.limiter.take("key_2", RPM_100, ONE_REQUEST);
      const ttl = await admin.pTTL(`${REDIS_KEY_PREFIX}key_2`);
      assert.ok(ttl > 1_500 && ttl <= 1_600, `ttl ${ttl}: full in 600 ms, plus 1 s of slack`);

      const spec = { rpm: 1, tpm: 1_000 };
      await a.limiter.take("key_3", spec, { requests: 1, tokens: 0 }); // requests full in 60 s
      await b.limiter.adjust("key_3", spec, { requests: 0, tokens: -10 }); // tokens in 600 ms
      const kept = await admin.pTTL(`${REDIS_KEY_PREFIX}key_3`);
      assert.ok(kept > 60_000, `ttl ${kept}: the untouched requests bucket still counts`);
      await b.limiter.adjust("key_3", spec, { requests: 0, tokens: -120_000 }); // debt: 2 hours
      assert.ok(await admin.pTTL(`${REDIS_KEY_PREFIX}key_3`) > 7_200_000);

      await a.limiter.take("key_4", { rpm: null, tpm: null }, ONE_REQUEST);
      await a.limiter.take("key_4", { rpm: null, tpm: 5 }, { requests: 1, tokens: 6 });
      assert.equal(await admin.exists(`${REDIS_KEY_PREFIX}key_4`), 0, "nothing stored");
    } finally {
      await admin.close();
    }
  },
);

Deno.test("createRedisLimiter() limits in process when Redis is unreachable from the start", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // nothing listens there now
  const clock = { now: () => FROZEN };
  await using a = createReplica(`redis://127.0.0.1:${port}`, clock);
  assert.equal(await burst([a.limiter], 300, { keyId: "key_1" }), 100);
  await a.limiter.adjust("key_1", RPM_100, { requests: 1, tokens: 0 });
  assert.equal(await burst([a.limiter], 2, { keyId: "key_1" }), 1);
  assert.equal(a.limiter.status(), "degraded");
  await waitFor("a connection error", () => a.warnings() === 1);
  await assert.rejects(a.limiter.take("key_1", RPM_100, { requests: -1, tokens: 0 }), RangeError);
});
