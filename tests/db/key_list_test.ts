/**
 * The key list in PostgreSQL with a real server: read and write under the lock (concurrent
 * writers lose nothing), validation as strict as the key file's, and the live list a gateway
 * serves with — a change in force within 1 s through LISTEN/NOTIFY, a change made behind its
 * back found by the periodic re-read, the last good list kept (and `degraded`) while the
 * database is down or holds an invalid list, and current again once it is back.
 */
import assert from "node:assert/strict";
import { connectDatabase, type Sql } from "../../src/db/connect.ts";
import { readKeyList, updateKeyList } from "../../src/db/key_list.ts";
import { type LiveKeyList, openDatabaseKeyList } from "../../src/db/live_key_list.ts";
import { migrate } from "../../src/db/migrations.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { compileKeyIndex } from "../../src/keys/verify.ts";
import { createLogger } from "../../src/log.ts";
import { makeKey } from "../_helpers/keys.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";

const available = await hasPostgres();

function collectingLogger() {
  const lines: string[] = [];
  return { lines, log: createLogger((line) => lines.push(line), Date.now) };
}

async function until(condition: () => boolean, withinMs: number): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > withinMs) return Number.POSITIVE_INFINITY;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

function openLive(sql: Sql, log: ReturnType<typeof createLogger>, rereadMs = 60_000) {
  return openDatabaseKeyList(sql, {
    compile: (text) => compileKeyIndex(parseKeyFile(text)),
    log,
    rereadMs,
  });
}

