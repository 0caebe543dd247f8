/**
 * The PostgreSQL schema, as numbered migrations applied in order (`schema_migrations` records
 * which ran). Every replica applies what is missing at start, and `choreoai db migrate` does so on
 * demand; both hold a transaction-scoped advisory lock, so replicas starting together apply each
 * migration once and the others wait, then find nothing to do. A database migrated by newer code
 * (a version this code does not know) is refused rather than written with the wrong schema.
 *
 * Times are milliseconds since the epoch (UTC) in `bigint`, costs whole micro-dollars in
 * `bigint`, as in the SQLite schema (`src/usage/_db.ts`), so both answer the same queries alike.
 */
import type { Sql, TransactionSql } from "./connect.ts";

/** One step of the schema. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

const V1 = `
CREATE TABLE requests (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uid uuid NOT NULL UNIQUE,
  time bigint NOT NULL,
  key_id text NOT NULL,
  endpoint text NOT NULL,
  model text,
  provider text,
  status integer NOT NULL,
  prompt_tokens bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  total_tokens bigint NOT NULL,
  latency_ms double precision NOT NULL,
  ttfb_ms double precision,
  gateway_ms double precision,
  upstream_ms double precision,
  cost_micro_usd bigint,
  unpriced boolean
);
CREATE INDEX requests_key_id_time ON requests (key_id, time);
CREATE INDEX requests_time ON requests (time);

CREATE TABLE key_stats (
  key_id text PRIMARY KEY,
  last_used_at bigint NOT NULL,
  requests bigint NOT NULL,
  errors bigint NOT NULL,
  prompt_tokens bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  total_tokens bigint NOT NULL,
  cost_micro_usd bigint NOT NULL DEFAULT 0
);

CREATE TABLE responses (
  id text PRIMARY KEY,
  key_id text NOT NULL,
  provider text NOT NULL,
  previous_id text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  response text
);
CREATE INDEX responses_expires_at ON responses (expires_at);
CREATE TABLE response_items (
  response_id text NOT NULL,
  kind smallint NOT NULL,
  position integer NOT NULL,
  key_id text NOT NULL,
  item_id text NOT NULL,
  item text NOT NULL,
  PRIMARY KEY (response_id, kind, position)
);
CREATE INDEX response_items_item_id ON response_items (item_id, key_id);

-- The key list: one row per key record of the key file format (DESIGN.md, "Key list"), in the
-- order keys were added. Every change bumps key_list_version (so a periodic check reads one
-- number, not the list) and is announced on the channel choreoai_keys.
CREATE TABLE keys (
  id text PRIMARY KEY,
  position bigint GENERATED ALWAYS AS IDENTITY,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE key_list_version (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL
);
INSERT INTO key_list_version (version) VALUES (0);
CREATE FUNCTION choreoai_key_list_bumped() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE key_list_version SET version = version + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER keys_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON keys
  FOR EACH STATEMENT EXECUTE FUNCTION choreoai_key_list_bumped();
CREATE FUNCTION choreoai_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('choreoai_keys', '');
  RETURN NULL;
END $$;
CREATE TRIGGER keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON keys
  FOR EACH STATEMENT EXECUTE FUNCTION choreoai_keys_changed();
`;

/** Every migration, in order; the last one's version is the schema this code reads and writes. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "usage, key stats, stored responses, keys", sql: V1 },
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** The channel a change of the key list is announced on. */
export const KEYS_CHANNEL = "choreoai_keys";

/** The advisory lock migrations hold (an arbitrary constant: "choreoai" in ASCII, as a bigint). */
const MIGRATION_LOCK = 0x63686f72656f6169n;

/** The database's schema is newer than this code, or a migration failed. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MigrationError";
  }
}

/** What {@linkcode migrate} did. */
export interface MigrationOutcome {
  /** The version found (0: an empty database). */
  readonly from: number;
  /** The version now. */
  readonly to: number;
  /** The versions applied by this call (none when another replica had applied them). */
  readonly applied: readonly number[];
}

async function currentVersion(tx: TransactionSql): Promise<number> {
  const [row] = await tx<{ version: number | null }[]>`
    SELECT max(version) AS version FROM schema_migrations`;
  return row?.version ?? 0;
}

/**
 * Brings the database up to {@linkcode SCHEMA_VERSION}: in one transaction holding the
 * migration lock, applies every migration after the recorded version and records each. Safe
 * to call from several processes at once.
 *
 * @throws {MigrationError} when the database was migrated by newer code, or a migration fails
 *   (nothing of that call is kept).
 */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationOutcome> {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`;
    const from = await currentVersion(tx);
    if (from > known) {
      throw new MigrationError(
        `the database schema is version ${from}, newer than this ChoreoAI knows (${known}): ` +
          "upgrade ChoreoAI on this machine",
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      try {
        await tx.unsafe(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`migration ${migration.version} failed: ${reason}`, {
          cause: error,
        });
      }
      await tx`INSERT INTO schema_migrations (version, description)
        VALUES (${migration.version}, ${migration.description})`;
      applied.push(migration.version);
    }
    return { from, to: Math.max(from, known), applied };
  });
}

/** The recorded schema version without changing anything (0 when never migrated). */
export async function schemaVersion(sql: Sql): Promise<number> {
  const [table] = await sql<{ name: string | null }[]>`
    SELECT to_regclass('schema_migrations')::text AS name`;
  if (table?.name === null || table?.name === undefined) return 0;
  const [row] = await sql<{ version: number | null }[]>`
    SELECT max(version) AS version FROM schema_migrations`;
  return row?.version ?? 0;
}
