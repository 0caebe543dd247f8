/**
 * Starting, tracking and stopping the benchmark's processes.
 *
 * Every process is started pinned to one core with `taskset -c`, through `sh -c 'exec …'` so
 * that the pid Deno reports is the pid of the program itself (sh and taskset both exec), and
 * with stdout and stderr going to files, never to a pipe nobody reads. {@linkcode ProcessGroup}
 * remembers every pid and stops them all by pid: SIGTERM to each process tree, then SIGKILL to
 * whatever is still alive after a bounded wait.
 */
import { isAlive, processTree } from "./proc.ts";

/** A started process. */
export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: Deno.ChildProcess;
  /** Where its stderr goes (read it to explain a failure). */
  readonly stderrPath: string;
  /** Whether it has exited. */
  exited(): boolean;
}

/** How to start one process. */
export interface SpawnOptions {
  /** Core to pin it to. */
  readonly cpu: number;
  /** The whole environment of the process (default: the runner's own). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** File for stdout; `/dev/null` when omitted. */
  readonly stdoutPath?: string;
}

/** Tracks started processes and stops them all, by pid. */
export class ProcessGroup {
  readonly #running = new Map<number, Managed>();
  readonly #logDir: string;

  constructor(logDir: string) {
    this.#logDir = logDir;
  }

  /** Starts `command args…` pinned to `options.cpu`. */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): Managed {
    const stderrPath = `${this.#logDir}/${name}.stderr.log`;
    const script = 'out=$1; err=$2; shift 2; exec "$@" >"$out" 2>"$err"';
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        script,
        "sh",
        options.stdoutPath ?? "/dev/null",
        stderrPath,
        "taskset",
        "-c",
        String(options.cpu),
        command,
        ...args,
      ],
      env: options.env ?? Deno.env.toObject(),
      clearEnv: true,
      cwd: options.cwd ?? Deno.cwd(),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let done = false;
    child.status.finally(() => {
      done = true;
      this.#running.delete(child.pid);
    });
    const managed: Managed = { name, pid: child.pid, child, stderrPath, exited: () => done };
    this.#running.set(child.pid, managed);
    return managed;
  }

  /**
   * Stops one process and its descendants: SIGTERM, then SIGKILL after `graceMs`.
   * Resolves to true when SIGKILL was needed.
   */
  async stop(managed: Managed, graceMs = 3_000): Promise<boolean> {
    const tree = await processTree(managed.pid);
    if (!managed.exited()) signal(managed.pid, "SIGTERM");
    const living = async () => {
      const alive = await Promise.all(tree.map(isAlive));
      return tree.filter((_, i) => alive[i]);
    };
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (await living()).length > 0) await sleep(50);
    const stubborn = await living();
    for (const pid of stubborn) signal(pid, "SIGKILL");
    await Promise.race([managed.child.status, sleep(1_000)]);
    this.#running.delete(managed.pid);
    return stubborn.length > 0;
  }

  /** Stops everything still running; resolves to the names of those that needed SIGKILL. */
  async stopAll(): Promise<string[]> {
    const all = [...this.#running.values()];
    const forced = await Promise.all(all.map((managed) => this.stop(managed)));
    return all.filter((_, i) => forced[i]).map((managed) => managed.name);
  }
}

function signal(pid: number, name: Deno.Signal): void {
  try {
    Deno.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Ports handed out by {@linkcode freePort} in this run. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago and that no other call handed out.
 *
 * Picked at random in 20000–32767, below Linux's default ephemeral range (32768–60999): a
 * port the OS picked itself could meanwhile become the local port of one of the runner's own
 * outgoing connections (kept alive in fetch's pool) before the server binds it.
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue; // in use
    }
    handedOut.add(port);
    return port;
  }
  throw new Error("no free port found in 20000–32767");
}

/**
 * Waits until `url` answers any HTTP response, polling for at most `timeoutMs`.
 *
 * @throws {Error} when it never does, with the last lines of the process's stderr.
 */
export async function waitForHttp(
  url: string,
  process: Managed,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !process.exited()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      return;
    } catch (error) {
      lastError = error;
      await sleep(100);
    }
  }
  let stderr = "";
  try {
    stderr = Deno.readTextFileSync(process.stderrPath).trim().split("\n").slice(-15).join("\n");
  } catch {
    // No stderr file.
  }
  throw new Error(
    `${process.name} did not answer on ${url} within ${timeoutMs} ms` +
      (process.exited() ? " (it exited)" : "") +
      ` (last error: ${String(lastError)})` + (stderr === "" ? "" : `\nits stderr:\n${stderr}`),
  );
}
