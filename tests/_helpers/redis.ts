/**
 * A real `redis-server` for tests: started by the test on a free port, empty (no snapshot, no
 * append-only file), stopped by PID when the test ends. Needs `--allow-run=redis-server`.
 */
import { freePort } from "./ports.ts";

/** A running (or stopped, then restartable) redis-server. */
export interface TestRedis extends AsyncDisposable {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Stops the server and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
  /** Starts it again, empty, on the same port, and waits until it accepts connections. */
  restart(): Promise<void>;
}

/** The name of a Redis test when the server is missing: visible in the summary, never silent. */
export const REDIS_SKIPPED = "SKIPPED: redis-server not installed (apt-get install redis-server)";

/** Whether `redis-server` can be started here. */
export async function hasRedisServer(): Promise<boolean> {
  try {
    const command = new Deno.Command("redis-server", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    });
    return (await command.output()).success;
  } catch (error) {
    // A missing --allow-run=redis-server is a broken test task, not a missing package: say so.
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function answersPing(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const read = await conn.read(buffer);
    return read !== null && new TextDecoder().decode(buffer.subarray(0, read)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

interface Running {
  readonly child: Deno.ChildProcess;
  readonly output: Promise<Deno.CommandOutput>;
}

function spawn(port: number): Running {
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, output: child.output() };
}

/** Waits until the server answers PING; throws with its output if it exits first. */
async function waitUntilReady(running: Running, port: number): Promise<void> {
  let exited: Deno.CommandOutput | undefined;
  running.output.then((output) => exited = output, () => {});
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    if (exited !== undefined) {
      const text = new TextDecoder().decode(exited.stdout) +
        new TextDecoder().decode(exited.stderr);
      throw new Error(
        `Cannot start redis-server on port ${port}: it exited\n${text.slice(-2_000)}`,
      );
    }
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Cannot start redis-server on port ${port}: no answer within 10 s`);
}

async function terminate(running: Running): Promise<void> {
  try {
    running.child.kill("SIGTERM");
  } catch {
    // already exited
  }
  await running.output;
}

/** Starts an empty redis-server on a free port and waits until it accepts connections. */
export async function startRedis(): Promise<TestRedis> {
  let port = 0;
  let running: Running | undefined;
  // A free port can be taken between the probe and redis-server's bind: try a few.
  for (let attempt = 1; running === undefined; attempt++) {
    port = freePort();
    const candidate = spawn(port);
    try {
      await waitUntilReady(candidate, port);
      running = candidate;
    } catch (error) {
      await terminate(candidate);
      if (attempt === 3) throw error;
    }
  }
  let current: Running | undefined = running;
  const stop = async () => {
    const stopping = current;
    current = undefined;
    if (stopping !== undefined) await terminate(stopping);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      const next = spawn(port);
      try {
        await waitUntilReady(next, port);
      } catch (error) {
        await terminate(next);
        throw error;
      }
      current = next;
    },
    [Symbol.asyncDispose]: stop,
  };
}
