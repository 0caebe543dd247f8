/**
 * Usage over time from PostgreSQL: the same buckets as the SQLite reader (src/usage/buckets.ts)
 * for the same records, and latency percentiles by `percentile_cont` over every request of the
 * window (never sampled).
 */
import type { Sql } from "./connect.ts";
import {
  type BucketQuery,
  type LatencyPercentiles,
  type LatencySeries,
  pairOf,
  PERCENTILES,
  type UsageBucket,
} from "../usage/series.ts";
import { NO_MODEL, toTotals } from "../usage/summary.ts";

/** The summed columns of every PostgreSQL usage query, as the SQLite reader sums them. */
export function totalsSql(sql: Sql): ReturnType<Sql> {
  return sql`
    count(*)::bigint AS requests,
    count(*) FILTER (WHERE status >= 400)::bigint AS errors,
    sum(prompt_tokens)::bigint AS prompt_tokens,
    sum(completion_tokens)::bigint AS completion_tokens,
    sum(total_tokens)::bigint AS total_tokens,
    COALESCE(sum(cost_micro_usd), 0)::bigint AS cost_micro_usd,
    count(*) FILTER (WHERE unpriced)::bigint AS unpriced_requests`;
}

function filterOf(sql: Sql, query: BucketQuery) {
  const key = query.keyId === undefined ? sql`` : sql`AND key_id = ${query.keyId}`;
  const model = query.model === undefined
    ? sql``
    : sql`AND COALESCE(model, ${NO_MODEL}) = ${query.model}`;
  return sql`time >= ${Math.floor(query.since)} AND time <= ${
    Math.ceil(query.until)
  } ${key} ${model}`;
}

function bucketSize(query: BucketQuery): number {
  return Math.max(1, Math.trunc(query.bucketMs));
}

/** See `UsageReader.buckets`. */
export async function readPostgresBuckets(sql: Sql, query: BucketQuery): Promise<UsageBucket[]> {
  const size = bucketSize(query);
  const group = query.by === "key"
    ? sql`key_id COLLATE "C"`
    : query.by === "model"
    ? sql`COALESCE(model, ${NO_MODEL}) COLLATE "C"`
    : sql`NULL::text`;
  const rows = await sql<Record<string, unknown>[]>`
    SELECT time / ${size}::bigint AS bucket, ${group} AS grp, ${totalsSql(sql)}
    FROM requests
    WHERE ${filterOf(sql, query)}
    GROUP BY 1, 2
    ORDER BY 1, 2`;
  return rows.map((row) => ({
    time: Number(row.bucket) * size,
    group: row.grp === null || row.grp === undefined ? null : String(row.grp),
    ...toTotals(row),
  }));
}

function percentilesOfRow(row: Record<string, unknown>): LatencyPercentiles {
  const [latencyP50, latencyP99] = pairOf(row.latency);
  const [ttfbP50, ttfbP99] = pairOf(row.ttfb);
  return {
    latency_p50_ms: latencyP50,
    latency_p99_ms: latencyP99,
    ttfb_p50_ms: ttfbP50,
    ttfb_p99_ms: ttfbP99,
  };
}

/** See `UsageReader.latencies`: one pass, per bucket and over the window (grouping sets). */
export async function readPostgresLatencies(
  sql: Sql,
  query: BucketQuery,
): Promise<LatencySeries> {
  const size = bucketSize(query);
  const percentiles = sql.array([...PERCENTILES]);
  const rows = await sql<Record<string, unknown>[]>`
    SELECT bucket,
      percentile_cont(${percentiles}::float8[]) WITHIN GROUP (ORDER BY latency_ms) AS latency,
      percentile_cont(${percentiles}::float8[]) WITHIN GROUP (ORDER BY ttfb_ms) AS ttfb
    FROM (
      SELECT time / ${size}::bigint AS bucket, latency_ms, ttfb_ms FROM requests
      WHERE ${filterOf(sql, query)}
    ) AS window_requests
    GROUP BY GROUPING SETS ((bucket), ())
    ORDER BY bucket NULLS FIRST`;
  let total = percentilesOfRow({});
  const buckets: LatencySeries["buckets"] = [];
  for (const row of rows) {
    if (row.bucket === null) total = percentilesOfRow(row);
    else buckets.push({ time: Number(row.bucket) * size, ...percentilesOfRow(row) });
  }
  return { buckets, total, sampled: false };
}
