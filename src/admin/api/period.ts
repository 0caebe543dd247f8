/**
 * The periods of the admin API's usage pages (`period=hour|day|month`): the last 60 minutes in
 * 1-minute buckets, the last 24 hours in 15-minute buckets, the last 30 days in UTC days. Buckets
 * are aligned on whole minutes, quarter hours and days; the last one is the current, partial one.
 * Also the sums of bucket rows, with costs added in whole micro-dollars.
 */
import { errors } from "../../errors.ts";
import type { AdminApiDeps } from "./deps.ts";
import { toMicroUsd, toUsd } from "../../spend/pricing.ts";
import type { UsageTotals } from "../../usage/summary.ts";

const MINUTE = 60_000;

/** Bucket size and count of each period. */
export const PERIODS = {
  hour: { bucketMs: MINUTE, count: 60 },
  day: { bucketMs: 15 * MINUTE, count: 96 },
  month: { bucketMs: 1_440 * MINUTE, count: 30 },
} as const;

/** One of {@linkcode PERIODS}. */
export type Period = keyof typeof PERIODS;

/** A period's window at a moment. */
export interface UsageWindow {
  readonly period: Period;
  /** The first bucket's start (ms since the epoch). */
  readonly since: number;
  /** Now. */
  readonly until: number;
  readonly bucketMs: number;
  /** Every bucket's start, oldest first. */
  readonly times: readonly number[];
}

/** `period` of the query (default `day`), or a 400 naming it. */
export function parsePeriod(query: URLSearchParams): Period {
  const period = query.get("period") ?? "day";
  if (period === "hour" || period === "day" || period === "month") return period;
  throw errors.invalidRequest(
    `period must be hour, day or month, got ${JSON.stringify(period.slice(0, 40))}`,
    "period",
  );
}

/** The window of `period` ending at `now`. */
export function windowOf(period: Period, now: number): UsageWindow {
  const { bucketMs, count } = PERIODS[period];
  const last = Math.floor(now / bucketMs) * bucketMs;
  const since = last - (count - 1) * bucketMs;
  const times = Array.from({ length: count }, (_, i) => since + i * bucketMs);
  return { period, since, until: now, bucketMs, times };
}

/** The window's fields of an answer: `period`, `since`, `until`, `bucket_seconds`. */
export function describeWindow(window: UsageWindow): Record<string, unknown> {
  return {
    period: window.period,
    since: new Date(window.since).toISOString(),
    until: new Date(window.until).toISOString(),
    bucket_seconds: window.bucketMs / 1000,
  };
}

/** Summed request counts, tokens and cost. */
export type Sums = Omit<UsageTotals, "unpriced_requests">;

/** Adds up rows, costs in whole micro-dollars (exact). */
export function sum(rows: Iterable<Partial<Sums>>): Sums {
  const total = { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let micro = 0;
  for (const row of rows) {
    total.requests += row.requests ?? 0;
    total.errors += row.errors ?? 0;
    total.prompt_tokens += row.prompt_tokens ?? 0;
    total.completion_tokens += row.completion_tokens ?? 0;
    total.total_tokens += row.total_tokens ?? 0;
    micro += toMicroUsd(row.cost_usd ?? 0);
  }
  return { ...total, cost_usd: toUsd(micro) };
}

/** Key id → name, from the key list (empty when there is none or it cannot be read). */
export async function keyNames(api: AdminApiDeps): Promise<Map<string, string>> {
  if (api.keyList === undefined) return new Map();
  try {
    const file = await api.keyList.read();
    return new Map(file.keys.map((key) => [key.id, key.name]));
  } catch (error) {
    api.log.warn("admin API: cannot read key names", {
      error: error instanceof Error ? error.message : String(error),
    });
    return new Map();
  }
}
