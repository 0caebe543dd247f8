/**
 * The key list in PostgreSQL (table `keys`, one row per key record in the key file's format):
 * read whole and validated exactly as a key file is, and changed by read → modify → write under
 * a table lock, so two `choreoai keys` commands on two machines never lose each other's change.
 * A trigger announces every change on {@linkcode KEYS_CHANNEL}; gateways listening there reload.
 * Only digests are stored, never a key.
 */
import { type KeyFile, KeyFileError, type KeyRecord, parseKeyFile } from "../keys/key_file.ts";
import type { Sql, TransactionSql } from "./connect.ts";
import { KEYS_CHANNEL } from "./migrations.ts";

export { KEYS_CHANNEL };

/** Where the key list lives, for messages. */
export const DATABASE_KEY_LIST = "the database key list";

/** The key list in the database is invalid (edited by hand?); the message names the entry. */
export class DatabaseKeyListError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseKeyListError";
  }
}

/** The raw rows, in the order the keys were added. */
async function readRecords(sql: Sql | TransactionSql): Promise<unknown[]> {
  const rows = await sql<{ record: unknown }[]>`SELECT record FROM keys ORDER BY position`;
  return rows.map((row) => row.record);
}

/** Validates raw records as a key file (same rules: schema, unique ids and digests). */
function validated(records: unknown[]): KeyFile {
  try {
    return parseKeyFile(JSON.stringify({ version: 1, keys: records }));
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    throw new DatabaseKeyListError(`${DATABASE_KEY_LIST}: ${error.message}`, { cause: error });
  }
}

/**
 * Reads and validates the key list.
 *
 * @throws {DatabaseKeyListError} when a stored record is invalid; the database's own errors
 *   when it cannot be reached.
 */
export async function readKeyList(sql: Sql): Promise<KeyFile> {
  return validated(await readRecords(sql));
}

/** The key list as a gateway compiles it, and the version it is at. */
export interface KeyListReading {
  /** `{"version":1,"keys":[…]}`: what a reload compares, so an unchanged list is not compiled. */
  readonly text: string;
  /** `key_list_version`: bumped by every change of the table. */
  readonly version: number;
}

/** Reads the list and its version in one statement (one snapshot). */
export async function readKeyListText(sql: Sql): Promise<KeyListReading> {
  const rows = await sql<{ record: unknown; version: string }[]>`
    SELECT k.record, v.version FROM key_list_version v LEFT JOIN keys k ON true
    ORDER BY k.position`;
  const records = rows.flatMap((row) => row.record === null ? [] : [row.record]);
  return {
    text: JSON.stringify({ version: 1, keys: records }),
    version: Number(rows[0]?.version ?? 0),
  };
}

/** The key list's version alone: a periodic check reads it, and the list only when it moved. */
export async function readKeyListVersion(sql: Sql): Promise<number> {
  const [row] = await sql<{ version: string }[]>`SELECT version FROM key_list_version`;
  return Number(row?.version ?? 0);
}

/**
 * Lock → read → `modify` → write the difference → unlock (one transaction). When `modify`
 * returns the very list it was given, nothing is written. The new list is validated before
 * anything is written; an error thrown by `modify` leaves the table as it was.
 *
 * @returns the list as written.
 */
export async function updateKeyList(
  sql: Sql,
  modify: (file: KeyFile) => KeyFile | Promise<KeyFile>,
): Promise<KeyFile> {
  return await sql.begin(async (tx) => {
    // Writers queue behind each other; gateways keep reading meanwhile.
    await tx`LOCK TABLE keys IN SHARE ROW EXCLUSIVE MODE`;
    const current = validated(await readRecords(tx));
    const next = await modify(current);
    if (next === current) return current;
    const checked = validated([...next.keys]);
    await writeDifference(tx, current.keys, checked.keys);
    return checked;
  });
}

/** Deletes the records gone, updates those changed and appends the new ones, in list order. */
async function writeDifference(
  tx: TransactionSql,
  before: readonly KeyRecord[],
  after: readonly KeyRecord[],
): Promise<void> {
  const old = new Map(before.map((record) => [record.id, JSON.stringify(record)]));
  const kept = new Set(after.map((record) => record.id));
  const gone = before.filter((record) => !kept.has(record.id)).map((record) => record.id);
  if (gone.length > 0) await tx`DELETE FROM keys WHERE id = ANY(${gone})`;
  for (const record of after) {
    const text = JSON.stringify(record);
    const previous = old.get(record.id);
    if (previous === text) continue;
    if (previous === undefined) {
      await tx`INSERT INTO keys (id, record) VALUES (${record.id}, ${text}::text::jsonb)`;
    } else {
      await tx`UPDATE keys SET record = ${text}::text::jsonb, updated_at = now()
        WHERE id = ${record.id}`;
    }
  }
}
