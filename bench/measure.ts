/**
 * One round of measurements on one target: a wrk cell per connection count (with the CPU used
 * by the proxy and the upstream, how busy each core was, and the proxy's peak memory during
 * the cell), then the sequential streamed requests ({@linkcode measureTarget}). The concurrent
 * targets get, in later rounds of their own ({@linkcode measureConcurrentRound}), 128 streams
 * at a time and 512 at once, each with its own peak memory: they come after every wrk round
 * because the memory a gateway keeps after hundreds of open streams would otherwise raise the
 * next round's wrk peaks.
 */
import { type ConcurrentResult, parseConcurrentResult } from "./concurrent_client.ts";
import { PACED_CONTENT_EVENTS, PACED_MODEL, requestBody } from "./fixtures.ts";
import {
  busyPercent,
  coreTimes,
  cpuSecondsBetween,
  cpuTicks,
  peakRssKib,
  processTree,
  reapedChildrenTicks,
  resetPeakRss,
} from "./proc.ts";
import { sleep } from "./processes.ts";
import { scriptCalls } from "./redis.ts";
import { median, quantile } from "./stats.ts";
import type { StreamClientResult } from "./stream_client.ts";
import type { Cores, Fleet, Target, TargetName } from "./targets.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

/** One wrk cell: wrk's numbers plus CPU accounting over the same window. */
export interface CellRecord extends WrkResult {
  readonly connections: number;
  /** Length of the CPU accounting window (a little longer than wrk's run), seconds. */
  readonly windowS: number;
  /** CPU µs of the proxy process tree per completed request; null for `direct`. */
  readonly proxyCpuUsPerRequest: number | null;
  /** CPU µs of the fake upstream per completed request. */
  readonly upstreamCpuUsPerRequest: number;
  /** CPU µs of wrk itself per completed request. */
  readonly wrkCpuUsPerRequest: number;
  /** CPU µs of the target's redis-server (load core) per completed request; null: no Redis. */
  readonly redisCpuUsPerRequest: number | null;
  /** Rate-limit script calls Redis answered per completed request; null: no Redis. */
  readonly redisCallsPerRequest: number | null;
  /** CPU use of the proxy, the upstream and wrk as % of one core over the window. */
  readonly proxyCpuPercent: number | null;
  readonly upstreamCpuPercent: number;
  readonly wrkCpuPercent: number;
  readonly redisCpuPercent: number | null;
  /** How busy the proxy core and the load core were (% of the window, all processes). */
  readonly proxyCoreBusyPercent: number | null;
  readonly loadCoreBusyPercent: number | null;
  /** Busy time of each core not explained by the benchmark's own processes (other work). */
  readonly proxyCoreOtherPercent: number | null;
  readonly loadCoreOtherPercent: number | null;
  /** Peak RSS of the proxy process tree during this cell (sum of VmHWM), KiB; null: `direct`. */
  readonly proxyPeakRssKib: number | null;
}

/** The streamed requests of one round, summarised. */
export interface StreamRecord {
  readonly requests: number;
  readonly failures: number;
  readonly firstFailure?: string;
  readonly ttfbP50Ms: number;
  readonly ttfbP99Ms: number;
  readonly totalP50Ms: number;
  readonly totalP99Ms: number;
  /** CPU µs of the proxy process tree per streamed request (warm-ups included); null: `direct`. */
  readonly proxyCpuUsPerRequest: number | null;
}

/** Concurrent streams of one round (the paced model), summarised. */
export interface ConcurrentRecord {
  readonly concurrency: number;
  /** Timed streams started, and how they ended (see concurrent_client.ts). */
  readonly started: number;
  readonly completed: number;
  readonly stalled: number;
  readonly lost: number;
  readonly streamsPerSecond: number;
  readonly ttfbP50Ms: number;
  readonly ttfbP99Ms: number;
  readonly totalP50Ms: number;
  readonly totalP99Ms: number;
  /** The longest wait for a byte of any timed stream, ms. */
  readonly maxGapMs: number;
  /** CPU µs of the proxy process tree per stream (warm-ups included); null: `direct`. */
  readonly proxyCpuUsPerStream: number | null;
  /** Peak RSS of the proxy process tree during the run, KiB; null: `direct`. */
  readonly proxyPeakRssKib: number | null;
  readonly firstProblem?: string;
}

