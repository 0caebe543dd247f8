/**
 * The PostgreSQL store of Responses, against a real cluster started once for this file: the
 * behaviour every store shares (tests/_helpers/responses_store_cases.ts, each case on emptied
 * tables), two replicas (two pools) reading each other's responses, and saves continuing one
 * conversation at once on both without a deadlock.
 */
import assert from "node:assert/strict";
import { connectDatabase, type Sql } from "../../src/db/connect.ts";
import { migrate } from "../../src/db/migrations.ts";
import { openPostgresResponsesStore } from "../../src/db/responses_store.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";
import {
  type Clock,
  DAY,
  runResponsesStoreCases,
  save,
  type StoreBackend,
  T0,
  texts,
  TTL,
  turn,
} from "../_helpers/responses_store_cases.ts";

const available = await hasPostgres();

function openStore(sql: Sql, clock: Clock, purgeIntervalMs?: number) {
  return openPostgresResponsesStore(sql, { ttlMs: TTL, now: () => clock.now, purgeIntervalMs });
}

async function count(sql: Sql, table: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::integer AS n FROM ${sql(table)}`;
  return row?.n ?? 0;
}

/** Two replicas: two pools on one database, each with its store. */
async function replicasSeeEachOther(one: Sql, two: Sql): Promise<void> {
  const clock = { now: T0 };
  const a = openStore(one, clock);
  const b = openStore(two, clock);
  await save(a, "key_a", turn("resp_1", "One", "1"));
  assert.equal((await b.get("key_a", "resp_1"))?.kind, "stored");
  assert.equal(await b.get("key_b", "resp_1"), undefined);
  clock.now = T0 + DAY;
  await save(b, "key_a", turn("resp_2", "Two", "2", "resp_1"));
  assert.equal((await a.get("key_a", "resp_1"))?.expiresAt, T0 + DAY + TTL, "pushed by b");
  assert.deepEqual(texts(await a.conversation("key_a", "resp_2")), [
    "user:One",
    "assistant:1",
    "user:Two",
    "assistant:2",
  ]);
  assert.deepEqual([...(await a.items("key_a", ["msg_in_resp_2"])).keys()], ["msg_in_resp_2"]);
  assert.equal((await a.inputItems("key_a", "resp_2"))?.data.length, 1);
  await b.saveNative({ keyId: "key_a", id: "resp_o1", provider: "openai" });
  assert.equal((await a.get("key_a", "resp_o1"))?.kind, "native");
  assert.equal(await a.delete("key_a", "resp_1"), true);
  assert.equal(await b.get("key_a", "resp_1"), undefined);
  assert.equal(await b.delete("key_a", "resp_1"), false);
  await a.close();
  await b.close();
  const [row] = await one`SELECT 1 AS ok`;
  assert.equal(row?.ok, 1, "close() leaves the shared pool open");
}

/**
 * A chain of 5, then 24 saves continuing its members (each pushes the expiry of a different
 * stretch of the same rows) and purges of 10 responses that expired meanwhile (both replicas'
 * first write purges, as well as two explicit purges), at once on both replicas.
 */
async function concurrentSaves(one: Sql, two: Sql): Promise<void> {
  const old = { now: T0 - 25 * DAY };
  const stale = openStore(one, old);
  for (let i = 0; i < 10; i++) await save(stale, "key_a", turn(`resp_old${i}`, "Old", "o"));
  const clock = { now: T0 };
  const a = openStore(one, clock);
  const b = openStore(two, clock);
  await save(a, "key_a", turn("resp_c0", "c0", "0"));
  for (let i = 1; i < 5; i++) {
    await save(i % 2 === 0 ? a : b, "key_a", turn(`resp_c${i}`, `c${i}`, `${i}`, `resp_c${i - 1}`));
  }
  clock.now = T0 + 10 * DAY;
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < 24; i++) {
    const store = i % 2 === 0 ? a : b;
    work.push(save(store, "key_a", turn(`resp_x${i}`, `x${i}`, "x", `resp_c${i % 5}`)));
    if (i % 12 === 0) work.push(store.purgeExpired());
  }
  const settled = await Promise.allSettled(work);
  const failures = settled.flatMap((s) => s.status === "rejected" ? [String(s.reason)] : []);
  assert.deepEqual(failures, [], "no save or purge failed (a deadlock aborts one)");
  for (let i = 0; i < 5; i++) {
    assert.equal((await b.get("key_a", `resp_c${i}`))?.expiresAt, T0 + 10 * DAY + TTL);
  }
  for (let i = 0; i < 24; i++) {
    const reader = i % 2 === 0 ? b : a;
    assert.equal((await reader.conversation("key_a", `resp_x${i}`))?.length, 2 * (i % 5) + 4);
  }
  assert.deepEqual([await count(one, "responses"), await count(two, "response_items")], [
    5 + 24,
    2 * (5 + 24),
  ]);
}

Deno.test({
  name: available
    ? "openPostgresResponsesStore() behaves as every ResponsesStore, shared by replicas"
    : `openPostgresResponsesStore() — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const sql = connectDatabase(pg.url);
  const replica = connectDatabase(pg.url, { applicationName: "choreoai-replica" });
  try {
    await migrate(sql);
    const emptied = async (): Promise<StoreBackend> => {
      await sql`TRUNCATE responses, response_items`;
      return {
        open: (clock, purgeIntervalMs) => openStore(sql, clock, purgeIntervalMs),
        count: (table) => count(sql, table),
        [Symbol.asyncDispose]: () => Promise.resolve(),
      };
    };
    await runResponsesStoreCases(t, emptied);
    await t.step("two replicas see each other's responses", async () => {
      await using _ = await emptied();
      await replicasSeeEachOther(sql, replica);
    });
    await t.step("concurrent saves continuing one chain do not deadlock", async () => {
      await using _ = await emptied();
      await concurrentSaves(sql, replica);
    });
  } finally {
    await sql.end({ timeout: 1 });
    await replica.end({ timeout: 1 });
  }
});
