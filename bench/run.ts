// deno-lint-ignore-file no-console -- the benchmark's CLI: it reports on the console
/**
 * `deno task bench`: ChoreoAI against a fake OpenAI upstream reached directly, through nginx
 * and through a bare Deno proxy, in interleaved rounds. See bench/README.md.
 *
 * Layout on a 2-core machine: every proxy under test (nginx, bare, the gateways) is pinned to
 * the "proxy core"; wrk, the fake upstream, the stream client, redis-server and this runner to
 * the "load core". Every process started is stopped by pid at the end, on error and on Ctrl-C.
 */
import { figureRows, figuresTable, soakCurveNote } from "./figures.ts";
import { PACED_CONTENT_EVENTS, PACED_DELAY_MS, requestBody, UPSTREAM_MODEL } from "./fixtures.ts";
import {
  measureConcurrentRound,
  type MeasureContext,
  measureTarget,
  type RoundRecord,
  STALL_MS,
  STREAM_BOUND_MS,
  wrkBody,
} from "./measure.ts";
import { type BenchOptions, parseArgs, USAGE } from "./options.ts";
import { allowedCpus, clockTicksPerSecond, loadAverage, processName, processTree } from "./proc.ts";
import { ProcessGroup, sleep } from "./processes.ts";
import { loadBoundNotes, markdownTable, summarizeRecords } from "./report.ts";
import { runSoak, type SoakRun, soakSummary } from "./soak.ts";
import { measureStartups, type StartupRun } from "./startup.ts";
import {
  CONCURRENT_TARGETS,
  type Cores,
  type Fleet,
  KEY_LIST_SIZE,
  NEVER_REACHED_RPM,
  NEVER_REACHED_TPM,
  PROD_NOMETRICS_TARGET,
  PROD_TARGET,
  startFleet,
  type Target,
  type TargetName,
} from "./targets.ts";
import { runWrk, wrkMixedScript, wrkScript } from "./wrk.ts";

const BENCH_DIR = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const ROOT_DIR = BENCH_DIR.replace(/\/bench$/, "");

/** The path of `name`, looking in PATH and the sbin directories (nginx lives there). */
async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (dir === "") continue;
    try {
      const info = await Deno.stat(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

async function versionOf(command: string, args: string[]): Promise<string> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    return text.trim().split("\n")[0] ?? "";
  } catch {
    return "?";
  }
}

/** Pins this runner (all its threads) to the load core, best effort. */
async function pinSelf(core: number): Promise<void> {
  await new Deno.Command("taskset", {
    args: ["-a", "-p", "-c", String(core), String(Deno.pid)],
    stdout: "null",
    stderr: "null",
  }).output();
}

/** A rough estimate of the run time, in seconds (from smoke runs on 2 cores). */
function estimateSeconds(options: BenchOptions, targets: readonly TargetName[]): number {
  const perCell = options.durationS + 0.35;
  const roundWarmup = options.roundWarmupS > 0 ? options.roundWarmupS + 0.35 : 0;
  const perStream = 0.5 + options.streamRequests * 0.005;
  const warmup = targets.length * (options.warmupS + 0.3);
  const concurrent = targets.filter((t) => CONCURRENT_TARGETS.includes(t)).length *
    ((options.concurrentStreams > 0 ? options.durationS + 1.5 : 0) +
      (options.stallStreams > 0 ? 3 : 0));
  const prod = targets.includes(PROD_TARGET);
  const extras = prod ? options.startupRuns * 3 + options.soakMinutes * 60 + 2 : 0;
  return 10 + warmup + extras +
    options.rounds *
      (targets.length * (options.connections.length * perCell + perStream + roundWarmup) +
        concurrent);
}

/** Untimed load on every target so that JITs and connection pools are warm. */
async function warmUp(ctx: MeasureContext, options: BenchOptions): Promise<void> {
  for (const target of ctx.fleet.targets) {
    const script = ctx.scripts.get(target.name);
    if (script === undefined) continue;
    await runWrk({
      url: target.url,
      scriptPath: script,
      connections: 32,
      durationS: options.warmupS,
      cpu: ctx.cores.load,
      onStart: ctx.track,
    });
    ctx.track(undefined);
  }
}

