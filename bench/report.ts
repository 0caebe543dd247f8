/**
 * The Markdown report: one row per metric, one column per measured target, each cell the median
 * across rounds with its spread (min–max). Ratios and "added" latencies are computed within each
 * round first (targets of one round ran minutes apart at most), then summarised; a ratio or
 * "added" row whose base target was not measured is left out.
 */
import type { CellRecord, ConcurrentRecord, RoundRecord } from "./measure.ts";
import { summarize, type Summary } from "./stats.ts";
import { TARGET_NAMES, type TargetName } from "./targets.ts";

type Value = number | null | undefined;

/** How a metric is read from a target's record of one round. */
type Getter = (record: RoundRecord, round: RoundLookup) => Value;

/** The records of one round by target, for ratios against other targets. */
type RoundLookup = (target: TargetName) => RoundRecord | undefined;

interface Metric {
  readonly label: string;
  readonly get: Getter;
  readonly format: (value: number) => string;
}

const integer = (v: number) => Math.round(v).toLocaleString("en-US");
const ms = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const signedMs = (v: number) => (v >= 0 ? "+" : "") + ms(v);
const ratio = (v: number) => `${v.toFixed(2)}×`;
const percent = (v: number) => `${v.toFixed(0)}%`;
const mib = (v: number) => (v / 1024).toFixed(1);

function cell(record: RoundRecord, connections: number) {
  return record.cells[String(connections)];
}

function rpsRatio(connections: number, base: TargetName): Getter {
  return (record, round) => {
    const own = cell(record, connections)?.rps;
    const other = round(base);
    const theirs = other === undefined ? undefined : cell(other, connections)?.rps;
    return own === undefined || theirs === undefined || theirs === 0 ? null : own / theirs;
  };
}

function addedP50(connections: number, base: TargetName): Getter {
  return (record, round) => {
    const own = cell(record, connections)?.p50Ms;
    const other = round(base);
    const theirs = other === undefined ? undefined : cell(other, connections)?.p50Ms;
    return own === undefined || theirs === undefined ? null : own - theirs;
  };
}

/** The CPU µs per request the load core spends on a cell: wrk, the upstream and Redis. */
function loadSideUs(c: CellRecord | undefined): number | null {
  return c === undefined
    ? null
    : c.wrkCpuUsPerRequest + c.upstreamCpuUsPerRequest + (c.redisCpuUsPerRequest ?? 0);
}

/** The concurrency of the concurrent cell and of the stall check in `records`, if any. */
export interface Concurrency {
  readonly concurrent?: number;
  readonly stall?: number;
}

/** The concurrency levels the records measured (the first record that has each). */
export function concurrencyOf(records: readonly RoundRecord[]): Concurrency {
  const concurrent = records.find((r) => r.concurrent !== null)?.concurrent?.concurrency;
  const stall = records.find((r) => r.stall !== null)?.stall?.concurrency;
  return {
    ...(concurrent === undefined ? {} : { concurrent }),
    ...(stall === undefined ? {} : { stall }),
  };
}

/** The rows of the concurrent cell (`concurrent`) or the stall check (`stall`). */
function concurrentMetrics(
  kind: "concurrent" | "stall",
  n: number,
  has: (target: TargetName) => boolean,
): Metric[] {
  const of = (r: RoundRecord): ConcurrentRecord | null => r[kind];
  if (kind === "stall") {
    return [
      { label: `streams completed @${n} at once`, get: (r) => of(r)?.completed, format: integer },
      { label: `streams stalled @${n} at once`, get: (r) => of(r)?.stalled, format: integer },
      { label: `streams lost @${n} at once`, get: (r) => of(r)?.lost, format: integer },
      { label: `longest byte gap ms @${n} at once`, get: (r) => of(r)?.maxGapMs, format: ms },
      { label: `stream total p50 ms @${n} at once`, get: (r) => of(r)?.totalP50Ms, format: ms },
      {
        label: `proxy peak RSS MiB @${n} at once`,
        get: (r) => of(r)?.proxyPeakRssKib,
        format: mib,
      },
    ];
  }
  const list: Metric[] = [
    { label: `streams/s @${n} conc.`, get: (r) => of(r)?.streamsPerSecond, format: integer },
    { label: `stream TTFB p50 ms @${n} conc.`, get: (r) => of(r)?.ttfbP50Ms, format: ms },
    { label: `stream TTFB p99 ms @${n} conc.`, get: (r) => of(r)?.ttfbP99Ms, format: ms },
    { label: `stream total p50 ms @${n} conc.`, get: (r) => of(r)?.totalP50Ms, format: ms },
    {
      label: `proxy CPU µs/stream @${n} conc.`,
      get: (r) => of(r)?.proxyCpuUsPerStream,
      format: (v) => v.toFixed(0),
    },
    { label: `proxy peak RSS MiB @${n} conc.`, get: (r) => of(r)?.proxyPeakRssKib, format: mib },
  ];
  if (has("direct")) {
    list.push(
      {
        label: `streams/s @${n} conc. ÷ direct`,
        get: (r, round) => {
          const own = of(r)?.streamsPerSecond;
          const direct = round("direct")?.concurrent?.streamsPerSecond;
          return own === undefined || direct === undefined || direct === 0 ? null : own / direct;
        },
        format: ratio,
      },
      {
        label: `added stream TTFB p50 ms @${n} conc. (vs direct)`,
        get: (r, round) => {
          const own = of(r)?.ttfbP50Ms;
          const direct = round("direct")?.concurrent?.ttfbP50Ms;
          return own === undefined || direct === undefined ? null : own - direct;
        },
        format: signedMs,
      },
    );
  }
  return list;
}