/** Everything measured on one target in one round. */
export interface RoundRecord {
  readonly round: number;
  readonly target: TargetName;
  /** Position of the target in this round's order (0 = first). */
  readonly position: number;
  readonly cells: Readonly<Record<string, CellRecord>>;
  readonly stream: StreamRecord;
  /** `concurrentStreams` streams at a time for the cell's duration; null: not measured. */
  readonly concurrent: ConcurrentRecord | null;
  /** `stallStreams` streams started at once, one each, checked for stalls; null: not measured. */
  readonly stall: ConcurrentRecord | null;
  /** Position of the target in this round's concurrent-stream order; null: not measured. */
  readonly concurrentPosition: number | null;
  /** Peak RSS of the proxy process tree during the round (largest of its parts' peaks), KiB. */
  readonly proxyPeakRssKib: number | null;
  /** Whether the peak could be reset before each part (else: peak since start). */
  readonly peakRssReset: boolean;
}

/** What measuring needs to know about the run. */
export interface MeasureContext {
  readonly fleet: Fleet;
  readonly cores: Cores;
  readonly ticksPerSecond: number;
  /** wrk Lua script path per target. */
  readonly scripts: ReadonlyMap<TargetName, string>;
  readonly streamClientPath: string;
  /** Tells the runner which child is running, so Ctrl-C can stop it. */
  readonly track: (child: Deno.ChildProcess | undefined) => void;
}

/** The Lua script's body for a target (`stream: false`). */
export function wrkBody(target: Target): { body: string; key: string } {
  return { body: requestBody(target.model, false), key: target.key };
}

/** Runs one wrk cell and accounts the CPU used meanwhile. */
export async function measureCell(
  ctx: MeasureContext,
  target: Target,
  connections: number,
  durationS: number,
): Promise<CellRecord> {
  const script = ctx.scripts.get(target.name);
  if (script === undefined) throw new Error(`no wrk script for ${target.name}`);
  const proxyPids = target.proxy === undefined ? [] : await processTree(target.proxy.pid);
  const upstreamPids = await processTree(ctx.fleet.upstream.pid);
  const redis = target.redis;
  const redisPids = redis === undefined ? [] : await processTree(redis.process.pid);
  const callsBefore = redis === undefined ? 0 : await scriptCalls(redis.port);
  await resetPeakRss(proxyPids);
  const [proxyBefore, upstreamBefore, redisBefore, wrkBefore, coresBefore] = await Promise.all([
    cpuTicks(proxyPids),
    cpuTicks(upstreamPids),
    cpuTicks(redisPids),
    reapedChildrenTicks(),
    coreTimes(),
  ]);
  const started = performance.now();
  const wrk = await runWrk({
    url: target.url,
    scriptPath: script,
    connections,
    durationS,
    cpu: ctx.cores.load,
    onStart: ctx.track,
  });
  ctx.track(undefined);
  const wallS = (performance.now() - started) / 1000;
  const [proxyAfter, upstreamAfter, redisAfter, wrkAfter, coresAfter] = await Promise.all([
    cpuTicks(proxyPids),
    cpuTicks(upstreamPids),
    cpuTicks(redisPids),
    reapedChildrenTicks(),
    coreTimes(),
  ]);
  const calls = redis === undefined ? 0 : await scriptCalls(redis.port) - callsBefore;
  const peakKib = target.proxy === undefined ? null : await peakRssKib(proxyPids);
  const proxyS = target.proxy === undefined
    ? null
    : cpuSecondsBetween(proxyBefore, proxyAfter, ctx.ticksPerSecond);
  const upstreamS = cpuSecondsBetween(upstreamBefore, upstreamAfter, ctx.ticksPerSecond);
  const redisS = redis === undefined
    ? null
    : cpuSecondsBetween(redisBefore, redisAfter, ctx.ticksPerSecond);
  const wrkS = (wrkAfter - wrkBefore) / ctx.ticksPerSecond;
  const perRequest = (seconds: number) => wrk.requests > 0 ? (seconds * 1e6) / wrk.requests : 0;
  const percent = (seconds: number) => (100 * seconds) / wallS;
  const proxyCoreBusy = busyPercent(coresBefore, coresAfter, ctx.cores.proxy);
  const loadCoreBusy = busyPercent(coresBefore, coresAfter, ctx.cores.load);
  return {
    ...wrk,
    connections,
    windowS: wallS,
    proxyCpuUsPerRequest: proxyS === null ? null : perRequest(proxyS),
    upstreamCpuUsPerRequest: perRequest(upstreamS),
    wrkCpuUsPerRequest: perRequest(wrkS),
    redisCpuUsPerRequest: redisS === null ? null : perRequest(redisS),
    redisCallsPerRequest: redis === undefined || wrk.requests === 0 ? null : calls / wrk.requests,
    proxyCpuPercent: proxyS === null ? null : percent(proxyS),
    upstreamCpuPercent: percent(upstreamS),
    wrkCpuPercent: percent(wrkS),
    redisCpuPercent: redisS === null ? null : percent(redisS),
    proxyCoreBusyPercent: proxyCoreBusy,
    loadCoreBusyPercent: loadCoreBusy,
    proxyCoreOtherPercent: proxyCoreBusy === null
      ? null
      : Math.max(0, proxyCoreBusy - percent(proxyS ?? 0)),
    loadCoreOtherPercent: loadCoreBusy === null
      ? null
      : Math.max(0, loadCoreBusy - percent(upstreamS) - percent(wrkS) - percent(redisS ?? 0)),
    proxyPeakRssKib: peakKib,
  };
}