Deno.test({
  name: available
    ? "key list in PostgreSQL: locked updates, validation, live reload within 1 s, outage keeps the last good list"
    : `key list in PostgreSQL — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const sql = connectDatabase(pg.url, { max: 6 });
  const other = connectDatabase(pg.url, { max: 2 });
  let live: LiveKeyList | undefined;
  try {
    await migrate(sql);

    await t.step("an empty database holds an empty list", async () => {
      assert.deepEqual(await readKeyList(sql), { version: 1, keys: [] });
    });

    await t.step("20 concurrent writers each add a key: all 20 are there", async () => {
      const keys = Array.from({ length: 20 }, () => makeKey());
      await Promise.all(keys.map((key, i) =>
        updateKeyList(i % 2 === 0 ? sql : other, (file) => ({
          version: 1,
          keys: [...file.keys, key.record],
        }))
      ));
      const list = await readKeyList(sql);
      assert.deepEqual(
        new Set(list.keys.map((k) => k.id)),
        new Set(keys.map((k) => k.record.id)),
      );
      assert.equal(list.keys.length, 20);
    });

    await t.step("an update that returns the list unchanged writes nothing", async () => {
      const [before] = await sql`SELECT max(updated_at) AS at FROM keys`;
      await updateKeyList(sql, (file) => file);
      const [after] = await sql`SELECT max(updated_at) AS at FROM keys`;
      assert.deepEqual(after, before);
    });

    await t.step("an invalid list is refused and nothing is written", async (t) => {
      const first = (await readKeyList(sql)).keys[0];
      assert(first !== undefined);
      const cases: Array<[string, (keys: readonly unknown[]) => unknown[], RegExp]> = [
        ["duplicate id", (keys) => [...keys, { ...first }], /share the id/],
        ["bad digest", (keys) => [...keys, { ...makeKey().record, digest: "x" }], /digest/],
        ["plaintext key", (keys) => [...keys, { ...makeKey().record, key: "sk-1" }], /plaintext/],
      ];
      for (const [name, change, error] of cases) {
        await t.step(name, async () => {
          const before = await readKeyList(sql);
          await assert.rejects(
            updateKeyList(sql, (file) => ({ version: 1, keys: change(file.keys) as never })),
            error,
          );
          assert.deepEqual(await readKeyList(sql), before);
        });
      }
    });

    const { lines, log } = collectingLogger();
    live = await openLive(sql, log);
    live.watch();
    const current = live;
    const size = () => current.current().size;

    await t.step("a key added elsewhere is in force within 1 s (LISTEN/NOTIFY)", async () => {
      // The listening connection is set up in the background: let it start.
      await until(
        () => lines.some((line) => line.includes("listening for key list changes")),
        2_000,
      );
      const before = size();
      const key = makeKey();
      await updateKeyList(other, (file) => ({ version: 1, keys: [...file.keys, key.record] }));
      const took = await until(() => size() === before + 1, 1_000);
      assert.ok(took < 1_000, `in force after ${took} ms`);
      assert.equal(current.status(), "ok");
    });

    await t.step("a revocation made by hand in SQL is in force within 1 s", async () => {
      const [row] = await other<{ id: string }[]>`SELECT id FROM keys ORDER BY position LIMIT 1`;
      assert(row !== undefined);
      const revokedBefore = () =>
        [...current.current().byDigest.values()].find((k) => k.record.id === row.id)?.record
          .revoked_at;
      assert.equal(revokedBefore(), null);
      await other`UPDATE keys SET record = jsonb_set(record, '{revoked_at}', '"2026-01-02T00:00:00Z"')
        WHERE id = ${row.id}`;
      const took = await until(() => revokedBefore() === "2026-01-02T00:00:00Z", 1_000);
      assert.ok(took < 1_000, `revoked after ${took} ms`);
    });

    await t.step("an invalid record written by hand: last good list kept, degraded", async () => {
      const before = current.current();
      await other`INSERT INTO keys (id, record) VALUES ('key_broken1', '{"id":"key_broken1"}')`;
      await until(() => current.status() === "degraded", 1_000);
      assert.equal(current.status(), "degraded");
      assert.equal(current.current(), before);
      assert.ok(lines.some((line) => line.includes("the database key list is invalid")));
      await other`DELETE FROM keys WHERE id = 'key_broken1'`;
      await until(() => current.status() === "ok", 1_000);
      assert.equal(current.status(), "ok");
    });

    await t.step(
      "database down: last good list served, degraded; back: current again",
      async () => {
        const before = current.current();
        await pg.stop();
        assert.equal(await current.reload(), "failed");
        assert.equal(current.status(), "degraded");
        assert.equal(current.current(), before, "the last good list stays in force");
        assert.ok(
          lines.some((line) => line.includes("cannot read the key list from the database")),
        );
        await pg.restart();
        // A change made while the gateway's listener reconnects is found by the re-read that
        // follows each (re)connection.
        const key = makeKey();
        await updateKeyList(other, (file) => ({ version: 1, keys: [...file.keys, key.record] }));
        const took = await until(() => current.current().size === before.size + 1, 10_000);
        assert.ok(took < 10_000, "the list is current again after the restart");
        assert.equal(current.status(), "ok");
      },
    );
  } finally {
    await live?.close();
    await Promise.all([sql.end({ timeout: 1 }), other.end({ timeout: 1 })]);
  }
});

Deno.test({
  name: available
    ? "key list in PostgreSQL: the periodic re-read finds a change whose notification was missed"
    : `key list periodic re-read — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async () => {
  await using pg = await startPostgres();
  const sql = connectDatabase(pg.url);
  const { lines, log } = collectingLogger();
  let live: LiveKeyList | undefined;
  try {
    await migrate(sql);
    live = await openLive(sql, log, 200);
    live.watch();
    // No notification: the notifying trigger is disabled, as if the notice were lost (the
    // version trigger still counts the change).
    await sql`ALTER TABLE keys DISABLE TRIGGER keys_changed`;
    const { record } = makeKey();
    await sql`INSERT INTO keys (id, record) VALUES (${record.id}, ${sql.json(record as never)})`;
    const current = live;
    const took = await until(() => current.current().size === 1, 2_000);
    assert.ok(took < 2_000, `found by the re-read after ${took} ms: ${lines.join("\n")}`);
  } finally {
    await live?.close();
    await sql.end({ timeout: 1 });
  }
});
