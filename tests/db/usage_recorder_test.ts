/**
 * Usage records in PostgreSQL through the shared queue: rows and key_stats as recorded, a
 * database outage that keeps every record and writes it exactly once when the database is back,
 * retried batches never counted twice, and the queue's bound.
 */
import assert from "node:assert/strict";
import { connectDatabase, type Sql } from "../../src/db/connect.ts";
import { migrate } from "../../src/db/migrations.ts";
import { openPostgresUsageRecorder } from "../../src/db/usage_recorder.ts";
import { preparePostgresBatchWriter } from "../../src/db/usage_write.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { createBatchedRecorder } from "../../src/usage/batched_recorder.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";
import { createDatabase, eventually, T0, usageRecord } from "../_helpers/usage_records.ts";

const available = await hasPostgres();
const HOUR = 3_600_000;

function pgTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name: available ? name : `${name} — ${POSTGRES_SKIPPED}`,
    ignore: !available,
    fn,
  });
}

function collectingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger((line) => void lines.push(JSON.parse(line)), () => T0);
  return { log, lines };
}

/** A pool on a migrated database; `end()` it when done. */
async function migrated(url: string): Promise<Sql> {
  const sql = connectDatabase(url, { connectTimeoutSeconds: 2 });
  await migrate(sql);
  return sql;
}

async function countRows(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM requests`;
  return row?.n ?? -1;
}

async function keyStats(sql: Sql): Promise<Record<string, unknown>[]> {
  return await sql<Record<string, unknown>[]>`
    SELECT key_id, last_used_at::float8 AS last_used_at, requests::int, errors::int,
      prompt_tokens::int, completion_tokens::int, total_tokens::int,
      cost_micro_usd::float8 AS cost_micro_usd
    FROM key_stats ORDER BY key_id`;
}

pgTest("openPostgresUsageRecorder() writes request rows and key_stats as recorded", async () => {
  await using pg = await startPostgres();
  const sql = await migrated(await createDatabase(pg));
  const { log } = collectingLogger();
  const recorder = openPostgresUsageRecorder(sql, { log, flushIntervalMs: HOUR, maxBatch: 3 });
  try {
    recorder.record(usageRecord({ time: T0 + 1, gateway_ms: 2.5, upstream_ms: 100 }));
    recorder.record(usageRecord({ time: T0 + 2, status: 502, cost_usd: 0, ttfb_ms: null }));
    recorder.record(usageRecord({ time: T0 + 3, key_id: "key_b", model: null, provider: null }));
    recorder.record(usageRecord({ time: T0 + 4, model: "llama", cost_usd: 0, unpriced: true }));
    recorder.record(usageRecord({ time: T0 + 5, cost_usd: 0.0000014 }));
    recorder.record(usageRecord({ time: T0 + 6, key_id: "key_b", cost_usd: null }));
    recorder.record(usageRecord({ time: T0 + 7, key_id: "key_b", model: "bad\0name" }));
    await recorder.flush();
    const rows = await sql<Record<string, unknown>[]>`
      SELECT (time - ${T0})::int AS t, key_id, model, provider, status, ttfb_ms, gateway_ms,
        upstream_ms, cost_micro_usd::float8 AS cost, unpriced
      FROM requests ORDER BY id`;
    // t, key_id, model, provider, status, ttfb_ms, gateway_ms, upstream_ms, cost, unpriced
    assert.deepEqual(rows.map((row) => Object.values(row)), [
      [1, "key_a", "gpt-4o", "openai", 200, 30, 2.5, 100, 125, false],
      [2, "key_a", "gpt-4o", "openai", 502, null, null, null, 0, false],
      [3, "key_b", null, null, 200, 30, null, null, 125, false],
      [4, "key_a", "llama", "openai", 200, 30, null, null, 0, true],
      [5, "key_a", "gpt-4o", "openai", 200, 30, null, null, 1, false],
      [6, "key_b", "gpt-4o", "openai", 200, 30, null, null, null, null],
      [7, "key_b", "bad\uFFFDname", "openai", 200, 30, null, null, 125, false],
    ]);
    assert.deepEqual((await keyStats(sql)).map((row) => ({ ...row })), [
      {
        key_id: "key_a",
        last_used_at: T0 + 5,
        requests: 4,
        errors: 1,
        prompt_tokens: 40,
        completion_tokens: 20,
        total_tokens: 60,
        cost_micro_usd: 126,
      },
      {
        key_id: "key_b",
        last_used_at: T0 + 7,
        requests: 3,
        errors: 0,
        prompt_tokens: 30,
        completion_tokens: 15,
        total_tokens: 45,
        cost_micro_usd: 250,
      },
    ]);
    assert.equal(recorder.status(), "ok");
  } finally {
    await recorder.close();
    await sql.end({ timeout: 1 });
  }
});

pgTest(
  "a stopped database keeps records queued; after a restart each is written once",
  async () => {
    await using pg = await startPostgres();
    const sql = await migrated(pg.url);
    const { log, lines } = collectingLogger();
    const dropped: number[] = [];
    const recorder = openPostgresUsageRecorder(sql, {
      log,
      flushIntervalMs: 50,
      maxBatch: 40,
      onDropped: (count) => void dropped.push(count),
    });
    try {
      for (let i = 0; i < 100; i++) recorder.record(usageRecord({ time: T0 + i }));
      await recorder.flush();
      assert.equal(await countRows(sql), 100);

      await pg.stop();
      for (let i = 100; i < 400; i++) recorder.record(usageRecord({ time: T0 + i }));
      await eventually("status failing", () => recorder.status() === "failing");
      assert.equal(recorder.queued(), 300);
      // Records keep arriving during the outage; record() never throws.
      for (let i = 400; i < 500; i++) recorder.record(usageRecord({ time: T0 + i }));
      assert.equal(recorder.queued(), 400);

      await pg.restart();
      // The timer retries at most 10 s apart.
      await eventually("the queue written", () => recorder.queued() === 0, 15_000);
      assert.equal(recorder.status(), "ok");
      const [row] = await sql<{ n: number; distinct_times: number; min: number; max: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT time)::int AS distinct_times,
        (min(time) - ${T0})::int AS min, (max(time) - ${T0})::int AS max
      FROM requests`;
      assert.deepEqual({ ...row }, { n: 500, distinct_times: 500, min: 0, max: 499 });
      const [stats] = await keyStats(sql);
      assert.equal(stats?.requests, 500);
      assert.equal(stats?.cost_micro_usd, 500 * 125);
      assert.deepEqual(dropped, []);
      assert.ok(lines.some((line) => String(line.msg).startsWith("cannot write usage records")));
    } finally {
      await recorder.close();
      await sql.end({ timeout: 1 });
    }
  },
);

