/**
 * The PostgreSQL test harness and the client (`postgres` from npm) under Deno: a cluster of its
 * own, a pool, parameterised queries in a transaction, LISTEN/NOTIFY between two connections, a
 * restart with the data kept, and a stop that leaves no process and no directory behind.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";

const available = await hasPostgres();

/** The PID the postmaster wrote into its data directory (removed when it shuts down). */
async function postmasterPid(dir: string): Promise<number | undefined> {
  try {
    return Number((await Deno.readTextFile(`${dir}/data/postmaster.pid`)).split("\n")[0]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function refusesConnections(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused;
  }
}

/** Resolves with the first value `wait` sees, or rejects after `ms`. */
function within<T>(ms: number, what: string, wait: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([wait, late]).finally(() => clearTimeout(timer));
}

Deno.test({
  name: available
    ? "PostgreSQL harness: a cluster of its own, pool, transaction, LISTEN/NOTIFY, restart, stop"
    : `PostgreSQL harness — ${POSTGRES_SKIPPED}`,
  ignore: !available,
  sanitizeResources: true,
  sanitizeOps: true,
}, async () => {
  const cluster = await startPostgres();
  const { dir, port } = cluster;
  try {
    // setpriv execs: the child the harness stops is the postmaster itself.
    const firstPid = cluster.pid;
    assert(firstPid !== undefined);
    assert.equal(await postmasterPid(dir), firstPid);
    assert(cluster.url.startsWith(`postgres://${cluster.user}@127.0.0.1:${port}/`));
    const sql = postgres(cluster.url, { max: 4, onnotice: () => {}, connect_timeout: 5 });
    const other = postgres(cluster.url, { max: 1, onnotice: () => {} });
    try {
      const [server] = await sql<{ version: string }[]>`SELECT version() AS version`;
      assert(server?.version.startsWith("PostgreSQL "), server?.version);

      await sql`CREATE TABLE usage_probe (id serial PRIMARY KEY, key_id text NOT NULL, n int)`;
      await sql.begin(async (tx) => {
        for (const [key, n] of [["k1", 1], ["k2", 2], ["k1", 3]] as const) {
          await tx`INSERT INTO usage_probe (key_id, n) VALUES (${key}, ${n})`;
        }
        const [sum] = await tx<{ total: number }[]>`
          SELECT sum(n)::int AS total FROM usage_probe WHERE key_id = ${"k1"}`;
        assert.deepEqual(sum?.total, 4);
      });
      // A transaction that throws leaves nothing behind.
      await assert.rejects(() =>
        sql.begin(async (tx) => {
          await tx`INSERT INTO usage_probe (key_id, n) VALUES (${"k3"}, ${9})`;
          throw new Error("roll back");
        })
      );
      const rows = await sql<{ key_id: string; n: number }[]>`
        SELECT key_id, n FROM usage_probe ORDER BY id`;
      assert.deepEqual(rows.map((r) => [r.key_id, r.n]), [["k1", 1], ["k2", 2], ["k1", 3]]);

      // The pool opens several connections at once (max: 4).
      const pids = await Promise.all(
        [0, 1, 2, 3].map(() =>
          sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`
        ),
      );
      assert(new Set(pids.map(([row]) => row?.pid)).size > 1, "the pool used one connection");

      // LISTEN on one client, NOTIFY from another.
      let heard!: (payload: string) => void;
      const received = new Promise<string>((resolve) => heard = resolve);
      const listening = await sql.listen("keys_changed", (payload) => heard(payload));
      await other.notify("keys_changed", "revoked:k1");
      assert.deepEqual(await within(2_000, "NOTIFY", received), "revoked:k1");
      await listening.unlisten();

      // A restart keeps the data; the pool reconnects.
      await cluster.restart();
      const secondPid = cluster.pid;
      assert(secondPid !== undefined && secondPid !== firstPid);
      assert.equal(await postmasterPid(dir), secondPid);
      const [counted] = await within(
        10_000,
        "reconnect",
        sql<{ count: number }[]>`SELECT count(*)::int AS count FROM usage_probe`,
      );
      assert.deepEqual(counted?.count, 3);
    } finally {
      await sql.end({ timeout: 1 });
      await other.end({ timeout: 1 });
    }

    // Stopped: the postmaster removed its PID file on the way out, nothing listens on the port;
    // disposed: the directory is gone.
    await cluster.stop();
    assert.equal(cluster.pid, undefined);
    assert.equal(await postmasterPid(dir), undefined);
    assert(await refusesConnections(port));
    await cluster[Symbol.asyncDispose]();
    await assert.rejects(() => Deno.stat(dir), Deno.errors.NotFound);
  } finally {
    await cluster[Symbol.asyncDispose]();
  }
});
