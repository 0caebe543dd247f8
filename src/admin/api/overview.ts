/**
 * `GET /admin/api/overview?period=hour|day|month`: requests, errors, tokens and cost per bucket,
 * p50/p99 latency and time to first byte, the window's totals, and the top 10 keys and models by
 * cost (then requests).
 */
import type { LatencyPercentiles, LatencySeries, UsageBucket } from "../../usage/series.ts";
import type { UsageSummaryRow } from "../../usage/summary.ts";
import type { AdminApiDeps } from "./deps.ts";
import {
  describeWindow,
  keyNames,
  parsePeriod,
  sum,
  type Sums,
  type UsageWindow,
  windowOf,
} from "./period.ts";
import type { AdminCall } from "./router.ts";

/** How many keys and models the top lists show. */
export const TOP = 10;

const NO_PERCENTILES: LatencyPercentiles = {
  latency_p50_ms: null,
  latency_p99_ms: null,
  ttfb_p50_ms: null,
  ttfb_p99_ms: null,
};

/** What the usage store says of the window (nothing when there is no store). */
async function read(api: AdminApiDeps, window: UsageWindow) {
  const { usage } = api;
  if (usage === undefined) {
    const latencies: LatencySeries = { buckets: [], total: NO_PERCENTILES, sampled: false };
    return { buckets: [] as UsageBucket[], latencies, rows: [] as UsageSummaryRow[] };
  }
  const query = { since: window.since, until: window.until, bucketMs: window.bucketMs };
  const [buckets, latencies, summary] = await Promise.all([
    usage.buckets(query),
    usage.latencies(query),
    usage.summarize({ since: window.since, until: window.until }),
  ]);
  return { buckets, latencies, rows: summary.rows };
}

/** Rows summed by `groupOf`, ranked by cost, then requests, then name; the first `limit`. */
export function rankBy(
  rows: readonly UsageSummaryRow[],
  groupOf: (row: UsageSummaryRow) => string,
  limit: number = TOP,
): Array<[string, Sums]> {
  const groups = new Map<string, UsageSummaryRow[]>();
  for (const row of rows) {
    const group = groupOf(row);
    const list = groups.get(group);
    if (list === undefined) groups.set(group, [row]);
    else list.push(row);
  }
  return [...groups].map(([group, list]) => [group, sum(list)] as [string, Sums])
    .sort(([a, x], [b, y]) =>
      y.cost_usd - x.cost_usd || y.requests - x.requests || (a < b ? -1 : a > b ? 1 : 0)
    )
    .slice(0, limit);
}

/** `GET /admin/api/overview`. */
export async function overview(call: AdminCall): Promise<Response> {
  const { api } = call;
  const window = windowOf(parsePeriod(call.query), api.now());
  const [{ buckets, latencies, rows }, names] = await Promise.all([
    read(api, window),
    keyNames(api),
  ]);
  const byTime = new Map(buckets.map((bucket) => [bucket.time, bucket]));
  const latencyByTime = new Map(latencies.buckets.map((bucket) => [bucket.time, bucket]));
  const series = window.times.map((time) => {
    const { total_tokens: _total, ...counts } = sum([byTime.get(time) ?? {}]);
    const { time: _time, ...percentiles } = latencyByTime.get(time) ?? { time, ...NO_PERCENTILES };
    return { time: new Date(time).toISOString(), ...counts, ...percentiles };
  });
  const totals = { ...sum(buckets), ...latencies.total };
  const slim = ({ requests, total_tokens, cost_usd }: Sums) => ({
    requests,
    total_tokens,
    cost_usd,
  });
  return Response.json({
    ...describeWindow(window),
    sampled: latencies.sampled,
    series,
    totals,
    top_keys: rankBy(rows, (row) => row.key_id).map(([key_id, sums]) => ({
      key_id,
      name: names.get(key_id) ?? null,
      ...slim(sums),
    })),
    top_models: rankBy(rows, (row) => row.model).map(([model, sums]) => ({ model, ...slim(sums) })),
  });
}
