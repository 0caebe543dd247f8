/**
 * The aggregations of the fake admin API (`_fake_admin_api.ts`): overview, usage and provider
 * answers computed from the gateway's own usage records, in the contract's shapes.
 */
import type { UsageRecord } from "../../src/usage/recorder.ts";

/** The contract's periods: bucket size and count. */
const PERIODS = {
  hour: { bucket: 60, count: 60 },
  day: { bucket: 900, count: 96 },
  month: { bucket: 86_400, count: 30 },
} as const;

/** A period of the contract. */
export type Period = keyof typeof PERIODS;

/** Buckets of a period ending at `now`: their start times (ms) and the records in each. */
function buckets(records: readonly UsageRecord[], period: Period, now: number) {
  const { bucket, count } = PERIODS[period];
  const size = bucket * 1000;
  const last = Math.floor(now / size) * size;
  const since = last - (count - 1) * size;
  const starts = Array.from({ length: count }, (_, i) => since + i * size);
  const inWindow = records.filter((r) => r.time >= since && r.time < last + size);
  const of = (start: number) => inWindow.filter((r) => r.time >= start && r.time < start + size);
  return { since, until: last + size, bucket, starts, inWindow, of };
}

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;
}

function sums(records: readonly UsageRecord[]) {
  const ttfb = records.flatMap((r) => (r.ttfb_ms === null ? [] : [r.ttfb_ms]));
  const latency = records.map((r) => r.latency_ms);
  return {
    requests: records.length,
    errors: records.filter((r) => r.status >= 400).length,
    prompt_tokens: records.reduce((s, r) => s + r.prompt_tokens, 0),
    completion_tokens: records.reduce((s, r) => s + r.completion_tokens, 0),
    total_tokens: records.reduce((s, r) => s + r.total_tokens, 0),
    cost_usd: records.reduce((s, r) => s + (r.cost_usd ?? 0), 0),
    latency_p50_ms: percentile(latency, 0.5),
    latency_p99_ms: percentile(latency, 0.99),
    ttfb_p50_ms: percentile(ttfb, 0.5),
    ttfb_p99_ms: percentile(ttfb, 0.99),
  };
}

function groupBy<K>(records: readonly UsageRecord[], key: (r: UsageRecord) => K) {
  const groups = new Map<K, UsageRecord[]>();
  for (const record of records) groups.set(key(record), [...groups.get(key(record)) ?? [], record]);
  return [...groups].sort((a, b) => b[1].length - a[1].length);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A JSON answer. */
export type Json = Record<string, unknown>;

/** The answer of `GET /admin/api/usage`. */
export interface UsageAnswer extends Json {
  readonly period: Period;
  readonly by: "key" | "model";
  readonly rows: readonly Json[];
}

/** `GET /admin/api/overview`. */
export function overview(
  records: readonly UsageRecord[],
  { period, now, nameOf }: { period: Period; now: number; nameOf: (id: string) => string },
): Json {
  const b = buckets(records, period, now);
  const { total_tokens: _, ...totalsWithout } = sums([]);
  return {
    period,
    since: iso(b.since),
    until: iso(b.until),
    bucket_seconds: b.bucket,
    series: b.starts.map((start) => {
      const { total_tokens: _total, ...point } = sums(b.of(start));
      return { time: iso(start), ...point };
    }),
    totals: { ...totalsWithout, ...sums(b.inWindow) },
    top_keys: groupBy(b.inWindow, (r) => r.key_id).slice(0, 10).map(([id, rs]) => {
      const s = sums(rs);
      return {
        key_id: id,
        name: nameOf(id),
        requests: s.requests,
        total_tokens: s.total_tokens,
        cost_usd: s.cost_usd,
      };
    }),
    top_models: groupBy(b.inWindow, (r) => r.model).slice(0, 10).map(([model, rs]) => {
      const s = sums(rs);
      return { model, requests: s.requests, total_tokens: s.total_tokens, cost_usd: s.cost_usd };
    }),
  };
}

/** `GET /admin/api/usage`: rows and series per key or model. */
export function usage(
  records: readonly UsageRecord[],
  options: {
    period: Period;
    now: number;
    by: "key" | "model";
    only: string | null;
    nameOf: (id: string) => string;
  },
): UsageAnswer {
  const b = buckets(records, options.period, options.now);
  const groupOf = (r: UsageRecord) => (options.by === "key" ? r.key_id : r.model ?? "");
  const selected = b.inWindow.filter((r) => options.only === null || groupOf(r) === options.only);
  const groups = groupBy(selected, groupOf);
  return {
    period: options.period,
    since: iso(b.since),
    until: iso(b.until),
    bucket_seconds: b.bucket,
    by: options.by,
    rows: groups.map(([group, rs]) => {
      const { latency_p50_ms: _1, latency_p99_ms: _2, ttfb_p50_ms: _3, ttfb_p99_ms: _4, ...s } =
        sums(rs);
      return options.by === "key"
        ? { key_id: group, name: options.nameOf(group), ...s }
        : { model: group, ...s };
    }),
    series: groups.map(([group, rs]) => ({
      group,
      points: b.starts.map((start) => {
        const s = sums(rs.filter((r) => r.time >= start && r.time < start + b.bucket * 1000));
        return {
          time: iso(start),
          requests: s.requests,
          total_tokens: s.total_tokens,
          cost_usd: s.cost_usd,
        };
      }),
    })),
  };
}

/** The rows of a usage answer as CSV with a header line. */
export function usageCsv(rows: readonly Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? { key_id: "", requests: 0 });
  const cell = (
    v: unknown,
  ) => (/[",\n]/.test(String(v ?? "")) ? `"${String(v).replaceAll('"', '""')}"` : String(v ?? ""));
  return [columns.join(","), ...rows.map((row) => columns.map((c) => cell(row[c])).join(","))].join(
    "\n",
  ) + "\n";
}

/** `GET /admin/api/providers`: per target of the last 15 minutes, from the records. */
export function providers(
  records: readonly UsageRecord[],
  { now, targets }: { now: number; targets: readonly string[] },
): Json {
  const recent = records.filter((r) => r.time >= now - 900_000 && r.model !== null);
  const byTarget = new Map(targets.map((t) => [t, [] as UsageRecord[]]));
  for (const r of recent) {
    // A failed request names no provider: its target is found by its model.
    const target = r.provider === null
      ? targets.find((t) => t.endsWith(`/${r.model}`)) ?? `unknown/${r.model}`
      : `${r.provider}/${r.model}`;
    byTarget.set(target, [...byTarget.get(target) ?? [], r]);
  }
  return {
    window_seconds: 900,
    data: [...byTarget].map(([target, rs]) => {
      const failed = rs.filter((r) => r.status >= 500);
      const lastTwo = rs.slice(-2);
      return {
        target,
        provider: target.split("/")[0],
        breaker: lastTwo.length === 2 && lastTwo.every((r) => r.status >= 500) ? "open" : "closed",
        attempts: rs.length,
        errors: failed.length,
        error_rate: rs.length === 0 ? 0 : failed.length / rs.length,
        latency_p50_ms: percentile(rs.map((r) => r.latency_ms), 0.5),
        latency_p99_ms: percentile(rs.map((r) => r.latency_ms), 0.99),
        recent_errors: failed.slice(-10).reverse().map((r) => ({
          time: iso(r.time),
          status: r.status,
          code: "upstream_error",
          message: "The provider answered 500",
        })),
      };
    }),
  };
}
