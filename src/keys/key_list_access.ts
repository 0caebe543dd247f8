/**
 * Where key operations read and change the key list: the file `CHOREOAI_KEYS_FILE`, or the
 * database's `keys` table (`CHOREOAI_DATABASE_URL`). Both give the same read → modify → write
 * under a lock, so the CLI and the admin API are written once for both.
 */
import { DATABASE_KEY_LIST, readKeyList, updateKeyList } from "../db/key_list.ts";
import type { Sql } from "../db/connect.ts";
import { readKeyFile, updateKeyFile } from "./file_store.ts";
import type { KeyFile } from "./key_file.ts";

/** A key list that key operations work on. */
export interface KeyListAccess {
  /** Which kind of list it is. */
  readonly source: "file" | "database";
  /** Where it lives, for messages: the file's path or "the database key list". */
  readonly where: string;
  /** When running gateways apply a change, for messages ("once it has reloaded …"). */
  readonly inForce: string;
  /** Reads and validates the list (a missing file is an error). */
  read(): Promise<KeyFile>;
  /**
   * Lock → read → `modify` → write → unlock; returning the list given writes nothing.
   * `create`: a missing file starts empty (the database list always exists).
   */
  update(
    modify: (file: KeyFile) => KeyFile | Promise<KeyFile>,
    options?: { create?: boolean },
  ): Promise<KeyFile>;
}

/** The key list file at `path`. */
export function fileKeyList(path: string): KeyListAccess {
  return {
    source: "file",
    where: path,
    inForce: "once it has reloaded the key list",
    read: () => readKeyFile(path),
    update: (modify, options) => updateKeyFile(path, modify, options),
  };
}

/**
 * The database's key list, through `withSql`: a pool opened for the call (the CLI), or the
 * gateway's own pool.
 */
export function databaseKeyList(
  withSql: <T>(use: (sql: Sql) => Promise<T>) => Promise<T>,
): KeyListAccess {
  return {
    source: "database",
    where: DATABASE_KEY_LIST,
    inForce: "within a second (every gateway on this database listens for changes)",
    read: () => withSql((sql) => readKeyList(sql)),
    update: (modify) => withSql((sql) => updateKeyList(sql, modify)),
  };
}
