/**
 * The "Targets" table: each figure of the performance issue, measured on the production
 * target (`choreoai-prod`), beside its target, with a pass/fail mark.
 *
 * Comparisons with `bare` or `direct` are computed within each round first (ratio or
 * difference), then summarised as median (min–max) across rounds; a figure passes when its
 * median meets the target. A figure whose inputs were not measured shows `—`. The cost of the
 * metrics compares `choreoai-prod` (metrics on) with `choreoai-prod-nometrics` the same way.
 */
import type { RoundRecord } from "./measure.ts";
import { concurrencyOf } from "./report.ts";
import { curveText, type SoakSummary } from "./soak.ts";
import type { StartupRun } from "./startup.ts";
import { summarize, type Summary } from "./stats.ts";
import { PROD_NOMETRICS_TARGET, PROD_TARGET, type TargetName } from "./targets.ts";

/** A target: the measured value must be at least (`≥`) or at most (`≤`) `limit`. */
export interface Bound {
  readonly op: "≥" | "≤";
  readonly limit: number;
}

/** The targets of the issue. */
export const FIGURE_TARGETS = {
  /** req/s @32 ÷ bare's. */
  rpsVsBare: { op: "≥", limit: 0.85 },
  /** Proxy CPU µs/req @32 ÷ bare's. */
  cpuVsBare: { op: "≤", limit: 1.3 },
  /** p50 @1 connection minus direct's, ms. */
  addedP50: { op: "≤", limit: 0.3 },
  /** Stream first byte p50, one stream at a time, minus direct's, ms. */
  addedTtfb: { op: "≤", limit: 0.5 },
  /** Stream first byte p50 with 128 streams at a time, minus direct's, ms. */
  addedTtfbConcurrent: { op: "≤", limit: 2 },
  /** Streams/s with 128 streams at a time ÷ direct's. */
  streamsVsDirect: { op: "≥", limit: 0.98 },
  /** Peak RSS @256 connections minus bare's, MiB. */
  peakRssOverBare: { op: "≤", limit: 50 },
  /** RSS a couple of seconds after /health is ready, MiB. */
  idleRss: { op: "≤", limit: 120 },
  /** RSS growth over the soak after its first minute, %. */
  soakGrowth: { op: "≤", limit: 10 },
  /** ms from spawn to the first 200 from /health. */
  startup: { op: "≤", limit: 300 },
  /** req/s @32 with metrics on ÷ the same gateway's with them off (issue 16). */
  metricsRps: { op: "≥", limit: 0.97 },
} as const satisfies Record<string, Bound>;

/** Whether `value` meets `bound` (NaN never does). */
export function meets(value: number, bound: Bound): boolean {
  if (!Number.isFinite(value)) return false;
  return bound.op === "≥" ? value >= bound.limit : value <= bound.limit;
}

/** One row of the Targets table. */
export interface FigureRow {
  /**
   * Its key in {@linkcode FIGURE_TARGETS}, `stall` for the 512-streams check, or
   * `metricsCpu` for the informational CPU ratio (no target).
   */
  readonly id: keyof typeof FIGURE_TARGETS | "stall" | "metricsCpu";
  readonly figure: string;
  /** The numeric target, for the JSON file; none for the stall check and `metricsCpu`. */
  readonly bound?: Bound;
  readonly target: string;
  readonly measured: string;
  /** Whether the median meets the target; null: not measured, or no target. */
  readonly pass: boolean | null;
  /** The per-round (or per-run) values summarised, for the JSON file. */
  readonly summary?: Summary;
}

/** What the figures are computed from. */
export interface FigureInputs {
  readonly records: readonly RoundRecord[];
  /** The start-ups of the production gateway; undefined: not measured. */
  readonly startup?: readonly StartupRun[] | undefined;
  /** The soak; undefined: not run (then `soakSkipped` says why). */
  readonly soak?: SoakSummary | undefined;
  readonly soakSkipped?: string | undefined;
}

/** How a figure's numbers are written: the number, then its unit once. */
interface Format {
  readonly number: (v: number) => string;
  readonly unit: string;
}

const sign = (v: number) => v >= 0 ? "+" : "";
const ratio: Format = { number: (v) => v.toFixed(2), unit: "×" };
const signedMs: Format = { number: (v) => sign(v) + v.toFixed(2), unit: " ms" };
const signedMib: Format = { number: (v) => sign(v) + v.toFixed(1), unit: " MiB" };
const mib: Format = { number: (v) => v.toFixed(1), unit: " MiB" };
const wholeMs: Format = { number: (v) => v.toFixed(0), unit: " ms" };

/** `median unit (min–max)`, or `median unit` when all values agree; `—` when none. */
export function formatFigure(summary: Summary | undefined, format: Format): string {
  if (summary === undefined) return "—";
  const median = format.number(summary.median) + format.unit;
  const min = format.number(summary.min);
  const max = format.number(summary.max);
  return summary.n === 1 || min === max ? median : `${median} (${min}–${max})`;
}

