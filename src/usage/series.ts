/**
 * Usage over time, whichever database it is read from: requests in time buckets (by key, by
 * model or all together) and percentiles of latency and time to first byte per bucket. Both
 * readers answer alike: the same buckets in the same order, costs in whole micro-dollars, and
 * percentiles interpolated as PostgreSQL's `percentile_cont` does ({@linkcode percentileCont}).
 */
import type { UsageTotals } from "./summary.ts";

/**
 * Which requests, in which buckets: `since <= time <= until` (ms since the epoch), cut into
 * buckets of `bucketMs` aligned on multiples of it since the epoch (bucket `n` holds
 * `n * bucketMs <= time < (n + 1) * bucketMs`); of one key and/or one model (the model `-`,
 * `NO_MODEL`, matches requests recorded without one), or of all.
 */
export interface BucketQuery {
  readonly since: number;
  readonly until: number;
  readonly bucketMs: number;
  /** Also split each bucket by key or by model. */
  readonly by?: "key" | "model" | undefined;
  readonly keyId?: string | undefined;
  readonly model?: string | undefined;
}

/** The requests of one bucket (and group). */
export type UsageBucket = UsageTotals & {
  /** Start of the bucket, ms since the epoch. */
  time: number;
  /** The key id or model (by bytes order within a bucket), or null when not split. */
  group: string | null;
};

/** Percentiles of one bucket or window, in ms; null when there was nothing to measure. */
export interface LatencyPercentiles {
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  ttfb_p50_ms: number | null;
  ttfb_p99_ms: number | null;
}

/** Latency percentiles per bucket (only buckets with requests, oldest first) and overall. */
export interface LatencySeries {
  buckets: Array<LatencyPercentiles & { time: number }>;
  total: LatencyPercentiles;
  /** True when only the most recent requests of the window were read (see the reader). */
  sampled: boolean;
}

/** The percentiles reported. */
export const PERCENTILES = [0.5, 0.99] as const;

/** Rows the SQLite reader reads at most for latency percentiles: the window's most recent. */
export const MAX_LATENCY_ROWS = 200_000;

/**
 * The `p` percentile of `sorted` (ascending) as PostgreSQL's `percentile_cont` computes it: the
 * values at `floor` and `ceil` of `p * (n - 1)`, linearly interpolated; null when empty.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentileCont } from "./series.ts";
 * assert.equal(percentileCont([10, 20, 30, 40], 0.5), 25);
 * assert.equal(percentileCont([], 0.99), null);
 * ```
 */
export function percentileCont(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const position = p * (n - 1);
  const first = Math.floor(position);
  const second = Math.ceil(position);
  const low = sorted[first] as number;
  if (first === second) return low;
  const high = sorted[second] as number;
  return low + (position - first) * (high - low);
}

/** The percentiles of unsorted latencies and times to first byte (nulls left out). */
export function percentilesOf(latencies: number[], ttfbs: number[]): LatencyPercentiles {
  const latency = Float64Array.from(latencies).sort();
  const ttfb = Float64Array.from(ttfbs).sort();
  return {
    latency_p50_ms: percentileCont(latency, 0.5),
    latency_p99_ms: percentileCont(latency, 0.99),
    ttfb_p50_ms: percentileCont(ttfb, 0.5),
    ttfb_p99_ms: percentileCont(ttfb, 0.99),
  };
}

/** `[p50, p99]` as a database returns them (an array, or null for no rows) as percentiles. */
export function pairOf(values: unknown): [number | null, number | null] {
  if (!Array.isArray(values)) return [null, null];
  const at = (i: number) =>
    values[i] === null || values[i] === undefined ? null : Number(values[i]);
  return [at(0), at(1)];
}