function metrics(
  connections: readonly number[],
  targets: readonly TargetName[],
  concurrency: Concurrency = {},
): Metric[] {
  const has = (target: TargetName) => targets.includes(target);
  const list: Metric[] = [];
  for (const c of connections) {
    list.push({ label: `req/s @${c}`, get: (r) => cell(r, c)?.rps, format: integer });
  }
  for (const c of connections) {
    list.push({ label: `p50 ms @${c}`, get: (r) => cell(r, c)?.p50Ms, format: ms });
    list.push({ label: `p99 ms @${c}`, get: (r) => cell(r, c)?.p99Ms, format: ms });
  }
  list.push(
    { label: "stream TTFB p50 ms", get: (r) => r.stream.ttfbP50Ms, format: ms },
    { label: "stream TTFB p99 ms", get: (r) => r.stream.ttfbP99Ms, format: ms },
    { label: "stream total p50 ms", get: (r) => r.stream.totalP50Ms, format: ms },
    { label: "stream total p99 ms", get: (r) => r.stream.totalP99Ms, format: ms },
    {
      label: "proxy CPU µs/streamed req",
      get: (r) => r.stream.proxyCpuUsPerRequest,
      format: (v) => v.toFixed(0),
    },
  );
  const main = connections.includes(32) ? 32 : connections.at(-1) ?? 32;
  const first = connections.includes(1) ? 1 : connections[0] ?? 1;
  list.push(
    {
      label: `proxy CPU µs/req @${main}`,
      get: (r) => cell(r, main)?.proxyCpuUsPerRequest,
      format: (v) => v.toFixed(0),
    },
    {
      label: "proxy peak RSS MiB",
      get: (r) => r.proxyPeakRssKib,
      format: mib,
    },
    ...connections.map((c): Metric => ({
      label: `proxy peak RSS MiB @${c}`,
      get: (r) => cell(r, c)?.proxyPeakRssKib,
      format: mib,
    })),
    {
      label: `proxy CPU % of a core @${main}`,
      get: (r) => cell(r, main)?.proxyCpuPercent,
      format: percent,
    },
    {
      label: `wrk + upstream CPU µs/req @${main}`,
      get: (r) => {
        const c = cell(r, main);
        return c === undefined ? null : c.wrkCpuUsPerRequest + c.upstreamCpuUsPerRequest;
      },
      format: (v) => v.toFixed(0),
    },
  );
  if (has("choreoai-redis")) {
    list.push(
      {
        label: `redis-server CPU µs/req @${main}`,
        get: (r) => cell(r, main)?.redisCpuUsPerRequest,
        format: (v) => v.toFixed(0),
      },
      {
        label: `Redis script calls/req @${main}`,
        get: (r) => cell(r, main)?.redisCallsPerRequest,
        format: (v) => v.toFixed(2),
      },
    );
  }
  list.push(
    {
      label: `load-core capacity req/s @${main}`,
      get: (r) => {
        const us = loadSideUs(cell(r, main));
        return us !== null && us > 0 ? 1e6 / us : null;
      },
      format: integer,
    },
    {
      label: `other work on proxy core @${main}`,
      get: (r) => cell(r, main)?.proxyCoreOtherPercent,
      format: percent,
    },
    {
      label: `other work on load core @${main}`,
      get: (r) => cell(r, main)?.loadCoreOtherPercent,
      format: percent,
    },
  );
  for (const base of ["direct", "nginx", "bare", "choreoai"] as const) {
    if (!has(base)) continue;
    list.push({ label: `req/s @${main} ÷ ${base}`, get: rpsRatio(main, base), format: ratio });
  }
  for (const base of ["direct", "choreoai"] as const) {
    if (!has(base)) continue;
    list.push({
      label: `added p50 ms @${first} (vs ${base})`,
      get: addedP50(first, base),
      format: signedMs,
    });
  }
  if (has("direct")) {
    list.push({
      label: "added stream TTFB p50 ms (vs direct)",
      get: (r, round) => {
        const direct = round("direct")?.stream.ttfbP50Ms;
        return direct === undefined ? null : r.stream.ttfbP50Ms - direct;
      },
      format: signedMs,
    });
  }
  if (concurrency.concurrent !== undefined) {
    list.push(...concurrentMetrics("concurrent", concurrency.concurrent, has));
  }
  if (concurrency.stall !== undefined) {
    list.push(...concurrentMetrics("stall", concurrency.stall, has));
  }
  list.push(
    {
      label: "errors (non-2xx + socket + stream failed, stalled or lost)",
      get: (r) =>
        Object.values(r.cells).reduce((sum, c) => sum + c.non2xx + c.socketErrors, 0) +
        r.stream.failures + [r.concurrent, r.stall].reduce(
          (sum, c) => sum + (c === null ? 0 : c.stalled + c.lost),
          0,
        ),
      format: integer,
    },
  );
  return list;
}