/** A row from a summary: pass when its median meets the bound. */
function summaryRow(
  id: keyof typeof FIGURE_TARGETS,
  figure: string,
  summary: Summary | undefined,
  format: Format,
): FigureRow {
  const bound = FIGURE_TARGETS[id];
  return {
    id,
    figure,
    bound,
    target: `${bound.op} ${format.number(bound.limit)}${format.unit}`,
    measured: formatFigure(summary, format),
    pass: summary === undefined ? null : meets(summary.median, bound),
    ...(summary === undefined ? {} : { summary }),
  };
}

type Lookup = (target: TargetName) => RoundRecord | undefined;

/** Summarises `get` over the rounds that measured the production target. */
function perRound(
  records: readonly RoundRecord[],
  get: (prod: RoundRecord, round: Lookup) => number | null | undefined,
): Summary | undefined {
  const rounds = [...new Set(records.map((r) => r.round))];
  return summarize(rounds.map((round) => {
    const lookup: Lookup = (target) =>
      records.find((r) => r.round === round && r.target === target);
    const prod = lookup(PROD_TARGET);
    return prod === undefined ? null : get(prod, lookup);
  }));
}

/** `own ÷ base`, null when either is missing or base is 0. */
function divide(own: number | null | undefined, base: number | null | undefined): number | null {
  return own === undefined || own === null || base === undefined || base === null || base === 0
    ? null
    : own / base;
}

/** `own − base`, null when either is missing. */
function subtract(own: number | null | undefined, base: number | null | undefined) {
  return own === undefined || own === null || base === undefined || base === null
    ? null
    : own - base;
}

/** Every figure of the issue, in its order. */
export function figureRows(inputs: FigureInputs): FigureRow[] {
  const { records } = inputs;
  const { concurrent = 128, stall = 512 } = concurrencyOf(records);
  const rows: FigureRow[] = [];
  const cell = (r: RoundRecord | undefined, c: number) => r?.cells[String(c)];

  rows.push(
    summaryRow(
      "rpsVsBare",
      "req/s @32 connections ÷ bare",
      perRound(records, (p, round) => divide(cell(p, 32)?.rps, cell(round("bare"), 32)?.rps)),
      ratio,
    ),
    summaryRow(
      "cpuVsBare",
      "proxy CPU µs/req @32 connections ÷ bare's",
      perRound(records, (p, round) =>
        divide(
          cell(p, 32)?.proxyCpuUsPerRequest,
          cell(round("bare"), 32)?.proxyCpuUsPerRequest,
        )),
      ratio,
    ),
    summaryRow(
      "addedP50",
      "added p50 @1 connection (vs direct)",
      perRound(records, (p, round) => subtract(cell(p, 1)?.p50Ms, cell(round("direct"), 1)?.p50Ms)),
      signedMs,
    ),
    summaryRow(
      "addedTtfb",
      "added stream first byte p50, 1 stream at a time (vs direct)",
      perRound(
        records,
        (p, round) => subtract(p.stream.ttfbP50Ms, round("direct")?.stream.ttfbP50Ms),
      ),
      signedMs,
    ),
    summaryRow(
      "addedTtfbConcurrent",
      `added stream first byte p50, ${concurrent} streams at a time (vs direct)`,
      perRound(
        records,
        (p, round) => subtract(p.concurrent?.ttfbP50Ms, round("direct")?.concurrent?.ttfbP50Ms),
      ),
      signedMs,
    ),
    summaryRow(
      "streamsVsDirect",
      `streams/s, ${concurrent} streams at a time ÷ direct`,
      perRound(
        records,
        (p, round) =>
          divide(p.concurrent?.streamsPerSecond, round("direct")?.concurrent?.streamsPerSecond),
      ),
      ratio,
    ),
    summaryRow(
      "peakRssOverBare",
      "peak RSS @256 connections − bare's",
      perRound(records, (p, round) => {
        const diff = subtract(
          cell(p, 256)?.proxyPeakRssKib,
          cell(round("bare"), 256)?.proxyPeakRssKib,
        );
        return diff === null ? null : diff / 1024;
      }),
      signedMib,
    ),
  );

  const idle = inputs.startup?.map((run) => run.idleRssKib === null ? null : run.idleRssKib / 1024);
  rows.push(
    summaryRow(
      "idleRss",
      "idle RSS 2 s after /health is ready",
      idle === undefined ? undefined : summarize(idle),
      mib,
    ),
  );

  rows.push(soakRow(inputs));
  rows.push(stallRow(records, stall));

  const startup = inputs.startup;
  const ready = startup === undefined ? undefined : summarize(startup.map((run) => run.readyMs));
  const neverReady = startup?.filter((run) => run.readyMs === null).length ?? 0;
  const startupRow = summaryRow(
    "startup",
    `start-up to a ready /health (${startup?.length ?? 0} starts)`,
    ready,
    wholeMs,
  );
  rows.push(
    neverReady === 0 ? startupRow : {
      ...startupRow,
      measured: `${startupRow.measured}; ${neverReady} never ready`,
      pass: false,
    },
  );

  // The cost of the metrics: choreoai-prod (on, the default) against the same gateway with
  // CHOREOAI_METRICS=false, within each round.
  const off = (round: Lookup) => cell(round(PROD_NOMETRICS_TARGET), 32);
  rows.push(
    summaryRow(
      "metricsRps",
      "req/s @32 connections, metrics on ÷ off",
      perRound(records, (p, round) => divide(cell(p, 32)?.rps, off(round)?.rps)),
      ratio,
    ),
  );
  const cpu = perRound(
    records,
    (p, round) => divide(cell(p, 32)?.proxyCpuUsPerRequest, off(round)?.proxyCpuUsPerRequest),
  );
  rows.push({
    id: "metricsCpu",
    figure: "proxy CPU µs/req @32 connections, metrics on ÷ off",
    target: "(informational)",
    measured: formatFigure(cpu, ratio),
    pass: null,
    ...(cpu === undefined ? {} : { summary: cpu }),
  });
  return rows;
}

