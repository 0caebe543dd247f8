/** Command-line options of bench/run.ts. */
import { isTargetName, TARGET_NAMES, type TargetName } from "./targets.ts";

/** Which fake upstream to run. */
export type UpstreamKind = "auto" | "nginx" | "deno";

/** Everything a benchmark run can be told. */
export interface BenchOptions {
  /** Rounds; each runs every target once, in a rotated order. */
  readonly rounds: number;
  /** Seconds per wrk cell. */
  readonly durationS: number;
  /** Timed streamed requests per target and round. */
  readonly streamRequests: number;
  /** Delay between the fake upstream's stream events, in ms (0: as fast as possible). */
  readonly streamDelayMs: number;
  /** wrk connection counts. */
  readonly connections: readonly number[];
  /** nginx+echo module (lightest), the Deno script, or nginx when it has the module. */
  readonly upstream: UpstreamKind;
  /** Seconds of untimed load on each target before the first round. */
  readonly warmupS: number;
  /** Seconds of untimed load on a target before its cells, every round (0: none). */
  readonly roundWarmupS: number;
  /** The targets to measure, in {@linkcode TARGET_NAMES} order (default: all). */
  readonly targets: readonly TargetName[];
  /** Streams at a time in the concurrent cell (0: skip). */
  readonly concurrentStreams: number;
  /** Streams started at once in the stall check (0: skip). */
  readonly stallStreams: number;
  /** Start-ups of the production gateway to time (0: skip). */
  readonly startupRuns: number;
  /** Minutes of mixed load on the production target after the rounds (0: skip). */
  readonly soakMinutes: number;
}

/** The help text. */
export const USAGE = `Usage: deno task bench [options]

Benchmarks ChoreoAI against a fake OpenAI upstream reached directly, through nginx and
through a bare Deno proxy, interleaved over rounds. Prints a Markdown table of medians, a
"Targets" table (the performance figures of choreoai-prod against their targets, pass/fail)
and writes every round's numbers to bench/results/.

Targets: ${TARGET_NAMES.join(", ")}.

Options:
  --rounds N            rounds (default 5)
  --duration S          seconds per wrk cell (default 5)
  --stream-requests N   timed streamed requests per target and round (default 200)
  --stream-delay-ms N   delay between the fake upstream's stream events (default 0)
  --connections LIST    wrk connection counts (default 1,32,256)
  --upstream KIND       auto | nginx | deno: the fake upstream (default auto: nginx with the
                        echo module if installed, else bench/fake_upstream.ts)
  --round-warmup S      seconds of unmeasured wrk @32 on each target just before its cells,
                        every round (default 0): a gateway back from idle runs its first
                        second slower, which skews ratios between targets measured after
                        different idle times
  --targets LIST        comma-separated targets to measure (default: all; choreoai-redis is
                        left out with a note when redis-server is not installed)
  --stream-concurrency N
                        streams at a time in the concurrent cell (default 128; 0 skips)
  --stall-streams N     streams started at once in the stall check (default 512; 0 skips)
  --startup-runs N      start-ups of choreoai-prod to time (default 5; 0 skips)
  --soak-minutes M      mixed load on choreoai-prod after the rounds, RSS sampled
                        (default 10; decimals allowed; 0 skips)
  --quick               smoke test: 1 round, 1 s cells, 30 streamed requests, 3 start-ups,
                        a 0.5-minute soak (options given explicitly still apply)
  -h, --help            this text
`;

/** Parsed arguments, help, or a usage error. */
export type ParsedArgs =
  | { readonly kind: "run"; readonly options: BenchOptions }
  | { readonly kind: "help" }
  | { readonly kind: "error"; readonly message: string };

function wholeNumber(name: string, text: string | undefined, min: number, max: number): number {
  const value = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || value < min || value > max) {
    throw new Error(`${name} needs a whole number from ${min} to ${max}`);
  }
  return value;
}

/** A comma-separated list of target names, in {@linkcode TARGET_NAMES} order, without repeats. */
function targetList(name: string, text: string | undefined): TargetName[] {
  const names = (text ?? "").split(",").map((t) => t.trim());
  if (names.some((t) => t === "")) {
    throw new Error(`${name} needs a comma-separated list of targets`);
  }
  for (const target of names) {
    if (!isTargetName(target)) {
      throw new Error(`unknown target ${target} (known: ${TARGET_NAMES.join(", ")})`);
    }
  }
  return TARGET_NAMES.filter((target) => names.includes(target));
}

/** A decimal number of minutes from 0 to `max`. */
function minutes(name: string, text: string | undefined, max: number): number {
  const value = Number(text);
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text) || value > max) {
    throw new Error(`${name} needs a number of minutes from 0 to ${max}`);
  }
  return value;
}

/** Parses the command line; `--quick` changes the defaults, explicit options still apply. */
export function parseArgs(args: readonly string[]): ParsedArgs {
  const quick = args.includes("--quick");
  let rounds = quick ? 1 : 5;
  let durationS = quick ? 1 : 5;
  let streamRequests = quick ? 30 : 200;
  let streamDelayMs = 0;
  let connections: number[] = [1, 32, 256];
  let upstream: UpstreamKind = "auto";
  let targets: readonly TargetName[] = TARGET_NAMES;
  let concurrentStreams = 128;
  let stallStreams = 512;
  let startupRuns = quick ? 3 : 5;
  let soakMinutes = quick ? 0.5 : 10;
  let roundWarmupS = 0;
  try {
    for (let i = 0; i < args.length; i++) {
      const name = args[i] as string;
      const value = args[i + 1];
      switch (name) {
        case "-h":
        case "--help":
          return { kind: "help" };
        case "--quick":
          continue;
        case "--rounds":
          rounds = wholeNumber(name, value, 1, 50);
          break;
        case "--duration":
          durationS = wholeNumber(name, value, 1, 120);
          break;
        case "--stream-requests":
          streamRequests = wholeNumber(name, value, 1, 10_000);
          break;
        case "--stream-delay-ms":
          streamDelayMs = wholeNumber(name, value, 0, 1_000);
          break;
        case "--connections":
          connections = (value ?? "").split(",").map((c) => wholeNumber(name, c, 1, 4096));
          break;
        case "--upstream":
          if (value !== "auto" && value !== "nginx" && value !== "deno") {
            throw new Error("--upstream needs auto, nginx or deno");
          }
          upstream = value;
          break;
        case "--targets":
          targets = targetList(name, value);
          break;
        case "--round-warmup":
          roundWarmupS = wholeNumber(name, value, 0, 60);
          break;
        case "--stream-concurrency":
          concurrentStreams = wholeNumber(name, value, 0, 4096);
          break;
        case "--stall-streams":
          stallStreams = wholeNumber(name, value, 0, 4096);
          break;
        case "--startup-runs":
          startupRuns = wholeNumber(name, value, 0, 50);
          break;
        case "--soak-minutes":
          soakMinutes = minutes(name, value, 120);
          break;
        default:
          throw new Error(`unknown option ${name}`);
      }
      i++;
    }
  } catch (error) {
    return { kind: "error", message: error instanceof Error ? error.message : String(error) };
  }
  return {
    kind: "run",
    options: {
      rounds,
      durationS,
      streamRequests,
      streamDelayMs,
      connections,
      upstream,
      warmupS: quick ? 1 : 2,
      roundWarmupS,
      targets,
      concurrentStreams,
      stallStreams,
      startupRuns,
      soakMinutes,
    },
  };
}
