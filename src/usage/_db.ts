/**
 * Opening the usage database and creating its schema. Private to src/usage/.
 *
 * Schema version 1 (`PRAGMA user_version`); times are milliseconds since the epoch (UTC):
 *
 * ```sql
 * requests  (id INTEGER PRIMARY KEY, time INTEGER, key_id TEXT, endpoint TEXT, model TEXT NULL,
 *            provider TEXT NULL, status INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER,
 *            total_tokens INTEGER, latency_ms REAL, ttfb_ms REAL NULL)
 *            indexed on (key_id, time) and (time)
 * key_stats (key_id TEXT PRIMARY KEY, last_used_at INTEGER, requests INTEGER, errors INTEGER,
 *            prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER)
 * ```
 */
import { DatabaseSync } from "node:sqlite";

/** The schema this code writes and reads. */
export const SCHEMA_VERSION = 1;

const SCHEMA_SQL = `
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

function userVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get();
  return Number(row?.user_version ?? 0);
}

/**
 * Opens (creating when missing) the database for writing: WAL journal, `busy_timeout`, and the
 * schema created in one transaction when `user_version` is 0.
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
        db.exec(SCHEMA_SQL);
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

/** Milliseconds since the epoch → ISO 8601 UTC (`…Z`). */
export function toIsoTime(ms: number): string {
  return new Date(ms).toISOString();
}