function soakRow(inputs: FigureInputs): FigureRow {
  const soak = inputs.soak;
  const bound = FIGURE_TARGETS.soakGrowth;
  const target = `${bound.op} ${bound.limit}%`;
  if (soak === undefined) {
    return {
      id: "soakGrowth",
      figure: "soak: RSS growth after the first minute",
      bound,
      target,
      measured: inputs.soakSkipped ?? "—",
      pass: null,
    };
  }
  const minutes = soak.durationS / 60;
  const signed = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)}%`;
  return {
    id: "soakGrowth",
    bound,
    figure: `soak: RSS growth after ${
      soak.baselineAtS >= 60 ? "the first minute" : `${soak.baselineAtS.toFixed(0)} s`
    } (${Number(minutes.toFixed(2))} min)`,
    target,
    measured: `${signed(soak.growthPercent)} (${(soak.baselineKib / 1024).toFixed(1)} → ` +
      `${(soak.finalKib / 1024).toFixed(1)} MiB; max ${signed(soak.maxGrowthPercent)})`,
    pass: meets(soak.growthPercent, bound),
    summary: {
      median: soak.growthPercent,
      min: soak.growthPercent,
      max: soak.maxGrowthPercent,
      q1: soak.growthPercent,
      q3: soak.growthPercent,
      n: 1,
    },
  };
}

/** The stall check summed over rounds: all completed, none stalled, none lost. */
function stallRow(records: readonly RoundRecord[], n: number): FigureRow {
  const checks = records.filter((r) => r.target === PROD_TARGET && r.stall !== null)
    .map((r) => r.stall).filter((s) => s !== null);
  const figure = `${n} streams at once: completed / stalled / lost`;
  const target = "all / 0 / 0";
  if (checks.length === 0) return { id: "stall", figure, target, measured: "—", pass: null };
  const sum = (get: (s: (typeof checks)[number]) => number) =>
    checks.reduce((total, s) => total + get(s), 0);
  const started = sum((s) => s.started);
  const completed = sum((s) => s.completed);
  const stalled = sum((s) => s.stalled);
  const lost = sum((s) => s.lost);
  const maxGap = Math.max(...checks.map((s) => s.maxGapMs));
  const rounds = checks.length === 1 ? "1 round" : `${checks.length} rounds`;
  return {
    id: "stall",
    figure,
    target,
    measured: `${completed} of ${started} / ${stalled} / ${lost} (${rounds}; longest byte ` +
      `gap ${maxGap.toFixed(0)} ms)`,
    pass: started > 0 && completed === started && stalled === 0 && lost === 0,
  };
}

/** The pass/fail mark: ✅, ❌, or — when not measured. */
export function mark(pass: boolean | null): string {
  return pass === null ? "—" : pass ? "✅" : "❌";
}

/** The Targets table in Markdown. */
export function figuresTable(rows: readonly FigureRow[]): string {
  return [
    `| figure (${PROD_TARGET}) | target | measured median (min–max) | pass |`,
    "|---|---|---|:-:|",
    ...rows.map((r) => `| ${r.figure} | ${r.target} | ${r.measured} | ${mark(r.pass)} |`),
  ].join("\n");
}

/** The soak's RSS curve, for the notes under the table; undefined without a soak. */
export function soakCurveNote(soak: SoakSummary | undefined): string | undefined {
  return soak === undefined ? undefined : `Soak RSS of ${PROD_TARGET} (m:ss under load): ` +
    `${curveText(soak)}.`;
}
