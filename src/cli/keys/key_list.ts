/**
 * Where the `keys` commands read and change the key list: the file `CHOREOAI_KEYS_FILE` when it
 * is set, else the database `CHOREOAI_DATABASE_URL` (table `keys`). Both give the same
 * read → modify → write under a lock, so the commands are written once for both.
 */
import { readKeyFile, updateKeyFile } from "../../keys/file_store.ts";
import type { KeyFile } from "../../keys/key_file.ts";
import { DATABASE_KEY_LIST, readKeyList, updateKeyList } from "../../db/key_list.ts";
import { withDatabase } from "../database.ts";
import type { CliIo } from "../io.ts";
import { CommandError } from "./_shared.ts";

/** The key list a command works on. */
export interface KeyListAccess {
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

/**
 * The key list of `io`: the file when `CHOREOAI_KEYS_FILE` is set, else the database.
 *
 * @throws {CommandError} when neither is set.
 */
export function keyListOf(io: CliIo): KeyListAccess {
  const path = io.keysFile;
  if (path !== undefined && path !== "") {
    return {
      where: path,
      inForce: "once it has reloaded the key list",
      read: () => readKeyFile(path),
      update: (modify, options) => updateKeyFile(path, modify, options),
    };
  }
  const url = io.databaseUrl;
  if (url !== undefined && url !== "") {
    return {
      where: DATABASE_KEY_LIST,
      inForce: "within a second (every gateway on this database listens for changes)",
      read: () => withDatabase(url, (sql) => readKeyList(sql)),
      update: (modify) => withDatabase(url, (sql) => updateKeyList(sql, modify)),
    };
  }
  throw new CommandError(
    "CHOREOAI_KEYS_FILE is not set: point it at the key list file, such as ./keys.json " +
      "(or set CHOREOAI_DATABASE_URL to keep the key list in PostgreSQL)",
  );
}