/** Runs the stream client (pinned to the load core) once. */
export async function measureStream(
  ctx: MeasureContext,
  target: Target,
  count: number,
  warmup: number,
): Promise<StreamRecord> {
  const proxyPids = target.proxy === undefined ? [] : await processTree(target.proxy.pid);
  const proxyBefore = await cpuTicks(proxyPids);
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      String(ctx.cores.load),
      Deno.execPath(),
      "run",
      "--allow-net",
      ctx.streamClientPath,
      "--url",
      target.url,
      "--model",
      target.model,
      "--count",
      String(count),
      "--warmup",
      String(warmup),
      "--key",
      target.key,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(150_000),
  }).spawn();
  ctx.track(child);
  const output = await child.output();
  ctx.track(undefined);
  const proxyS = cpuSecondsBetween(proxyBefore, await cpuTicks(proxyPids), ctx.ticksPerSecond);
  const stdout = new TextDecoder().decode(output.stdout).trim();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    throw new Error(`stream client failed on ${target.name} (exit ${output.code}): ${stderr}`);
  }
  const result = JSON.parse(stdout.split("\n").at(-1) ?? "") as StreamClientResult;
  return {
    requests: result.ttfbMs.length,
    failures: result.failures,
    ...(result.firstFailure === undefined ? {} : { firstFailure: result.firstFailure }),
    ttfbP50Ms: median(result.ttfbMs),
    ttfbP99Ms: quantile(result.ttfbMs, 0.99),
    totalP50Ms: median(result.totalMs),
    totalP99Ms: quantile(result.totalMs, 0.99),
    proxyCpuUsPerRequest: target.proxy === undefined
      ? null
      : (proxyS * 1e6) / (warmup + result.ttfbMs.length + result.failures),
  };
}

/** How to run the concurrent stream client once. */
export interface ConcurrentSettings {
  readonly concurrency: number;
  /** Closed loop for this long (after one warm-up stream per worker); else one stream each. */
  readonly durationS?: number;
  /** Count content events (20 expected): a stream without all of them is lost. */
  readonly checkContent: boolean;
  /** A wait for a byte longer than this is a stall, ms. */
  readonly stallMs: number;
  /** Each stream is aborted (and stalled) after this, ms. */
  readonly boundMs: number;
}

/** Runs the concurrent stream client (pinned to the load core) once, on the paced model. */
export async function measureConcurrent(
  ctx: MeasureContext,
  target: Target,
  settings: ConcurrentSettings,
): Promise<ConcurrentRecord> {
  const proxyPids = target.proxy === undefined ? [] : await processTree(target.proxy.pid);
  await resetPeakRss(proxyPids);
  const proxyBefore = await cpuTicks(proxyPids);
  const mode = settings.durationS === undefined
    ? ["--per-worker", "1"]
    : ["--duration", String(settings.durationS), "--warmup", "1"];
  const runBoundS = (settings.durationS ?? 0) + 2 * settings.boundMs / 1000 + 30;
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      String(ctx.cores.load),
      Deno.execPath(),
      "run",
      "--allow-net",
      ctx.streamClientPath,
      "--url",
      target.url,
      "--model",
      PACED_MODEL,
      "--key",
      target.key,
      "--concurrency",
      String(settings.concurrency),
      ...mode,
      ...(settings.checkContent ? ["--content-events", String(PACED_CONTENT_EVENTS)] : []),
      "--stall-ms",
      String(settings.stallMs),
      "--bound-ms",
      String(settings.boundMs),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(runBoundS * 1000),
  }).spawn();
  ctx.track(child);
  const output = await child.output();
  ctx.track(undefined);
  const proxyS = cpuSecondsBetween(proxyBefore, await cpuTicks(proxyPids), ctx.ticksPerSecond);
  const peakKib = target.proxy === undefined ? null : await peakRssKib(proxyPids);
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    throw new Error(
      `concurrent stream client failed on ${target.name} (exit ${output.code}): ${stderr}`,
    );
  }
  const result: ConcurrentResult = parseConcurrentResult(new TextDecoder().decode(output.stdout));
  const streams = result.started + result.warmupStreams;
  return {
    concurrency: result.concurrency,
    started: result.started,
    completed: result.completed,
    stalled: result.stalled,
    lost: result.lost,
    streamsPerSecond: result.streamsPerSecond,
    ttfbP50Ms: median(result.ttfbMs),
    ttfbP99Ms: quantile(result.ttfbMs, 0.99),
    totalP50Ms: median(result.totalMs),
    totalP99Ms: quantile(result.totalMs, 0.99),
    maxGapMs: result.maxGapMs,
    proxyCpuUsPerStream: target.proxy === undefined || streams === 0
      ? null
      : (proxyS * 1e6) / streams,
    proxyPeakRssKib: peakKib,
    ...(result.firstProblem === undefined ? {} : { firstProblem: result.firstProblem }),
  };
}

