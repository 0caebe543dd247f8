/**
 * The benchmark's own `redis-server` for the `choreoai-redis` target: started on a free port on
 * the load core with persistence off, and read through a minimal RESP client (PING, INFO) so the
 * runner can tell how many of the gateway's rate-limit script calls Redis really answered.
 */
import { freePort, type Managed, type ProcessGroup, sleep } from "./processes.ts";

/** A running redis-server. */
export interface RedisServer {
  readonly process: Managed;
  readonly port: number;
  /** Its log (redis-server logs to stdout). */
  readonly logPath: string;
}

const CRLF = "\r\n";

/** The RESP encoding of a command. */
export function encodeCommand(args: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  let text = `*${args.length}${CRLF}`;
  for (const arg of args) text += `$${encoder.encode(arg).length}${CRLF}${arg}${CRLF}`;
  return encoder.encode(text);
}

/**
 * Reads one simple, integer or bulk reply from the start of `bytes`; undefined while incomplete.
 *
 * @throws {Error} for an error reply (`-ERR …`) or a reply type this client does not read.
 */
export function parseReply(bytes: Uint8Array): string | undefined {
  let end = -1;
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) return undefined;
  const decoder = new TextDecoder();
  const head = decoder.decode(bytes.subarray(0, end));
  const rest = head.slice(1);
  switch (head[0]) {
    case "+":
    case ":":
      return rest;
    case "-":
      throw new Error(`redis: ${rest}`);
    case "$": {
      const length = Number(rest);
      if (length < 0) return "";
      const start = end + 2;
      if (bytes.length < start + length + 2) return undefined;
      return decoder.decode(bytes.subarray(start, start + length));
    }
    default:
      throw new Error(`redis: unexpected reply ${JSON.stringify(head.slice(0, 40))}`);
  }
}

/** Sends one command to the redis-server on 127.0.0.1:`port` and returns its reply. */
export async function redisCommand(
  port: number,
  args: readonly string[],
  timeoutMs = 2_000,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await conn.write(encodeCommand(args));
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    while (true) {
      const reply = parseReply(buffer);
      if (reply !== undefined) return reply;
      const n = await conn.read(chunk);
      if (n === null) throw new Error("redis closed the connection before replying");
      const next = new Uint8Array(buffer.length + n);
      next.set(buffer);
      next.set(chunk.subarray(0, n), buffer.length);
      buffer = next;
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}

/** Calls of EVAL and EVALSHA in an `INFO commandstats` reply (the limiter's script calls). */
export function scriptCallsFromInfo(info: string): number {
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) {
    calls += Number(match[1]);
  }
  return calls;
}

/** How many Lua script calls the server has answered since it started. */
export async function scriptCalls(port: number): Promise<number> {
  return scriptCallsFromInfo(await redisCommand(port, ["INFO", "commandstats"]));
}

/** Starts redis-server (no persistence) pinned to `cpu` and waits until it answers PING. */
export async function startRedis(
  group: ProcessGroup,
  executable: string,
  dir: string,
  cpu: number,
  timeoutMs = 15_000,
): Promise<RedisServer> {
  await Deno.mkdir(dir, { recursive: true });
  const port = freePort();
  const logPath = `${dir}/redis.log`;
  const process = group.spawn("redis", executable, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ], { cpu, stdoutPath: logPath });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !process.exited()) {
    try {
      if (await redisCommand(port, ["PING"], 1_000) === "PONG") {
        return { process, port, logPath };
      }
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  let log = "";
  try {
    log = Deno.readTextFileSync(logPath).trim().split("\n").slice(-15).join("\n");
  } catch {
    // No log yet.
  }
  throw new Error(
    `redis-server did not answer PING on port ${port} within ${timeoutMs} ms` +
      (process.exited() ? " (it exited)" : "") + ` (last error: ${String(lastError)})` +
      (log === "" ? "" : `\nits log:\n${log}`),
  );
}
