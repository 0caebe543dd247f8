/**
 * `GET /admin/api/usage?period=hour|day|month&by=key|model&key_id=&model=[&format=csv]`: usage of
 * the window per key or per model (every one, ranked by cost, then requests), and each one's
 * series per bucket; as CSV, the rows.
 */
import { errors } from "../../errors.ts";
import type { UsageBucket } from "../../usage/series.ts";
import type { UsageSummaryRow } from "../../usage/summary.ts";
import { toCsv } from "./csv.ts";
import { rankBy } from "./overview.ts";
import { describeWindow, keyNames, parsePeriod, windowOf } from "./period.ts";
import type { AdminCall } from "./router.ts";

const SUM_COLUMNS = [
  "requests",
  "errors",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "cost_usd",
] as const;

/** A query parameter that must be one of `allowed` (the first is the default). */
function oneOf<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[]): T {
  const value = query.get(name) ?? allowed[0];
  const found = allowed.find((known) => known === value);
  if (found !== undefined) return found;
  throw errors.invalidRequest(
    `${name} must be ${allowed.join(" or ")}, got ${JSON.stringify(String(value).slice(0, 40))}`,
    name,
  );
}

/** A filter parameter: undefined when absent or empty. */
function filter(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === "" ? undefined : value;
}

/** `GET /admin/api/usage`. */
export async function usage(call: AdminCall): Promise<Response> {
  const { api, query } = call;
  const period = parsePeriod(query);
  const by = oneOf(query, "by", ["key", "model"] as const);
  const format = oneOf(query, "format", ["json", "csv"] as const);
  const keyId = filter(query, "key_id");
  const model = filter(query, "model");
  const window = windowOf(period, api.now());
  const { since, until, bucketMs } = window;
  let summary: UsageSummaryRow[] = [];
  let buckets: UsageBucket[] = [];
  const [names] = await Promise.all([
    by === "key" ? keyNames(api) : new Map<string, string>(),
    (async () => {
      if (api.usage === undefined) return;
      [{ rows: summary }, buckets] = await Promise.all([
        api.usage.summarize({ since, until, ...(keyId === undefined ? {} : { keyId }) }),
        api.usage.buckets({ since, until, bucketMs, by, keyId, model }),
      ]);
    })(),
  ]);
  const matching = model === undefined ? summary : summary.filter((row) => row.model === model);
  const ranked = rankBy(matching, (row) => by === "key" ? row.key_id : row.model, Infinity);
  const rows = ranked.map(([group, sums]) =>
    by === "key"
      ? { key_id: group, name: names.get(group) ?? null, ...sums }
      : { model: group, ...sums }
  );
  if (format === "csv") {
    const columns = by === "key" ? ["key_id", "name", ...SUM_COLUMNS] : ["model", ...SUM_COLUMNS];
    return new Response(toCsv(columns, rows), {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="choreoai-usage-${period}-${by}.csv"`,
      },
    });
  }
  const points = new Map<string, UsageBucket>();
  for (const bucket of buckets) points.set(`${bucket.time} ${bucket.group}`, bucket);
  const series = ranked.map(([group]) => ({
    group,
    points: window.times.map((time) => {
      const bucket = points.get(`${time} ${group}`);
      return {
        time: new Date(time).toISOString(),
        requests: bucket?.requests ?? 0,
        total_tokens: bucket?.total_tokens ?? 0,
        cost_usd: bucket?.cost_usd ?? 0,
      };
    }),
  }));
  return Response.json({
    ...describeWindow(window),
    by,
    ...(keyId === undefined ? {} : { key_id: keyId }),
    ...(model === undefined ? {} : { model }),
    rows,
    series,
  });
}
