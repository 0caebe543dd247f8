/**
 * The usage readers agree: the same records written to SQLite (CHOREOAI_DB) and to PostgreSQL
 * read back as deep-equal key stats, summaries, daily series and spend, rows in the same order
 * (keys and models by their bytes), costs exact to the micro-dollar.
 */
import assert from "node:assert/strict";
import { connectDatabase } from "../../src/db/connect.ts";
import { migrate } from "../../src/db/migrations.ts";
import { createPostgresUsageReader } from "../../src/db/usage_query.ts";
import { openPostgresUsageRecorder } from "../../src/db/usage_recorder.ts";
import { createLogger } from "../../src/log.ts";
import { createSqliteUsageReader, type UsageReader } from "../../src/usage/reader.ts";
import { openUsageRecorder, type UsageRecord } from "../../src/usage/recorder.ts";
import type { BucketQuery } from "../../src/usage/series.ts";
import type { UsageQuery } from "../../src/usage/summary.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";
import { T0, usageRecord } from "../_helpers/usage_records.ts";

const available = await hasPostgres();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Midnight (UTC) starting T0's day. */
const MIDNIGHT = T0 - 12 * HOUR;

/** Hand-picked records: byte order of keys and models, no model, the edges of days and windows. */
const EDGES: UsageRecord[] = [
  usageRecord({ time: MIDNIGHT, key_id: "key_B", model: "Zeta" }),
  usageRecord({ time: MIDNIGHT - 1, key_id: "key_a", model: "alpha", cost_usd: 0.1 }),
  usageRecord({ time: MIDNIGHT + 1, key_id: "key_a", model: "alpha", cost_usd: 0.2 }),
  usageRecord({ time: T0, key_id: "key_ä", model: null, provider: null, status: 400 }),
  usageRecord({ time: T0, key_id: "key_ä", model: "-", status: 502, cost_usd: 0 }),
  usageRecord({ time: T0 + 1, key_id: "Key_z", model: "ämodel", cost_usd: null }),
  usageRecord({ time: T0 - 3 * DAY, key_id: "key_a", model: "llama", cost_usd: 0, unpriced: true }),
  usageRecord({ time: T0, key_id: "key_a", model: "gpt-4o", cost_usd: 1.234567 }),
  usageRecord({ time: T0 - 6 * DAY, key_id: "key_old", cost_usd: 12.5 }),
];

/** A deterministic spread of records over a week: keys, models, statuses, costs. */
function spread(count: number): UsageRecord[] {
  const keys = ["key_a", "key_B", "key_ä", "Key_z"];
  const models = ["gpt-4o", "claude-sonnet-4-5", null, "gpt-4o-mini"];
  const records: UsageRecord[] = [];
  let seed = 7;
  // MINSTD: products stay below 2^53, so the sequence is exact.
  const next = () => (seed = (seed * 48_271) % 2_147_483_647);
  for (let i = 0; i < count; i++) {
    const tokens = next() % 5_000;
    records.push(usageRecord({
      time: T0 - (next() % (7 * DAY)),
      key_id: keys[next() % keys.length] as string,
      model: models[next() % models.length] ?? null,
      status: [200, 200, 200, 429, 500][next() % 5] as number,
      prompt_tokens: tokens,
      completion_tokens: tokens % 700,
      total_tokens: tokens + (tokens % 700),
      cost_usd: (next() % 9_000_000) / 1_000_000_000 + 0.000001,
      unpriced: false,
      // Latencies with fractions and ties (from the draws above, so the records stay the
      // same); every seventh request without a first byte.
      latency_ms: ((tokens * 37) % 40_000) / 8,
      ttfb_ms: i % 7 === 0 ? null : ((tokens * 11) % 3_000) / 4,
    }));
  }
  return records;
}

