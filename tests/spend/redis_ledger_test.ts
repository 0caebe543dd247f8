/**
 * The Redis ledger against a real `redis-server`: the same reservation and settlement table as
 * the in-process ledger, the same answers for random sequences, exact reservations across two
 * replicas, counters seeded once from the usage database (SETNX-style), expiring after their
 * period, started again when Redis loses them, and the in-process fallback while Redis is down,
 * whose spend is carried into the shared counter once Redis is back.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createClient } from "redis";
import { createLogger } from "../../src/log.ts";
import { createRedisLink } from "../../src/redis/link.ts";
import type { BudgetAccount } from "../../src/spend/budget.ts";
import { createMemoryLedger, type RecordedSpend, SETTLE_GRACE_MS } from "../../src/spend/ledger.ts";
import { budgetKey, createRedisLedger } from "../../src/spend/redis_ledger.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";
import { accountFor, LEDGER_CASES, runSteps } from "./_ledger_cases.ts";

const HAS_REDIS = await hasRedisServer();

/** Registers a test that needs redis-server: skipped visibly, by name, when it is missing. */
function redisTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: HAS_REDIS ? name : `${name} (${REDIS_SKIPPED})`, ignore: !HAS_REDIS, fn });
}

/** A replica's ledger: its own link (2 s of patience, so a busy machine never falls back). */
function createReplica(url: string, recorded: RecordedSpend, now: () => number = Date.now) {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger((line) => lines.push(JSON.parse(line)), now);
  const link = createRedisLink({ url, now, log, serves: "budgets", timeoutMs: 2_000 });
  const fallback = createMemoryLedger({ recorded, now });
  const ledger = createRedisLedger({ link, fallback, recorded });
  return {
    link,
    ledger,
    fallback,
    lines,
    [Symbol.asyncDispose]: async () => {
      await ledger.close();
      await link.close();
    },
  };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** An account of the period the real clock is in (Redis expiries use the real clock). */
function currentAccount(name: string, limit: number, period: "day" | "total"): BudgetAccount {
  const now = new Date();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    ...accountFor(name, limit),
    period,
    start: period === "total" ? 0 : start,
    resetsAt: period === "total" ? undefined : start + 86_400_000,
  };
}

redisTest("createRedisLedger() reserves and settles as the table says", async () => {
  await using redis = await startRedis();
  for (const c of LEDGER_CASES) {
    await using replica = createReplica(redis.url, () => c.recorded);
    await waitFor("the link to connect", () => replica.link.status() === "ok");
    await runSteps(replica.ledger, accountFor(c.name, c.limit), c.steps);
    assert.deepEqual(replica.lines.filter((l) => l.level === "warn"), [], c.name);
  }
});

redisTest("createRedisLedger() answers as the in-process ledger for any sequence", async () => {
  await using redis = await startRedis();
  await using replica = createReplica(redis.url, () => 0);
  await waitFor("the link to connect", () => replica.link.status() === "ok");
  let run = 0;
  const operation = fc.oneof(
    fc.record({ op: fc.constant("reserve" as const), amount: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ op: fc.constant("settle" as const), amount: fc.integer({ min: -40, max: 40 }) }),
    fc.record({ op: fc.constant("peek" as const), amount: fc.constant(0) }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 120 }),
      fc.integer({ min: 1, max: 150 }),
      fc.array(operation, { maxLength: 25 }),
      async (recorded, limit, operations) => {
        run++;
        const account = accountFor(`prop${run}`, limit);
        const memory = createMemoryLedger({ recorded: () => recorded, now: Date.now });
        const shared = createRedisLedger({
          link: replica.link,
          fallback: createMemoryLedger({ recorded: () => recorded, now: Date.now }),
          recorded: () => recorded,
        });
        for (const { op, amount } of operations) {
          if (op === "reserve") {
            assert.deepEqual(
              await shared.reserve(account, amount),
              await memory.reserve(account, amount),
            );
          } else if (op === "peek") {
            assert.equal(await shared.peek(account), await memory.peek(account));
          } else {
            // A zero settlement is not sent to Redis: nothing new is known.
            const expected = amount === 0 ? undefined : await memory.settle(account, amount);
            assert.equal(await shared.settle(account, amount), expected);
          }
        }
      },
    ),
    { numRuns: 40 },
  );
});

redisTest("createRedisLedger() shares exact reservations between two replicas", async () => {
  await using redis = await startRedis();
  await using a = createReplica(redis.url, () => 0);
  await using b = createReplica(redis.url, () => 0);
  await waitFor("both links", () => a.link.status() === "ok" && b.link.status() === "ok");
  const account = accountFor("shared", 1_000_000);
  const answers = await Promise.all(
    Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? a : b).ledger.reserve(account, 10_000)),
  );
  assert.equal(answers.filter((r) => r.admitted).length, 100);
  assert.deepEqual(
    answers.filter((r) => r.admitted).map((r) => r.spent).sort((x, y) => x - y),
    Array.from({ length: 100 }, (_, i) => (i + 1) * 10_000),
    "each reservation saw every one before it",
  );
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    assert.equal(await admin.get(budgetKey(account)), "1000000");
  } finally {
    admin.destroy();
  }
});