pgTest("a batch retried after its commit is not counted twice", async (t) => {
  await using pg = await startPostgres();
  await t.step("the whole batch committed, the answer lost", async () => {
    const sql = await migrated(await createDatabase(pg));
    const write = preparePostgresBatchWriter(sql);
    let lose = 1;
    const { log } = collectingLogger();
    const recorder = createBatchedRecorder({
      write: async (records, range) => {
        await write(records, range);
        if (lose-- > 0) {
          throw Object.assign(new Error("write CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" });
        }
      },
    }, { log, flushIntervalMs: HOUR });
    try {
      for (let i = 0; i < 10; i++) recorder.record(usageRecord({ time: T0 + i }));
      await recorder.flush();
      assert.equal(recorder.status(), "failing");
      assert.equal(recorder.queued(), 10);
      await recorder.flush();
      assert.equal(recorder.queued(), 0);
      assert.equal(await countRows(sql), 10);
      const [stats] = await keyStats(sql);
      assert.equal(stats?.requests, 10);
      assert.equal(stats?.cost_micro_usd, 1_250);
    } finally {
      await recorder.close();
      await sql.end({ timeout: 1 });
    }
  });
  await t.step("a retry holding written and new records counts only the new", async () => {
    const sql = await migrated(await createDatabase(pg));
    const write = preparePostgresBatchWriter(sql);
    try {
      const records = Array.from({ length: 8 }, (_, i) => usageRecord({ time: T0 + i }));
      await write(records, { start: 0, end: 5 });
      await write(records, { start: 0, end: 8 });
      await write(records, { start: 3, end: 8 });
      assert.equal(await countRows(sql), 8);
      const [stats] = await keyStats(sql);
      assert.deepEqual([stats?.requests, stats?.last_used_at, stats?.total_tokens], [
        8,
        T0 + 7,
        120,
      ]);
      // A record recorded again as a new object is a new request.
      await write([{ ...records[0] } as typeof records[0]], { start: 0, end: 1 });
      assert.equal(await countRows(sql), 9);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

pgTest(
  "while the database is down, the bound drops the oldest records and reports them",
  async () => {
    await using pg = await startPostgres();
    const sql = await migrated(pg.url);
    const { log, lines } = collectingLogger();
    const dropped: number[] = [];
    const recorder = openPostgresUsageRecorder(sql, {
      log,
      flushIntervalMs: HOUR,
      maxBatch: 50,
      maxQueued: 200,
      onDropped: (count) => void dropped.push(count),
    });
    try {
      await pg.stop();
      for (let i = 0; i < 300; i++) recorder.record(usageRecord({ time: T0 + i }));
      await recorder.flush();
      assert.equal(recorder.status(), "failing");
      assert.equal(dropped.reduce((sum, n) => sum + n, 0), 100);
      assert.equal(recorder.queued(), 200);
      await pg.restart();
      await recorder.flush();
      assert.equal(recorder.status(), "ok");
      const [row] = await sql<{ n: number; first: number }[]>`
      SELECT count(*)::int AS n, (min(time) - ${T0})::int AS first FROM requests`;
      assert.deepEqual({ ...row }, { n: 200, first: 100 });
      const full = lines.filter((line) => String(line.msg).startsWith("usage queue full"));
      assert.deepEqual(full.map((line) => line.dropped), [100]);
    } finally {
      await recorder.close();
      await sql.end({ timeout: 1 });
    }
  },
);