/** Both readers' answers to `read`, asserted deep-equal; returns one of them. */
async function bothSay<T>(
  read: (reader: UsageReader) => Promise<T>,
  sqlite: UsageReader,
  postgres: UsageReader,
): Promise<T> {
  const [fromSqlite, fromPostgres] = await Promise.all([read(sqlite), read(postgres)]);
  assert.deepStrictEqual(fromPostgres, fromSqlite);
  return fromSqlite;
}

Deno.test({
  name: available
    ? "the SQLite and PostgreSQL usage readers give the same answers for the same records"
    : `the SQLite and PostgreSQL usage readers agree — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "choreoai-usage-parity-" });
  const sql = connectDatabase(pg.url);
  try {
    await migrate(sql);
    const log = createLogger(() => {}, () => T0);
    const records = [...EDGES, ...spread(600)];
    const dbPath = `${dir}/usage.db`;
    const onSqlite = openUsageRecorder(dbPath, { log, maxBatch: 64 });
    const onPostgres = openPostgresUsageRecorder(sql, { log, maxBatch: 64 });
    for (const record of records) {
      onSqlite.record(record);
      onPostgres.record(record);
    }
    await Promise.all([onSqlite.close(), onPostgres.close()]);
    const sqlite = createSqliteUsageReader(dbPath);
    const postgres = createPostgresUsageReader(sql, { url: pg.url });

    const same = <T>(read: (reader: UsageReader) => Promise<T>) => bothSay(read, sqlite, postgres);

    await t.step("keyStats(), in the same order", async () => {
      const stats = await same(async (reader) => [...(await reader.keyStats())]);
      assert.deepEqual(stats.map(([id]) => id), ["Key_z", "key_B", "key_a", "key_old", "key_ä"]);
      assert.equal(stats.reduce((sum, [, s]) => sum + s.requests, 0), records.length);
    });

    const summaries: [string, UsageQuery, number][] = [
      ["the whole week", { since: T0 - 7 * DAY, until: T0 + 1 }, 21],
      ["one key", { keyId: "key_a", since: T0 - 7 * DAY, until: T0 + 1 }, 6],
      ["T0's day to the millisecond", { since: MIDNIGHT, until: T0 }, 18],
      ["fractional bounds", { since: MIDNIGHT - 0.5, until: T0 + 0.5 }, 19],
      ["a window with nothing", { since: T0 + 2, until: T0 + HOUR }, 0],
      ["a key without usage", { keyId: "key_none", since: 0, until: T0 + DAY }, 0],
    ];
    for (const [name, query, rows] of summaries) {
      await t.step(`summarize(): ${name}`, async () => {
        const summary = await same((reader) => reader.summarize(query));
        assert.equal(summary.rows.length, rows);
      });
    }

    await t.step("summarize(): costs exact to the micro-dollar, unpriced counted", async () => {
      const summary = await same((reader) =>
        reader.summarize({ keyId: "key_a", since: MIDNIGHT - 1, until: MIDNIGHT + 1 })
      );
      assert.deepEqual(summary.rows.map((row) => [row.model, row.cost_usd]), [["alpha", 0.3]]);
      const llama = await same((reader) =>
        reader.summarize({ keyId: "key_a", since: T0 - 3 * DAY, until: T0 - 3 * DAY })
      );
      assert.equal(llama.rows.find((row) => row.model === "llama")?.unpriced_requests, 1);
      // A request without a model and one whose model is "-" are one row, as in SQLite.
      const ae = await same((reader) => reader.summarize({ keyId: "key_ä", since: T0, until: T0 }));
      assert.deepEqual(ae.rows.map((row) => [row.model, row.requests, row.errors]), [["-", 2, 2]]);
    });

    const series: [string, UsageQuery, number][] = [
      ["the whole week", { since: T0 - 7 * DAY, until: T0 + 1 }, 8],
      ["one key", { keyId: "key_B", since: T0 - 7 * DAY, until: T0 }, 8],
      ["days without requests", { since: T0 + DAY, until: T0 + 3 * DAY }, 3],
      ["one day", { since: MIDNIGHT, until: MIDNIGHT + DAY - 1 }, 1],
    ];
    for (const [name, query, days] of series) {
      await t.step(`summarizeByDay(): ${name}`, async () => {
        const daily = await same((reader) => reader.summarizeByDay(query));
        assert.equal(daily.rows.length, days);
      });
    }

    const spends: [string, string[], number][] = [
      ["one key, all time", ["key_a"], 0],
      ["a rotation chain since T0's midnight", ["key_a", "key_B"], MIDNIGHT],
      ["a key without costs", ["key_none"], 0],
      ["no keys", [], 0],
      ["since a fractional time", ["key_ä", "Key_z"], T0 - 2.5 * DAY + 0.5],
    ];
    for (const [name, keyIds, since] of spends) {
      await t.step(`spend(): ${name}`, async () => {
        await same((reader) => reader.spend(keyIds, since));
      });
    }
    await t.step("spend(): exact micro-dollars", async () => {
      assert.equal(await same((reader) => reader.spend(["key_old"], 0)), 12_500_000);
    });

    const MINUTE = 60_000;
    const buckets: [string, BucketQuery][] = [
      ["a day in 15-minute buckets", { since: T0 - DAY, until: T0 + 1, bucketMs: 15 * MINUTE }],
      ["a week in days, by key", { since: T0 - 7 * DAY, until: T0 + 1, bucketMs: DAY, by: "key" }],
      ["a week in days, by model", {
        since: T0 - 7 * DAY,
        until: T0 + 1,
        bucketMs: DAY,
        by: "model",
      }],
      ["an hour in minutes", { since: T0 - HOUR, until: T0, bucketMs: MINUTE }],
      ["one key and model, by model", {
        since: T0 - 7 * DAY,
        until: T0 + 1,
        bucketMs: 6 * HOUR,
        by: "model",
        keyId: "key_a",
        model: "gpt-4o",
      }],
      ["requests without a model", {
        since: T0 - 7 * DAY,
        until: T0 + 1,
        bucketMs: DAY,
        model: "-",
      }],
      ["fractional bounds", { since: MIDNIGHT - 0.5, until: T0 + 0.5, bucketMs: HOUR }],
      ["a window with nothing", { since: T0 + 2, until: T0 + HOUR, bucketMs: MINUTE }],
    ];
    for (const [name, query] of buckets) {
      await t.step(`buckets(): ${name}`, async () => {
        const rows = await same((reader) => reader.buckets(query));
        const total = rows.reduce((sum, row) => sum + row.requests, 0);
        const { since, until, keyId } = query;
        const summary = await sqlite.summarize({ since, until, ...(keyId ? { keyId } : {}) });
        if (query.model === undefined) {
          assert.equal(total, summary.rows.reduce((sum, row) => sum + row.requests, 0));
        }
        for (const row of rows) assert.equal(row.time % query.bucketMs, 0);
      });
      await t.step(`latencies(): ${name}`, async () => {
        const series = await same((reader) => reader.latencies(query));
        assert.equal(series.sampled, false);
      });
    }
    await t.step("buckets(): groups in byte order, costs exact", async () => {
      const rows = await same((reader) =>
        reader.buckets({ since: T0, until: T0 + 1, bucketMs: DAY, by: "key" })
      );
      assert.deepEqual(rows.map((row) => row.group), ["Key_z", "key_a", "key_ä"]);
      assert.equal(rows.find((row) => row.group === "key_a")?.cost_usd, 1.234567);
    });
    await t.step("latencies(): percentile_cont's interpolation, nulls left out", async () => {
      const series = await same((reader) =>
        reader.latencies({ since: T0 - 7 * DAY, until: T0 + 1, bucketMs: DAY })
      );
      assert.ok(series.buckets.length >= 7);
      assert.ok(series.total.latency_p50_ms !== null && series.total.ttfb_p99_ms !== null);
    });
  } finally {
    await sql.end({ timeout: 1 });
    await Deno.remove(dir, { recursive: true });
  }
});
