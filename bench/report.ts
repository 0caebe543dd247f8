/**
 * The Markdown report: one row per metric, one column per target, each cell the median across
 * rounds with its spread (min–max). Ratios and "added" latencies are computed within each round
 * first (targets of one round ran minutes apart at most), then summarised.
 */
import type { RoundRecord } from "./measure.ts";
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

function metrics(connections: readonly number[]): Metric[] {
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
    {
      label: `upstream CPU µs/req @${main}`,
      get: (r) => cell(r, main)?.upstreamCpuUsPerRequest,
      format: (v) => v.toFixed(0),
    },
    {
      label: `load core busy @${main}`,
      get: (r) => cell(r, main)?.loadCoreBusyPercent,
      format: percent,
    },
    {
      label: `proxy core busy @${main}`,
      get: (r) => cell(r, main)?.proxyCoreBusyPercent,
      format: percent,
    },
    { label: `req/s @${main} ÷ direct`, get: rpsRatio(main, "direct"), format: ratio },
    { label: `req/s @${main} ÷ nginx`, get: rpsRatio(main, "nginx"), format: ratio },
    { label: `req/s @${main} ÷ bare`, get: rpsRatio(main, "bare"), format: ratio },
    {
      label: `added p50 ms @${first} (vs direct)`,
      get: (r, round) => {
        const own = cell(r, first)?.p50Ms;
        const base = round("direct");
        const direct = base === undefined ? undefined : cell(base, first)?.p50Ms;
        return own === undefined || direct === undefined ? null : own - direct;
      },
      format: signedMs,
    },
    {
      label: "added stream TTFB p50 ms (vs direct)",
      get: (r, round) => {
        const direct = round("direct")?.stream.ttfbP50Ms;
        return direct === undefined ? null : r.stream.ttfbP50Ms - direct;
      },
      format: signedMs,
    },
    {
      label: "errors (non-2xx + socket + stream)",
      get: (r) =>
        Object.values(r.cells).reduce((sum, c) => sum + c.non2xx + c.socketErrors, 0) +
        r.stream.failures,
      format: integer,
    },
  );
  return list;
}

function formatSummary(summary: Summary | undefined, format: (v: number) => string): string {
  if (summary === undefined) return "—";
  if (summary.n === 1 || summary.min === summary.max) return format(summary.median);
  return `${format(summary.median)} (${format(summary.min)}–${format(summary.max)})`;
}

/** Every metric's per-round values, by target (for the JSON file). */
export function summarizeRecords(
  records: readonly RoundRecord[],
  connections: readonly number[],
): Record<string, Record<string, Summary | undefined>> {
  const rounds = [...new Set(records.map((r) => r.round))];
  const lookup = (round: number): RoundLookup => (target) =>
    records.find((r) => r.round === round && r.target === target);
  const result: Record<string, Record<string, Summary | undefined>> = {};
  for (const metric of metrics(connections)) {
    const row: Record<string, Summary | undefined> = {};
    for (const target of TARGET_NAMES) {
      row[target] = summarize(rounds.map((round) => {
        const record = lookup(round)(target);
        return record === undefined ? null : metric.get(record, lookup(round));
      }));
    }
    result[metric.label] = row;
  }
  return result;
}

/** The Markdown table. */
export function markdownTable(
  records: readonly RoundRecord[],
  connections: readonly number[],
): string {
  const summaries = summarizeRecords(records, connections);
  const lines = [
    `| metric | ${TARGET_NAMES.join(" | ")} |`,
    `|---|${TARGET_NAMES.map(() => "---:").join("|")}|`,
  ];
  for (const metric of metrics(connections)) {
    const row = summaries[metric.label] ?? {};
    const cells = TARGET_NAMES.map((target) => formatSummary(row[target], metric.format));
    lines.push(`| ${metric.label} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