/** The same targets every round, in an order rotated by one each round. */
function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** `name:pid` of every measured process, e.g. `nginx:12,nginx:13` (master and worker). */
async function describeProcesses(fleet: Fleet): Promise<Record<string, string>> {
  const describe = async (pid: number) => {
    const tree = await processTree(pid);
    const names = await Promise.all(tree.map(processName));
    return tree.map((p, i) => `${names[i]}:${p}`).join(",");
  };
  const described: Record<string, string> = { upstream: await describe(fleet.upstream.pid) };
  if (fleet.redis !== undefined) described.redis = await describe(fleet.redis.process.pid);
  for (const target of fleet.targets) {
    if (target.proxy !== undefined) described[target.name] = await describe(target.proxy.pid);
  }
  return described;
}

/** What a gateway's stderr (JSON log lines) holds: errors, warnings about Redis, the first. */
interface LogCounts {
  readonly errors: number;
  readonly redisWarnings: number;
  readonly firstRedisWarning?: string;
}

function countLogLines(path: string): LogCounts {
  try {
    const lines = Deno.readTextFileSync(path).split("\n");
    const redis = lines.filter((line) => {
      try {
        const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
        return entry.level === "warn" && /redis/i.test(String(entry.msg));
      } catch {
        return false; // not a log line
      }
    });
    return {
      errors: lines.filter((l) => l.includes('"level":"error"')).length,
      redisWarnings: redis.length,
      ...(redis[0] === undefined ? {} : { firstRedisWarning: redis[0].slice(0, 300) }),
    };
  } catch {
    return { errors: 0, redisWarnings: 0 };
  }
}

