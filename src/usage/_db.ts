/**
 * Opening the usage database and creating its schema. Private to src/usage/.
 *
 * Schema version 4 (`PRAGMA user_version`); times are milliseconds since the epoch (UTC):
 *
 * ```sql
 * -- version 1
 * requests  (id INTEGER PRIMARY KEY, time INTEGER, key_id TEXT, endpoint TEXT, model TEXT NULL,
 *            provider TEXT NULL, status INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER,
 *            total_tokens INTEGER, latency_ms REAL, ttfb_ms REAL NULL)
 *            indexed on (key_id, time) and (time)
 * key_stats (key_id TEXT PRIMARY KEY, last_used_at INTEGER, requests INTEGER, errors INTEGER,
 *            prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER)
 * -- version 2: stored Responses (see responses_store.ts)
 * responses      (id TEXT PRIMARY KEY, key_id TEXT, provider TEXT, previous_id TEXT NULL,
 *                 created_at INTEGER, expires_at INTEGER, response TEXT NULL)
 *                 indexed on (expires_at)
 * response_items (response_id TEXT, kind INTEGER, position INTEGER, key_id TEXT, item_id TEXT,
 *                 item TEXT, PRIMARY KEY (response_id, kind, position))
 *                 indexed on (item_id, key_id)
 * -- version 3: Server-Timing's two numbers
 * requests  + gateway_ms REAL NULL, upstream_ms REAL NULL
 * -- version 4: the cost of each request
 * requests  + cost_usd REAL NULL (US dollars, whole micro-dollars; NULL: not priced, as rows
 *             written before version 4), unpriced INTEGER NULL (1: no price known, cost 0)
 * key_stats + cost_usd REAL NOT NULL DEFAULT 0 (the key's total; 0 for usage before version 4)
 * ```
 *
 * A database of an older version is brought up to date by running the migrations after its
 * version, in one transaction.
 */
import { DatabaseSync } from "node:sqlite";

export { toIsoTime } from "./summary.ts";

/** The schema this code writes and reads. */
export const SCHEMA_VERSION = 4;

const V1_SQL = `
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  model TEXT,
  provider TEXT,
  status INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  latency_ms REAL NOT NULL,
  ttfb_ms REAL
);
CREATE INDEX IF NOT EXISTS requests_key_id_time ON requests (key_id, time);
CREATE INDEX IF NOT EXISTS requests_time ON requests (time);
CREATE TABLE IF NOT EXISTS key_stats (
  key_id TEXT PRIMARY KEY,
  last_used_at INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL
) WITHOUT ROWID;
`;

const V2_SQL = `
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  previous_id TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  response TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS responses_expires_at ON responses (expires_at);
CREATE TABLE IF NOT EXISTS response_items (
  response_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  position INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  item_id TEXT NOT NULL,
  item TEXT NOT NULL,
  PRIMARY KEY (response_id, kind, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS response_items_item_id ON response_items (item_id, key_id);
`;

const V3_SQL = `
ALTER TABLE requests ADD COLUMN gateway_ms REAL;
ALTER TABLE requests ADD COLUMN upstream_ms REAL;
`;

const V4_SQL = `
ALTER TABLE requests ADD COLUMN cost_usd REAL;
ALTER TABLE requests ADD COLUMN unpriced INTEGER;
ALTER TABLE key_stats ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
`;

/** `MIGRATIONS[n]` takes a database from version n to n + 1. */
const MIGRATIONS: readonly string[] = [V1_SQL, V2_SQL, V3_SQL, V4_SQL];

/** The schema version of an open database (`PRAGMA user_version`). */
export function userVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get();
  return Number(row?.user_version ?? 0);
}

/**
 * Opens (creating when missing) the database for writing: WAL journal, `busy_timeout`, and the
 * schema created or migrated in one transaction when `user_version` is below
 * {@linkcode SCHEMA_VERSION}.
 *
 * @throws {Error} when the file cannot be opened or was written by a newer schema.
 */
export function openWritableDb(path: string, options: { busyTimeoutMs: number }): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
    db.exec("PRAGMA journal_mode = WAL");
    // In WAL mode, NORMAL survives a crash of the process; only a power loss may lose the
    // last transactions, an acceptable price for usage records.
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("BEGIN IMMEDIATE");
    try {
      const version = userVersion(db);
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `Cannot use usage database "${path}": schema version ${version} is newer than ${SCHEMA_VERSION}`,
        );
      }
      if (version < SCHEMA_VERSION) {
        for (const sql of MIGRATIONS.slice(version)) db.exec(sql);
        db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens an existing database read-only, never creating it. Returns `undefined` when the file does
 * not exist or holds no usage schema yet; the caller must close what it gets.
 */
export function openReadOnlyDb(path: string): DatabaseSync | undefined {
  try {
    Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    if (userVersion(db) < 1) {
      db.close();
      return undefined;
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
