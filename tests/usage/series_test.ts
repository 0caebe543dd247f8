/**
 * Percentiles as PostgreSQL's percentile_cont computes them, and the SQLite reader's bound on the
 * rows it reads for them (`sampled`).
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { createSqliteUsageReader } from "../../src/usage/reader.ts";
import { openUsageRecorder } from "../../src/usage/recorder.ts";
import { percentileCont } from "../../src/usage/series.ts";
import { T0, usageRecord } from "../_helpers/usage_records.ts";

Deno.test("percentileCont() interpolates between the ranks around p × (n − 1)", async (t) => {
  const cases: [number[], number, number | null][] = [
    [[], 0.5, null],
    [[7], 0.99, 7],
    [[1, 2], 0.5, 1.5],
    [[10, 20, 30, 40], 0.5, 25],
    [[10, 20, 30, 40], 0.99, 39.7],
    [Array.from({ length: 101 }, (_, i) => i), 0.99, 99],
  ];
  for (const [values, p, expected] of cases) {
    await t.step(`${values.length} values, p${p * 100}`, () => {
      const got = percentileCont(values, p);
      if (expected === null) assert.equal(got, null);
      else assert.ok(Math.abs((got ?? NaN) - expected) < 1e-9, `${got} vs ${expected}`);
    });
  }
});

Deno.test("SQLite latencies(): at most maxLatencyRows of the most recent, then sampled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-series-" });
  try {
    const path = `${dir}/usage.db`;
    const recorder = openUsageRecorder(path, { log: createLogger(() => {}, Date.now) });
    // Ten old slow requests, then ten recent fast ones.
    for (let i = 0; i < 20; i++) {
      recorder.record(usageRecord({ time: T0 + i * 1000, latency_ms: i < 10 ? 900 : 100 }));
    }
    await recorder.close();
    const query = { since: T0, until: T0 + 60_000, bucketMs: 60_000 };
    const all = await createSqliteUsageReader(path).latencies(query);
    assert.equal(all.sampled, false);
    assert.equal(all.total.latency_p50_ms, 500);
    const cut = await createSqliteUsageReader(path, { maxLatencyRows: 10 }).latencies(query);
    assert.equal(cut.sampled, true);
    assert.equal(cut.total.latency_p99_ms, 100);
    // The counts are not sampled.
    const [bucket] = await createSqliteUsageReader(path, { maxLatencyRows: 10 }).buckets(query);
    assert.equal(bucket?.requests, 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