function formatSummary(
  summary: Summary | undefined,
  format: (v: number) => string,
): string {
  if (summary === undefined) return "—";
  if (summary.n === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

/** The targets that have records, in {@linkcode TARGET_NAMES} order. */
export function measuredTargets(records: readonly RoundRecord[]): TargetName[] {
  return TARGET_NAMES.filter((target) => records.some((r) => r.target === target));
}

/** Every metric's per-round values, by target (for the JSON file). */
export function summarizeRecords(
  records: readonly RoundRecord[],
  connections: readonly number[],
  targets: readonly TargetName[] = measuredTargets(records),
): Record<string, Record<string, Summary | undefined>> {
  const rounds = [...new Set(records.map((r) => r.round))];
  const lookup = (round: number): RoundLookup => (target) =>
    records.find((r) => r.round === round && r.target === target);
  const result: Record<string, Record<string, Summary | undefined>> = {};
  for (const metric of metrics(connections, targets, concurrencyOf(records))) {
    const row: Record<string, Summary | undefined> = {};
    for (const target of targets) {
      row[target] = summarize(rounds.map((round) => {
        const record = lookup(round)(target);
        return record === undefined ? null : metric.get(record, lookup(round));
      }));
    }
    result[metric.label] = row;
  }
  return result;
}

/** The Markdown table: one column per target of `targets` (default: those with records). */
export function markdownTable(
  records: readonly RoundRecord[],
  connections: readonly number[],
  targets: readonly TargetName[] = measuredTargets(records),
): string {
  const summaries = summarizeRecords(records, connections, targets);
  const lines = [
    `| metric | ${targets.join(" | ")} |`,
    `|---|${targets.map(() => "---:").join("|")}|`,
  ];
  for (const metric of metrics(connections, targets, concurrencyOf(records))) {
    const row = summaries[metric.label] ?? {};
    const cells = targets.map((target) => formatSummary(row[target], metric.format));
    lines.push(`| ${metric.label} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * Cells where the load side, not the proxy, was the limit: the load core ≥ 90% busy while the
 * proxy used < 90% of its core. Their req/s is a lower bound for that proxy.
 */
export function loadBoundNotes(records: readonly RoundRecord[]): string[] {
  const counts = new Map<string, { hits: number; rounds: number; proxy: number[] }>();
  for (const record of records) {
    for (const cell of Object.values(record.cells)) {
      if (cell.proxyCpuPercent === null || cell.loadCoreBusyPercent === null) continue;
      const key = `${record.target} @${cell.connections}`;
      const entry = counts.get(key) ?? { hits: 0, rounds: 0, proxy: [] };
      entry.rounds++;
      if (cell.loadCoreBusyPercent >= 90 && cell.proxyCpuPercent < 90) {
        entry.hits++;
        entry.proxy.push(cell.proxyCpuPercent);
      }
      counts.set(key, entry);
    }
  }
  const notes: string[] = [];
  for (const [key, { hits, rounds, proxy }] of counts) {
    if (hits === 0) continue;
    notes.push(
      `${key}: load core saturated (≥ 90% busy) while the proxy used only ` +
        `${proxy.map((p) => p.toFixed(0) + "%").join("/")} of its core, in ${hits} of ` +
        `${rounds} round(s): its req/s there is a lower bound, limited by wrk + upstream.`,
    );
  }
  return notes;
}