/** Settings of a round. */
export interface RoundSettings {
  readonly connections: readonly number[];
  readonly durationS: number;
  readonly streamRequests: number;
  readonly streamWarmup: number;
  /**
   * Seconds of unmeasured wrk @32 on the target just before its cells (0: none): a gateway back
   * from idle (the other targets were measured) runs its first second slower.
   */
  readonly roundWarmupS?: number;
}

/** The stall check's criteria: no byte for over 2 s, or not done within 10 s. */
export const STALL_MS = 2_000;
export const STREAM_BOUND_MS = 10_000;

/** Measures one target for one round: wrk cells, sequential streams, peak memory. */
export async function measureTarget(
  ctx: MeasureContext,
  target: Target,
  round: number,
  position: number,
  settings: RoundSettings,
): Promise<RoundRecord> {
  const rssPids = async () => target.proxy === undefined ? [] : await processTree(target.proxy.pid);
  const script = ctx.scripts.get(target.name);
  if ((settings.roundWarmupS ?? 0) > 0 && script !== undefined) {
    await runWrk({
      url: target.url,
      scriptPath: script,
      connections: 32,
      durationS: settings.roundWarmupS ?? 0,
      cpu: ctx.cores.load,
      onStart: ctx.track,
    });
    ctx.track(undefined);
    await sleep(250);
  }
  const peakRssReset = await resetPeakRss(await rssPids());
  const cells: Record<string, CellRecord> = {};
  for (const connections of settings.connections) {
    cells[String(connections)] = await measureCell(ctx, target, connections, settings.durationS);
    await sleep(250); // let closed connections settle
  }
  await resetPeakRss(await rssPids());
  const stream = await measureStream(ctx, target, settings.streamRequests, settings.streamWarmup);
  const streamPeak = target.proxy === undefined ? null : await peakRssKib(await rssPids());
  const peaks = [...Object.values(cells).map((c) => c.proxyPeakRssKib), streamPeak];
  return {
    round,
    target: target.name,
    position,
    cells,
    stream,
    concurrent: null,
    stall: null,
    concurrentPosition: null,
    proxyPeakRssKib: target.proxy === undefined ? null : maxOf(peaks),
    peakRssReset,
  };
}

function maxOf(values: readonly (number | null | undefined)[]): number | null {
  const numbers = values.filter((v): v is number => typeof v === "number");
  return numbers.length === 0 ? null : Math.max(...numbers);
}

/** Settings of a concurrent-stream round. */
export interface ConcurrentRoundSettings {
  /** Streams at a time in the concurrent cell (0: none), for `durationS`. */
  readonly concurrentStreams: number;
  readonly durationS: number;
  /** Streams started at once in the stall check (0: none). */
  readonly stallStreams: number;
}

/**
 * The concurrent-stream cells of one target in one round, added to its wrk round's record:
 * `concurrentStreams` at a time, then `stallStreams` at once; the record's peak RSS becomes the
 * largest of all its parts.
 */
export async function measureConcurrentRound(
  ctx: MeasureContext,
  target: Target,
  record: RoundRecord,
  position: number,
  settings: ConcurrentRoundSettings,
): Promise<RoundRecord> {
  let concurrent: ConcurrentRecord | null = null;
  let stall: ConcurrentRecord | null = null;
  if (settings.concurrentStreams > 0) {
    concurrent = await measureConcurrent(ctx, target, {
      concurrency: settings.concurrentStreams,
      durationS: settings.durationS,
      checkContent: false,
      stallMs: STALL_MS,
      boundMs: STREAM_BOUND_MS,
    });
    await sleep(250);
  }
  if (settings.stallStreams > 0) {
    stall = await measureConcurrent(ctx, target, {
      concurrency: settings.stallStreams,
      checkContent: true,
      stallMs: STALL_MS,
      boundMs: STREAM_BOUND_MS,
    });
    await sleep(250);
  }
  return {
    ...record,
    concurrent,
    stall,
    concurrentPosition: position,
    proxyPeakRssKib: target.proxy === undefined ? null : maxOf([
      record.proxyPeakRssKib,
      concurrent?.proxyPeakRssKib,
      stall?.proxyPeakRssKib,
    ]),
  };
}
