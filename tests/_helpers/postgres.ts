/**
 * A real PostgreSQL for tests: `initdb` into a fresh temporary directory, `postgres` on a free
 * port on 127.0.0.1 (its Unix socket in that directory), stopped by PID when the test ends and
 * the directory removed. The binaries are found on PATH or where Debian's `postgresql` package
 * installs them (`/usr/lib/postgresql/<version>/bin`, the highest version).
 *
 * PostgreSQL refuses to run as root; tests (and CI) here do. Every PostgreSQL program is started
 * through `setpriv` (util-linux): as root with `--reuid/--regid` of the unprivileged user
 * `nobody` (the temporary directory is chowned to it), otherwise only with `--no-new-privs`.
 * `setpriv` execs the program, so the child's PID is the postmaster's. Needs
 * `--allow-run=setpriv`, `--allow-read`, `--allow-write`, `--allow-env` and `--allow-net`.
 */
import { freePort } from "./ports.ts";

/** A running (or stopped, then restartable) PostgreSQL cluster. */
export interface TestPostgres extends AsyncDisposable {
  /** `postgres://USER@127.0.0.1:PORT/postgres` (trust authentication, no password) */
  readonly url: string;
  readonly port: number;
  /** The superuser's name. */
  readonly user: string;
  /** The temporary directory holding the cluster (`data/`) and the Unix socket. */
  readonly dir: string;
  /** The postmaster's PID while it runs, else undefined. */
  readonly pid: number | undefined;
  /**
   * Stops the server (SIGINT: fast shutdown, open connections are ended) and waits for it to
   * exit. The data is kept, so that `restart()` can bring the same database back (an outage).
   * Idempotent.
   */
  stop(): Promise<void>;
  /** Stops the server if it runs, starts it again on the same port and data, waits until ready. */
  restart(): Promise<void>;
  /** Stops the server and removes the temporary directory. Idempotent. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The name of a PostgreSQL test when the server is missing: visible in the summary, never silent. */
export const POSTGRES_SKIPPED =
  "SKIPPED: PostgreSQL server not installed (apt-get install postgresql)";

const SUPERUSER = "choreoai";
const READY_WITHIN_MS = 20_000;

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly setpriv: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir !== "" && await isFile(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/** `/usr/lib/postgresql/<version>/bin` directories, highest version first. */
async function debianBinDirs(): Promise<string[]> {
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (entry.isDirectory && /^\d+(\.\d+)?$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    return [];
  }
  return versions.sort((a, b) => b - a).map((version) => `/usr/lib/postgresql/${version}/bin`);
}

let found: Promise<Binaries | undefined> | undefined;

function findBinaries(): Promise<Binaries | undefined> {
  found ??= (async () => {
    const setpriv = await onPath("setpriv");
    if (setpriv === undefined) return undefined;
    const initdb = await onPath("initdb");
    const postgres = await onPath("postgres");
    if (initdb !== undefined && postgres !== undefined) return { initdb, postgres, setpriv };
    for (const dir of await debianBinDirs()) {
      if (await isFile(`${dir}/initdb`) && await isFile(`${dir}/postgres`)) {
        return { initdb: `${dir}/initdb`, postgres: `${dir}/postgres`, setpriv };
      }
    }
    return undefined;
  })();
  return found;
}

/** Whether a PostgreSQL server (`initdb` and `postgres`, and `setpriv` to start them) is here. */
export async function hasPostgres(): Promise<boolean> {
  return (await findBinaries()) !== undefined;
}

/** uid and gid of `nobody`, from /etc/passwd (65534 when it is not listed). */
async function nobody(): Promise<{ uid: number; gid: number }> {
  try {
    for (const line of (await Deno.readTextFile("/etc/passwd")).split("\n")) {
      const fields = line.split(":");
      if (fields[0] === "nobody" && fields.length > 3) {
        return { uid: Number(fields[2]), gid: Number(fields[3]) };
      }
    }
  } catch {
    // fall through
  }
  return { uid: 65534, gid: 65534 };
}

/**
 * The `setpriv` options to start PostgreSQL's programs with, for a temporary directory this
 * process just created. As root (told by the directory's owner: Deno.uid() would need
 * --allow-sys, /proc/self --allow-all) the directory is handed to `nobody` and the programs run
 * as `nobody`; otherwise they run as this user.
 */
async function unprivileged(ownDir: string): Promise<string[]> {
  if ((await Deno.stat(ownDir)).uid !== 0) return ["--no-new-privs"];
  const { uid, gid } = await nobody();
  await Deno.chown(ownDir, uid, gid);
  return [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups"];
}

/**
 * Whether the server completes a start-up handshake: a protocol-3 StartupMessage answered by
 * ReadyForQuery ('Z'). While it starts up or shuts down it answers with an ErrorResponse ('E').
 */
async function acceptsConnections(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const body = new TextEncoder().encode(`user\0${SUPERUSER}\0database\0postgres\0\0`);
    const startup = new Uint8Array(8 + body.length);
    const view = new DataView(startup.buffer);
    view.setInt32(0, startup.length);
    view.setInt32(4, 196608); // protocol 3.0
    startup.set(body, 8);
    await conn.write(startup);
    const buffer = new Uint8Array(4096);
    let seen = new Uint8Array(0);
    for (;;) {
      const read = await conn.read(buffer);
      if (read === null) return false;
      const next = new Uint8Array(seen.length + read);
      next.set(seen);
      next.set(buffer.subarray(0, read), seen.length);
      seen = next;
      // Walk the complete messages: type byte, int32 length (including itself), payload.
      let offset = 0;
      while (offset + 5 <= seen.length) {
        const type = String.fromCharCode(seen[offset] ?? 0);
        const length = new DataView(seen.buffer, offset + 1, 4).getInt32(0);
        if (offset + 1 + length > seen.length) break;
        if (type === "Z") {
          await conn.write(new Uint8Array([0x58, 0, 0, 0, 4])); // Terminate
          return true;
        }
        if (type === "E") return false;
        offset += 1 + length;
      }
    }
  } catch {
    return false;
  } finally {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

interface Running {
  readonly child: Deno.ChildProcess;
  readonly output: Promise<Deno.CommandOutput>;
}

function outputText(output: Deno.CommandOutput): string {
  return new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
}

interface Cluster {
  readonly binaries: Binaries;
  readonly dir: string;
  /** `setpriv` options, from `unprivileged()` */
  readonly as: string[];
}

function spawnServer({ binaries, dir, as }: Cluster, port: number): Running {
  const args = [
    ...as,
    "--",
    binaries.postgres,
    "-D",
    `${dir}/data`,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    // A throw-away cluster: durability buys nothing and costs time.
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
  ];
  const child = new Deno.Command(binaries.setpriv, {
    args,
    cwd: dir,
    env: { LC_ALL: "C", HOME: dir },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, output: child.output() };
}

/** Waits until the server accepts connections; throws with its output if it exits first. */
async function waitUntilReady(running: Running, port: number): Promise<void> {
  let exited: Deno.CommandOutput | undefined;
  running.output.then((output) => exited = output, () => {});
  const deadline = performance.now() + READY_WITHIN_MS;
  while (performance.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(
        `Cannot start PostgreSQL on port ${port}: it exited\n${outputText(exited).slice(-2_000)}`,
      );
    }
    if (await acceptsConnections(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `Cannot start PostgreSQL on port ${port}: not accepting connections within ${
      READY_WITHIN_MS / 1000
    } s`,
  );
}

/** SIGINT (fast shutdown) and wait; SIGKILL if it has not exited within 10 s. */
async function terminate(running: Running): Promise<void> {
  try {
    running.child.kill("SIGINT");
  } catch {
    // already exited
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), 10_000));
  try {
    if (await Promise.race([running.output, late]) === "late") {
      try {
        running.child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
      await running.output;
    }
  } finally {
    clearTimeout(timer);
  }
}

async function initCluster({ binaries, dir, as }: Cluster): Promise<void> {
  const args = [
    ...as,
    "--",
    binaries.initdb,
    "-D",
    `${dir}/data`,
    "-U",
    SUPERUSER,
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ];
  const output = await new Deno.Command(binaries.setpriv, {
    args,
    cwd: dir,
    env: { LC_ALL: "C", HOME: dir },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`initdb failed (${output.code})\n${outputText(output).slice(-2_000)}`);
  }
}

/**
 * Creates a cluster in a fresh temporary directory, starts it on a free port and waits until it
 * accepts connections. Throws when the binaries are missing: check `hasPostgres()` first.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const binaries = await findBinaries();
  if (binaries === undefined) throw new Error(POSTGRES_SKIPPED);
  const dir = await Deno.makeTempDir({ prefix: "choreoai-pg-" });
  let port = 0;
  let running: Running | undefined;
  let cluster: Cluster;
  try {
    cluster = { binaries, dir, as: await unprivileged(dir) };
    await initCluster(cluster);
    // A free port can be taken between the probe and the server's bind: try a few.
    for (let attempt = 1; running === undefined; attempt++) {
      port = freePort();
      const candidate = spawnServer(cluster, port);
      try {
        await waitUntilReady(candidate, port);
        running = candidate;
      } catch (error) {
        await terminate(candidate);
        if (attempt === 3) throw error;
      }
    }
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  let current: Running | undefined = running;
  let disposed = false;
  const stop = async () => {
    const stopping = current;
    current = undefined;
    if (stopping !== undefined) await terminate(stopping);
  };
  return {
    url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
    port,
    user: SUPERUSER,
    dir,
    get pid() {
      return current?.child.pid;
    },
    stop,
    async restart() {
      if (disposed) throw new Error("PostgreSQL test cluster already disposed");
      await stop();
      const next = spawnServer(cluster, port);
      try {
        await waitUntilReady(next, port);
      } catch (error) {
        await terminate(next);
        throw error;
      }
      current = next;
    },
    async [Symbol.asyncDispose]() {
      disposed = true;
      await stop();
      await Deno.remove(dir, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}
