/**
 * The soak: a long mixed load (non-stream and stream requests in turn, 32 connections, one
 * wrk) on the production target, its RSS sampled all along, then how much it grew after the
 * first minute ({@linkcode soakSummary}).
 */
import { processTree, rssKib } from "./proc.ts";
import { sleep } from "./processes.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

/** One RSS reading, `atS` seconds after the load started. */
export interface SoakSample {
  readonly atS: number;
  readonly rssKib: number;
}

/** One point of the RSS curve. */
export interface CurvePoint {
  readonly atS: number;
  readonly rssKib: number;
}

/** How the RSS moved over a soak. */
export interface SoakSummary {
  readonly durationS: number;
  /** When the baseline was read: the first sample at or after min(60 s, half the soak). */
  readonly baselineAtS: number;
  readonly baselineKib: number;
  /** The last sample (taken under load). */
  readonly finalKib: number;
  /** The largest sample from the baseline on. */
  readonly maxKib: number;
  /** (final − baseline) ÷ baseline, %. */
  readonly growthPercent: number;
  /** (max − baseline) ÷ baseline, %. */
  readonly maxGrowthPercent: number;
  /** RSS at each minute (soaks of 2 minutes or more) or each sixth of the soak, and the end. */
  readonly curve: readonly CurvePoint[];
}

/** The seconds between RSS samples: 10, or less for short soaks (about 12 samples). */
export function sampleIntervalS(durationS: number): number {
  return Math.min(10, Math.max(1, durationS / 12));
}

/** Summarises the samples of a soak of `durationS` seconds; undefined when none. */
export function soakSummary(
  samples: readonly SoakSample[],
  durationS: number,
): SoakSummary | undefined {
  const sorted = [...samples].sort((a, b) => a.atS - b.atS);
  const last = sorted.at(-1);
  if (last === undefined) return undefined;
  const baselineTarget = Math.min(60, durationS / 2);
  const baseline = sorted.find((s) => s.atS >= baselineTarget - 1e-9) ?? last;
  const after = sorted.filter((s) => s.atS >= baseline.atS);
  const maxKib = Math.max(...after.map((s) => s.rssKib));
  const growth = (kib: number) =>
    baseline.rssKib > 0 ? (100 * (kib - baseline.rssKib)) / baseline.rssKib : Number.NaN;
  const step = durationS >= 120 ? 60 : durationS / 6;
  const curve: CurvePoint[] = [];
  for (let mark = step; mark < durationS - 1e-9 && curve.length < 1_000; mark += step) {
    const point = sorted.findLast((s) => s.atS <= mark + 1e-9);
    if (point !== undefined && point !== curve.at(-1)) curve.push(point);
  }
  if (curve.at(-1) !== last) curve.push(last);
  return {
    durationS,
    baselineAtS: baseline.atS,
    baselineKib: baseline.rssKib,
    finalKib: last.rssKib,
    maxKib,
    growthPercent: growth(last.rssKib),
    maxGrowthPercent: growth(maxKib),
    curve: curve.map(({ atS, rssKib }) => ({ atS, rssKib })),
  };
}

/** `90 s` → `1:30`. */
function clock(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** The curve in one line: `1:00 101.2 · 2:00 103.0 · … MiB` (m:ss under load). */
export function curveText(summary: SoakSummary): string {
  return summary.curve.map((p) => `${clock(p.atS)} ${(p.rssKib / 1024).toFixed(1)}`).join(" · ") +
    " MiB";
}

/** What the soak run returns. */
export interface SoakRun {
  readonly samples: SoakSample[];
  readonly wrk: WrkResult;
}

/** How to run the soak. */
export interface SoakSettings {
  readonly url: string;
  /** The mixed wrk script (see wrkMixedScript). */
  readonly scriptPath: string;
  readonly durationS: number;
  readonly connections: number;
  /** The proxy whose RSS is sampled. */
  readonly pid: number;
  /** The load core (wrk). */
  readonly cpu: number;
  readonly track: (child: Deno.ChildProcess | undefined) => void;
}

/** Runs wrk for the soak's duration and samples the proxy's RSS meanwhile. */
export async function runSoak(settings: SoakSettings): Promise<SoakRun> {
  const interval = sampleIntervalS(settings.durationS);
  const samples: SoakSample[] = [];
  const started = performance.now();
  let finished = false;
  const load = runWrk({
    url: settings.url,
    scriptPath: settings.scriptPath,
    connections: settings.connections,
    durationS: Math.max(1, Math.round(settings.durationS)),
    cpu: settings.cpu,
    onStart: settings.track,
  }).finally(() => {
    finished = true;
    settings.track(undefined);
  });
  load.catch(() => {}); // awaited below
  for (let i = 1; i <= 100_000 && !finished; i++) {
    const next = started + i * interval * 1000;
    await Promise.race([load.catch(() => {}), sleep(Math.max(0, next - performance.now()))]);
    if (finished) break;
    const kib = await rssKib(await processTree(settings.pid));
    samples.push({ atS: i * interval, rssKib: kib }); // nominal time: the read takes a few ms
  }
  return { samples, wrk: await load };
}