redisTest(
  "createRedisLedger() seeds a counter once, from the replica that gets there first",
  async () => {
    await using redis = await startRedis();
    const reads = { a: 0, b: 0 };
    await using a = createReplica(redis.url, () => (reads.a++, 40));
    // B's database says otherwise (a replica with a stale copy): the counter is A's already.
    await using b = createReplica(redis.url, () => (reads.b++, 70));
    await waitFor("both links", () => a.link.status() === "ok" && b.link.status() === "ok");
    const account = accountFor("seed", 100);
    const first = await Promise.all(Array.from({ length: 50 }, () => a.ledger.reserve(account, 1)));
    assert.equal(first.at(-1)?.spent, 90);
    assert.equal(reads.a, 1, "a burst reads the database once");
    assert.deepEqual(await b.ledger.reserve(account, 10), { admitted: true, spent: 100 });
    assert.equal(reads.b, 0, "B found the counter: it never read its database");
  },
);

redisTest(
  "createRedisLedger() counters expire an hour after their period; total ones never",
  async () => {
    await using redis = await startRedis();
    await using replica = createReplica(redis.url, () => 0);
    await waitFor("the link", () => replica.link.status() === "ok");
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      const daily = currentAccount("daily", 100, "day");
      await replica.ledger.reserve(daily, 1);
      const expireTime = await admin.sendCommand(["PEXPIRETIME", budgetKey(daily)]);
      assert.equal(expireTime, (daily.resetsAt ?? 0) + SETTLE_GRACE_MS);
      assert.match(budgetKey(daily), new RegExp(`^choreoai:budget:key_daily:${daily.start}$`));
      const total = currentAccount("total", 100, "total");
      await replica.ledger.reserve(total, 1);
      assert.equal(budgetKey(total), "choreoai:budget:key_total:total");
      assert.equal(await admin.pTTL(budgetKey(total)), -1, "a total counter has no expiry");
    } finally {
      admin.destroy();
    }
  },
);

redisTest(
  "createRedisLedger() starts a counter Redis lost again from the usage database",
  async () => {
    await using redis = await startRedis();
    let recorded = 0;
    await using replica = createReplica(redis.url, () => recorded);
    await waitFor("the link", () => replica.link.status() === "ok");
    const account = accountFor("flushed", 100);
    assert.deepEqual(await replica.ledger.reserve(account, 30), { admitted: true, spent: 30 });
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.flushAll();
    } finally {
      admin.destroy();
    }
    recorded = 25; // what the database recorded meanwhile
    assert.equal(await replica.ledger.settle(account, -10), undefined, "nothing to settle against");
    assert.deepEqual(await replica.ledger.reserve(account, 5), { admitted: true, spent: 30 });
  },
);

redisTest(
  "createRedisLedger() budgets per replica while Redis is down, then carries that spend back",
  async () => {
    await using redis = await startRedis();
    await using a = createReplica(redis.url, () => 0);
    await using b = createReplica(redis.url, () => 0);
    await waitFor("both links", () => a.link.status() === "ok" && b.link.status() === "ok");
    const account = accountFor("outage", 100);
    assert.deepEqual(await a.ledger.reserve(account, 60), { admitted: true, spent: 60 });
    assert.deepEqual(await b.ledger.reserve(account, 10), { admitted: true, spent: 70 });

    await redis.stop();
    // Each replica goes on from the shared counter as it last saw it: 40 left for A, 30 for B.
    // That is the exactness lost while Redis is away: together they may spend 70 of the 30 left.
    assert.deepEqual(await a.ledger.reserve(account, 40), { admitted: true, spent: 100 });
    assert.deepEqual(await a.ledger.reserve(account, 1), { admitted: false, spent: 100 });
    assert.deepEqual(await b.ledger.reserve(account, 30), { admitted: true, spent: 100 });
    assert.equal(await a.ledger.settle(account, -15), 85, "the real cost was 25 of the 40");
    assert.equal(a.ledger.status(), "degraded");
    assert.ok(a.lines.some((l) => l.msg.startsWith("Redis unavailable: budgets are per replica")));

    await redis.restart();
    // A Redis restarted from its snapshot: the counter as it was when it went away.
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.set(budgetKey(account), "70");
      await waitFor("both links again", () => a.link.status() === "ok" && b.link.status() === "ok");
      // A's next call carries its 25 and B's its 30 into the shared counter.
      assert.equal(await a.ledger.peek(account), 95);
      assert.deepEqual(await b.ledger.reserve(account, 5), { admitted: false, spent: 125 });
      assert.equal(await admin.get(budgetKey(account)), "125");
      assert.deepEqual(await a.ledger.reserve(account, 0), { admitted: false, spent: 125 });
    } finally {
      admin.destroy();
    }
  },
);

redisTest(
  "createRedisLedger() budgets in process when Redis is unreachable from the start",
  async () => {
    await using redis = await startRedis();
    const url = redis.url;
    await redis.stop();
    await using replica = createReplica(url, () => 50);
    const account = accountFor("unreachable", 100);
    assert.deepEqual(await replica.ledger.reserve(account, 50), { admitted: true, spent: 100 });
    assert.deepEqual(await replica.ledger.reserve(account, 1), { admitted: false, spent: 100 });
    assert.equal(replica.ledger.status(), "degraded");
  },
);