/** The gateway's /health status ("ok", "degraded", or what went wrong). */
async function healthStatus(url: string): Promise<string> {
  try {
    const response = await fetch(new URL("/health", url), { signal: AbortSignal.timeout(2_000) });
    const body = await response.json() as { status?: unknown };
    return String(body.status);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The soak on the production target: a mixed wrk load, its RSS sampled. */
async function soakTarget(
  ctx: MeasureContext,
  target: Target,
  minutes: number,
  tmp: string,
): Promise<SoakRun | undefined> {
  if (target.proxy === undefined) return undefined;
  const scriptPath = `${tmp}/soak.lua`;
  const bodies = [requestBody(UPSTREAM_MODEL, false), requestBody(UPSTREAM_MODEL, true)];
  await Deno.writeTextFile(scriptPath, wrkMixedScript(bodies, target.key));
  console.error(`bench: soak: ${minutes} min of mixed load on ${target.name}`);
  return await runSoak({
    url: target.url,
    scriptPath,
    durationS: minutes * 60,
    connections: 32,
    pid: target.proxy.pid,
    cpu: ctx.cores.load,
    track: ctx.track,
  });
}

async function runBenchmark(
  options: BenchOptions,
  names: readonly TargetName[],
  redisServer: string | undefined,
  group: ProcessGroup,
  tmp: string,
  track: (child: Deno.ChildProcess | undefined) => void,
  interrupted: AbortSignal,
): Promise<void> {
  const startedAt = new Date();
  const nginx = await findExecutable("nginx");
  const cpus = await allowedCpus();
  const [load, proxy] = cpus;
  if (nginx === undefined) throw new Error("nginx disappeared");
  if (load === undefined || proxy === undefined) {
    throw new Error(`need 2 cores to pin to, this process may use: ${cpus.join(",") || "?"}`);
  }
  const cores: Cores = { proxy, load };
  await pinSelf(load);

  const loadBefore = await loadAverage();
  const fleet = await startFleet(
    group,
    { root: ROOT_DIR, bench: BENCH_DIR, tmp, nginx, redisServer },
    cores,
    options,
    names,
  );
  const targetNames = fleet.targets.map((target) => target.name);
  const scripts = new Map<TargetName, string>();
  for (const target of fleet.targets) {
    const path = `${tmp}/${target.name}.lua`;
    const { body, key } = wrkBody(target);
    await Deno.writeTextFile(path, wrkScript(body, key));
    scripts.set(target.name, path);
  }
  const ctx: MeasureContext = {
    fleet,
    cores,
    ticksPerSecond: await clockTicksPerSecond(),
    scripts,
    streamClientPath: `${BENCH_DIR}/stream_client.ts`,
    track,
  };
  const estimate = estimateSeconds(options, targetNames);
  console.error(
    `bench: proxy core ${proxy}, load core ${load} (wrk, upstream, stream client` +
      `${fleet.redis === undefined ? "" : ", redis-server"}); ` +
      `fake upstream: ${fleet.upstreamKind}; ${options.rounds} round(s) × ` +
      `${fleet.targets.length} targets × ${options.connections.join("/")} connections × ` +
      `${options.durationS} s; about ${Math.ceil(estimate / 60)} min. Load average ${loadBefore}.`,
  );
  const deadline = Date.now() + (estimate * 3 + 300) * 1000;

  interrupted.throwIfAborted();
  const prodTarget = fleet.targets.find((target) => target.name === PROD_TARGET);
  let startup: StartupRun[] | undefined;
  if (fleet.prod !== undefined && options.startupRuns > 0) {
    console.error(`bench: timing ${options.startupRuns} start-ups of ${PROD_TARGET}`);
    const launcher = fleet.prod;
    startup = await measureStartups({
      runs: options.startupRuns,
      pollMs: 2,
      timeoutMs: 30_000,
      idleWaitMs: 2_000,
      spawn: (name, port) => launcher.spawn(name, port),
      stop: (process) => group.stop(process),
    });
  }
  interrupted.throwIfAborted();
  await warmUp(ctx, options);
  const records: RoundRecord[] = [];
  const settings = {
    connections: options.connections,
    durationS: options.durationS,
    streamRequests: options.streamRequests,
    streamWarmup: Math.min(10, Math.ceil(options.streamRequests / 10)),
    roundWarmupS: options.roundWarmupS,
  };
  for (let round = 0; round < options.rounds; round++) {
    const order = roundOrder(fleet.targets, round);
    for (const [position, target] of order.entries()) {
      interrupted.throwIfAborted();
      if (Date.now() > deadline) throw new Error("the run took 3× its estimate: giving up");
      console.error(`bench: round ${round + 1}/${options.rounds}: ${target.name}`);
      records.push(await measureTarget(ctx, target, round, position, settings));
    }
  }
  // The concurrent streams, in rounds of their own after every wrk round (see measure.ts).
  const concurrentTargets = fleet.targets.filter((t) => CONCURRENT_TARGETS.includes(t.name));
  const concurrentSettings = {
    concurrentStreams: options.concurrentStreams,
    durationS: options.durationS,
    stallStreams: options.stallStreams,
  };
  const streamsWanted = options.concurrentStreams > 0 || options.stallStreams > 0;
  for (let round = 0; round < options.rounds && streamsWanted; round++) {
    const order = roundOrder(concurrentTargets, round);
    for (const [position, target] of order.entries()) {
      interrupted.throwIfAborted();
      if (Date.now() > deadline) throw new Error("the run took 3× its estimate: giving up");
      console.error(
        `bench: concurrent streams round ${round + 1}/${options.rounds}: ${target.name}`,
      );
      const index = records.findIndex((r) => r.round === round && r.target === target.name);
      const record = records[index];
      if (record === undefined) continue;
      records[index] = await measureConcurrentRound(
        ctx,
        target,
        record,
        position,
        concurrentSettings,
      );
    }
  }
  interrupted.throwIfAborted();
  const soak = prodTarget === undefined || options.soakMinutes === 0
    ? undefined
    : await soakTarget(ctx, prodTarget, options.soakMinutes, tmp);
  const finishedAt = new Date();

  const table = markdownTable(records, options.connections, targetNames);
  const soakSummaryValue = soak === undefined
    ? undefined
    : soakSummary(soak.samples, options.soakMinutes * 60);
  const figures = figureRows({
    records,
    startup,
    soak: soakSummaryValue,
    soakSkipped: prodTarget === undefined
      ? `not run (${PROD_TARGET} not selected)`
      : options.soakMinutes === 0
      ? "skipped (--soak-minutes 0)"
      : "no RSS sample",
  });
  const targetsTable = figuresTable(figures);
  const has = (name: TargetName) => targetNames.includes(name);
  const proxies = [
    ...new Set(fleet.targets.flatMap((t) => t.proxy === undefined ? [] : [t.proxy.name])),
  ];
  const redisStatus = new Map<string, string>();
  for (const target of fleet.targets) {
    if (target.redis !== undefined) redisStatus.set(target.name, await healthStatus(target.url));
  }
  const notes = [
    `Medians over ${options.rounds} round(s), (min–max) across rounds; ` +
    `${options.durationS} s per wrk cell (1 thread, POST non-stream), ` +
    `${options.streamRequests} sequential streamed requests per target and round` +
    (options.roundWarmupS > 0
      ? `, each target's cells after ${options.roundWarmupS} s of unmeasured wrk @32.`
      : "."),
    `Pinning: ${proxies.join(", ") || "no proxy"} on core ${proxy}; wrk, the fake upstream ` +
    `(${fleet.upstreamKind})${fleet.redis === undefined ? "" : ", redis-server"} and the ` +
    `stream client on core ${load}.` +
    (has("direct")
      ? " `direct` has no proxy: wrk and the upstream share the load core there."
      : ""),
  ];
  if (has("choreoai-echo")) {
    notes.push("`choreoai-echo` is the gateway's built-in choreoai/echo model (no upstream call).");
  }
  if (has("choreoai-limited") || has("choreoai-redis")) {
    notes.push(
      `\`choreoai-limited\` / \`choreoai-redis\`: the \`choreoai\` gateway with per-key limits ` +
        `that are never reached (CHOREOAI_DEFAULT_RPM=${NEVER_REACHED_RPM}, ` +
        `CHOREOAI_DEFAULT_TPM=${NEVER_REACHED_TPM}), so every request is limited: the request and ` +
        "its token reservation taken in one check once parsed, the reconciliation at the end " +
        "(checked at start through the x-ratelimit-limit-* headers), kept in process or in " +
        "redis-server respectively. Their cost: `req/s ÷ choreoai` and `added p50 ms (vs " +
        "choreoai)`, to be read against the run-to-run spread of `choreoai` itself.",
    );
  }
  if (fleet.redis !== undefined) {
    notes.push(
      "redis-server (persistence off) runs on the load core: its CPU is in the redis-server " +
        "row and in the load-core capacity, not in the proxy's CPU. Redis script calls/req " +
        "counts EVAL/EVALSHA answered by Redis (INFO commandstats) per completed request: " +
        "about 3 means every limiter call reached Redis; fewer means the in-process fallback " +
        "answered some. /health after the run: " +
        [...redisStatus].map(([name, status]) => `${name} ${status}`).join(", ") + ".",
    );
  }
  notes.push(
    "CPU µs/req: utime+stime of the proxy's whole process tree over the wrk cell ÷ requests. " +
      "Peak RSS @N (conc., at once): VmHWM summed over the proxy's processes, reset just " +
      "before that cell (so it is at least the RSS the process kept from before); " +
      "proxy peak RSS: the largest of a round's cells" +
      (has("choreoai") && has("choreoai-echo")
        ? " (choreoai and choreoai-echo are the same process)."
        : "."),
    "wrk + upstream CPU µs/req: what the load core spends per request; load-core capacity is " +
      "1e6 ÷ that (plus redis-server's, where used), the most the load side could drive: a " +
      "proxy well below it, using ~100% of its core, is the bottleneck. Other work: core busy " +
      "time (/proc/stat) not used by the benchmark's processes, i.e. noise from whatever else " +
      "shares the machine.",
  );
  const concurrentMeasured = fleet.targets.filter((t) => CONCURRENT_TARGETS.includes(t.name))
    .map((t) => `\`${t.name}\``);
  if (
    concurrentMeasured.length > 0 && (options.concurrentStreams > 0 || options.stallStreams > 0)
  ) {
    notes.push(
      `Concurrent streams (${concurrentMeasured.join(", ")} only), on the paced stream ` +
        `(${PACED_CONTENT_EVENTS} content events ${PACED_DELAY_MS} ms apart, about ` +
        `${
          (PACED_CONTENT_EVENTS + 3) * PACED_DELAY_MS
        } ms a stream): "@${options.concurrentStreams} ` +
        `conc." keeps ${options.concurrentStreams} streams open for ${options.durationS} s ` +
        "after one untimed stream per worker, streams/s = completed ÷ time to the last end; " +
        `"@${options.stallStreams} at once" starts ${options.stallStreams} streams together, one ` +
        `each. A stream is stalled when no byte came for over ${STALL_MS} ms or it did not end ` +
        `within ${STREAM_BOUND_MS} ms (it is aborted then), lost when it failed or did not end ` +
        `with data: [DONE] (at once: after exactly ${PACED_CONTENT_EVENTS} content events). ` +
        "They run in rounds of their own after all the wrk rounds, so that the memory a " +
        "gateway keeps after hundreds of streams does not raise the wrk cells' peak RSS. " +
        "The stream client (one Deno process) runs on the load core: for `direct` it is " +
        "usually what limits streams/s.",
    );
  }
  if (prodTarget !== undefined) {
    notes.push(
      `\`${PROD_TARGET}\`: production mode with the ${KEY_LIST_SIZE.toLocaleString("en-US")}-key ` +
        "list, the never-reached in-process limits (checked at start), usage recorded in a " +
        "SQLite file and the access log (stderr, to a file). The Targets table is computed for " +
        "it; a figure passes when its median meets the target. Start-ups: the same command, " +
        "pinned to the proxy core, /health polled every 2 ms, ms from spawn (through sh and " +
        "taskset) to the first 200; idle RSS read 2 s later, before any request.",
    );
    if (has(PROD_NOMETRICS_TARGET)) {
      notes.push(
        `\`${PROD_NOMETRICS_TARGET}\`: the same command and environment as \`${PROD_TARGET}\` ` +
          "(its own SQLite file) plus CHOREOAI_METRICS=false; checked at start: GET /metrics " +
          `answers 404 there and not on \`${PROD_TARGET}\` (metrics on, the default). wrk and ` +
          "sequential streams only. The metrics' cost: `req/s @32 connections, metrics on ÷ off` " +
          "and the CPU µs/req ratio, within each round.",
      );
    }
    const curve = soakCurveNote(soakSummaryValue);
    if (soak !== undefined) {
      notes.push(
        `Soak: ${options.soakMinutes} min of wrk at 32 connections on ${PROD_TARGET}, ` +
          "non-stream and stream requests in turn: " +
          `${soak.wrk.rps.toFixed(0)} req/s, ${soak.wrk.non2xx} non-2xx, ` +
          `${soak.wrk.socketErrors} socket errors; RSS (VmRSS) sampled every ` +
          `${Math.min(10, Math.max(1, (options.soakMinutes * 60) / 12)).toFixed(1)} s. ` +
          (curve ?? ""),
      );
    }
    const failed = startup?.filter((run) => run.error !== undefined) ?? [];
    for (const run of failed) notes.push(`A start-up of ${PROD_TARGET} failed: ${run.error}`);
  }
  notes.push(...loadBoundNotes(records));
  const failures = records.filter((r) => r.stream.firstFailure !== undefined);
  for (const record of failures) {
    notes.push(`Stream failure on ${record.target}: ${record.stream.firstFailure}`);
  }
  for (const record of records) {
    for (const check of [record.concurrent, record.stall]) {
      if (check?.firstProblem === undefined) continue;
      notes.push(
        `Round ${record.round + 1}, ${record.target}, ${check.concurrency} streams: ` +
          `${check.stalled} stalled, ${check.lost} lost; the first: ${check.firstProblem}`,
      );
    }
  }
  const gatewayLogs: Record<string, LogCounts> = {};
  for (const gateway of fleet.gateways) {
    const counts = countLogLines(gateway.stderrPath);
    gatewayLogs[gateway.name] = counts;
    if (counts.errors > 0) {
      notes.push(`The ${gateway.name} gateway logged ${counts.errors} error line(s) on stderr.`);
    }
    if (counts.redisWarnings > 0) {
      notes.push(
        `The ${gateway.name} gateway logged ${counts.redisWarnings} Redis warning(s) (Redis ` +
          "unavailable or slower than 200 ms: some limiter calls were answered in process; " +
          `at most one warning a minute), the first: ${counts.firstRedisWarning}`,
      );
    }
  }
  await Deno.mkdir(`${BENCH_DIR}/results`, { recursive: true });
  const stamp = startedAt.toISOString().replaceAll(":", "-").replace(/\.\d+Z$/, "Z");
  const resultPath = `${BENCH_DIR}/results/bench-${stamp}.json`;
  await Deno.writeTextFile(
    resultPath,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        options,
        environment: {
          deno: Deno.version.deno,
          nginx: await versionOf(nginx, ["-v"]),
          wrk: await versionOf("wrk", ["-v"]),
          redis: fleet.redis === undefined || redisServer === undefined
            ? null
            : await versionOf(redisServer, ["--version"]),
          targets: targetNames,
          cores,
          upstream: fleet.upstreamKind,
          processes: await describeProcesses(fleet),
          loadAverageBefore: loadBefore,
          loadAverageAfter: await loadAverage(),
          gatewayLogLines: gatewayLogs,
        },
        records,
        summary: summarizeRecords(records, options.connections, targetNames),
        startup: startup ?? null,
        soak: soak === undefined ? null : {
          samples: soak.samples,
          wrk: soak.wrk,
          summary: soakSummaryValue ?? null,
        },
        figures,
        table,
        targetsTable,
        notes,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(
    `\n${table}\n\n## Targets\n\n${targetsTable}\n\n${notes.map((n) => `- ${n}`).join("\n")}\n`,
  );
  console.log(`Raw per-round numbers: ${resultPath}`);
  console.error(
    `bench: done in ${((finishedAt.getTime() - startedAt.getTime()) / 1000).toFixed(0)} s; ` +
      `load average ${await loadAverage()}.`,
  );
}

async function main(args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  if (parsed.kind === "error") {
    console.error(`bench: ${parsed.message}\n\n${USAGE}`);
    return 2;
  }
  const missing = [];
  for (const tool of ["wrk", "nginx", "taskset"]) {
    if (await findExecutable(tool) === undefined) missing.push(tool);
  }
  if (missing.length > 0) {
    console.error(
      `bench: ${missing.join(" and ")} not found. Install with: apt-get install wrk nginx` +
        (missing.includes("taskset") ? " util-linux" : ""),
    );
    return 1;
  }
  const redisServer = await findExecutable("redis-server");
  let names = parsed.options.targets;
  if (redisServer === undefined && names.includes("choreoai-redis")) {
    names = names.filter((name) => name !== "choreoai-redis");
    console.error(
      "bench: note: redis-server not found, choreoai-redis left out " +
        "(apt-get install redis-server to measure it)",
    );
    if (names.length === 0) {
      console.error("bench: no target left to measure");
      return 1;
    }
  }

  const tmp = await Deno.makeTempDir({ prefix: "choreoai-bench-" });
  const group = new ProcessGroup(tmp);
  let running: Deno.ChildProcess | undefined;
  const interrupt = new AbortController();
  let stopping = false;
  const track = (child: Deno.ChildProcess | undefined) => {
    running = child;
    if (stopping) { // started just after Ctrl-C
      try {
        child?.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  };
  const onSignal = () => {
    if (stopping) Deno.exit(130); // a second Ctrl-C: give up at once
    stopping = true;
    interrupt.abort(new Error("interrupted"));
    console.error("bench: interrupted, stopping everything it started");
    try {
      running?.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    group.stopAll(); // the run then fails, and main's cleanup below finishes the job
    setTimeout(() => Deno.exit(130), 10_000);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  let ok = false;
  try {
    await runBenchmark(parsed.options, names, redisServer, group, tmp, track, interrupt.signal);
    ok = true;
  } catch (error) {
    if (!stopping) {
      console.error(`bench: failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
  } finally {
    const forced = await group.stopAll();
    if (forced.length > 0) {
      console.error(`bench: ${forced.join(", ")} ignored SIGTERM for 3 s: killed with SIGKILL`);
    }
    await sleep(100);
    if (ok || stopping) await Deno.remove(tmp, { recursive: true }).catch(() => {});
    else console.error(`bench: logs and configs kept in ${tmp}`);
  }
  if (stopping) return 130;
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
