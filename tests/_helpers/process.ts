/** Spawning the real `main.ts` with a controlled environment, for start-up and multi-process tests. */
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** Needs `--allow-run=./bin/choreoai` (the test task grants it). */
const LAUNCHER = new URL("../../bin/choreoai", import.meta.url).pathname;
const PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];

/** The environment a spawned gateway gets: what Deno needs to find its cache, plus `env`. */
export function processEnv(env: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME", "NO_COLOR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, NO_COLOR: "1", ...env };
}

/**
 * `env` with `CHOREOAI_DB` in a new temporary directory (`dir`), unless it names a database: the
 * default `./choreoai.db` would be written into the checkout the tests run from.
 */
function withTempDb(env: Record<string, string>): { env: Record<string, string>; dir?: string } {
  if (env.CHOREOAI_DB !== undefined) return { env };
  const dir = Deno.makeTempDirSync({ prefix: "choreoai-test-db-" });
  return { env: { ...env, CHOREOAI_DB: `${dir}/usage.db` }, dir };
}

async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

function command(args: string[], env: Record<string, string>): Deno.Command {
  return new Deno.Command("deno", {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    env: processEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** What a finished command printed, and its exit code. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `main.ts` with `args` to the end (usage database: see `withTempDb`). */
export async function run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const scratch = withTempDb(env);
  try {
    const { code, stdout, stderr } = await command(args, scratch.env).output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    await removeDir(scratch.dir);
  }
}

/** A spawned gateway, its URL read from its `listening` log line. */
export interface Spawned extends AsyncDisposable {
  readonly url: string;
  readonly process: Deno.ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  readonly errors: string[];
  /** Resolves with the exit status once the process ends. */
  readonly exited: Promise<Deno.CommandStatus>;
}

/** Starts `main.ts` on port 0 (usage database: see `withTempDb`); disposing kills it. */
export function spawnGateway(env: Record<string, string>): Promise<Spawned> {
  const scratch = withTempDb({ CHOREOAI_PORT: "0", ...env });
  return watchGateway(command([], scratch.env).spawn(), scratch.dir);
}

/** The production start command, `bin/choreoai`, as a process manager runs it (no shell). */
export function launcherCommand(env: Record<string, string>): Deno.Command {
  return new Deno.Command(LAUNCHER, {
    env: processEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Collects a started gateway's output and waits for its `listening` line (20 s at most);
 * `scratchDir` is removed once the process ends.
 */
export async function watchGateway(
  process: Deno.ChildProcess,
  scratchDir?: string,
): Promise<Spawned> {
  const lines: string[] = [];
  const listening = Promise.withResolvers<string>();
  const pump = (async () => {
    const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        const parsed = JSON.parse(line);
        if (parsed.msg === "listening") listening.resolve(parsed.url);
      }
    }
    listening.reject(new Error(`gateway exited before listening: ${lines.join("\n")}`));
  })();
  const errors: string[] = [];
  const stderr = process.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void errors.push(text) }),
  );
  const timer = setTimeout(
    () => listening.reject(new Error("gateway did not start in 20 s")),
    20_000,
  );
  const url = await listening.promise.finally(() => clearTimeout(timer));
  const exited = Promise.all([process.status, pump, stderr]).then(async ([status]) => {
    await removeDir(scratchDir);
    return status;
  });
  return {
    url,
    process,
    lines,
    errors,
    exited,
    async [Symbol.asyncDispose]() {
      try {
        process.kill("SIGKILL");
      } catch {
        // already exited
      }
      await exited;
    },
  };
}
