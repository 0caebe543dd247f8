/**
 * Usage over time from the SQLite usage database: requests in time buckets, and latency
 * percentiles per bucket. Like every SQLite read, the file is opened read-only and never created
 * (a missing file reads as no usage). SQLite has no `percentile_cont`, so the percentiles are
 * computed here from the window's values, reading at most the most recent `maxRows` requests.
 */
import { openReadOnlyDb } from "./_db.ts";
import { totalsSql } from "./query.ts";
import {
  type BucketQuery,
  type LatencySeries,
  MAX_LATENCY_ROWS,
  percentilesOf,
  type UsageBucket,
} from "./series.ts";
import { NO_MODEL, toTotals } from "./summary.ts";

/** The WHERE clause of a bucket query and its parameters. */
function filterOf(
  query: BucketQuery,
): { where: string; parameters: Record<string, string | number> } {
  const parameters: Record<string, string | number> = {
    since: Math.floor(query.since),
    until: Math.ceil(query.until),
  };
  let where = "time >= :since AND time <= :until";
  if (query.keyId !== undefined) {
    where += " AND key_id = :key_id";
    parameters.key_id = query.keyId;
  }
  if (query.model !== undefined) {
    where += " AND COALESCE(model, :no_model) = :model";
    parameters.model = query.model;
    parameters.no_model = NO_MODEL;
  }
  return { where, parameters };
}

/** A bucket size in whole milliseconds, at least 1. */
function bucketSize(query: BucketQuery): number {
  return Math.max(1, Math.trunc(query.bucketMs));
}

/**
 * Sums the window's requests per bucket (and per key or model with `by`): the buckets with
 * requests, oldest first, groups in byte order within a bucket.
 */
export function readUsageBuckets(dbPath: string, query: BucketQuery): UsageBucket[] {
  const db = openReadOnlyDb(dbPath);
  if (db === undefined) return [];
  try {
    const { where, parameters } = filterOf(query);
    const group = query.by === "key"
      ? "key_id"
      : query.by === "model"
      ? "COALESCE(model, :group_no_model)"
      : "NULL";
    if (query.by === "model") parameters.group_no_model = NO_MODEL;
    const size = bucketSize(query);
    const rows = db.prepare(`
      SELECT time / ${size} AS bucket, ${group} AS grp, ${totalsSql(db)}
      FROM requests
      WHERE ${where}
      GROUP BY 1, 2
      ORDER BY 1, 2`).all(parameters);
    return rows.map((row) => ({
      time: Number(row.bucket) * size,
      group: row.grp === null || row.grp === undefined ? null : String(row.grp),
      ...toTotals(row),
    }));
  } finally {
    db.close();
  }
}

/**
 * Percentiles of latency and time to first byte per bucket and over the window, from the
 * window's most recent `maxRows` requests at most (`sampled` says when there were more).
 */
export function readLatencies(
  dbPath: string,
  query: BucketQuery,
  maxRows: number = MAX_LATENCY_ROWS,
): LatencySeries {
  const empty = percentilesOf([], []);
  const db = openReadOnlyDb(dbPath);
  if (db === undefined) return { buckets: [], total: empty, sampled: false };
  const size = bucketSize(query);
  const byBucket = new Map<number, { latencies: number[]; ttfbs: number[] }>();
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  let sampled = false;
  try {
    const { where, parameters } = filterOf(query);
    const statement = db.prepare(`
      SELECT time, latency_ms, ttfb_ms FROM requests
      WHERE ${where}
      ORDER BY time DESC
      LIMIT ${Math.max(0, Math.trunc(maxRows)) + 1}`);
    let count = 0;
    for (const row of statement.iterate(parameters)) {
      if (++count > maxRows) {
        sampled = true;
        break;
      }
      const bucket = Math.floor(Number(row.time) / size);
      let values = byBucket.get(bucket);
      if (values === undefined) byBucket.set(bucket, values = { latencies: [], ttfbs: [] });
      const latency = Number(row.latency_ms);
      values.latencies.push(latency);
      latencies.push(latency);
      if (row.ttfb_ms !== null && row.ttfb_ms !== undefined) {
        values.ttfbs.push(Number(row.ttfb_ms));
        ttfbs.push(Number(row.ttfb_ms));
      }
    }
  } finally {
    db.close();
  }
  const buckets = [...byBucket.entries()].sort(([a], [b]) => a - b).map(([bucket, values]) => ({
    time: bucket * size,
    ...percentilesOf(values.latencies, values.ttfbs),
  }));
  return { buckets, total: percentilesOf(latencies, ttfbs), sampled };
}
