/**
 * The SQLite store of Responses, against a real database file: the behaviour every store shares
 * (tests/_helpers/responses_store_cases.ts), the schema migration, and a closed store.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openResponsesStore } from "../../src/usage/responses_store.ts";
import { openUsageRecorder } from "../../src/usage/store.ts";
import { createLogger } from "../../src/log.ts";
import { SCHEMA_VERSION } from "../../src/usage/_db.ts";
import {
  type Clock,
  runResponsesStoreCases,
  save,
  type StoreBackend,
  T0,
  TTL,
  turn,
} from "../_helpers/responses_store_cases.ts";

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-responses-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A store on a file in `dir` with a clock the test moves. */
function openStore(dir: string, clock: Clock, purgeIntervalMs?: number) {
  return openResponsesStore(`${dir}/choreoai.db`, {
    ttlMs: TTL,
    now: () => clock.now,
    purgeIntervalMs,
  });
}

function count(path: string, table: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n);
  } finally {
    db.close();
  }
}

/** A fresh database file in a temporary directory, removed on dispose. */
async function sqliteBackend(): Promise<StoreBackend> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-responses-" });
  return {
    open: (clock, purgeIntervalMs) => openStore(dir, clock, purgeIntervalMs),
    count: (table) => Promise.resolve(count(`${dir}/choreoai.db`, table)),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("openResponsesStore() (SQLite) behaves as every ResponsesStore", async (t) => {
  await runResponsesStoreCases(t, sqliteBackend);
});

Deno.test("openResponsesStore() migrates a version 1 usage database and shares it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/choreoai.db`;
    const v1 = new DatabaseSync(path);
    v1.exec(`CREATE TABLE requests (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,
      key_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT, provider TEXT,
      status INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
      total_tokens INTEGER NOT NULL, latency_ms REAL NOT NULL, ttfb_ms REAL);
      CREATE TABLE key_stats (key_id TEXT PRIMARY KEY, last_used_at INTEGER NOT NULL,
      requests INTEGER NOT NULL, errors INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO requests VALUES (1, 1, 'k', '/v1/chat/completions', 'm', 'p', 200, 1, 1, 2, 1, 1);
      PRAGMA user_version = 1;`);
    v1.close();
    const store = openStore(dir, { now: T0 });
    await save(store, "key_a", turn("resp_1", "Hi", "Hello"));
    const log = createLogger(() => {}, () => T0);
    const recorder = openUsageRecorder(path, { log });
    await recorder.close();
    await store.close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal(Number(db.prepare("PRAGMA user_version").get()?.user_version), SCHEMA_VERSION);
      assert.equal(Number(db.prepare("SELECT count(*) AS n FROM requests").get()?.n), 1);
      assert.equal(Number(db.prepare("SELECT count(*) AS n FROM responses").get()?.n), 1);
    } finally {
      db.close();
    }
  });
});

Deno.test("openResponsesStore() refuses a newer schema; a closed store rejects", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/choreoai.db`;
    const store = openStore(dir, { now: T0 });
    await store.close();
    await assert.rejects(store.get("key_a", "resp_1"));
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    assert.throws(
      () => openStore(dir, { now: T0 }),
      new RegExp(`schema version 99 is newer than ${SCHEMA_VERSION}`),
    );
  });
});
