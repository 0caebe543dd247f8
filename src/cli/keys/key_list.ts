/**
 * The key list a `keys` command works on: the file `CHOREOAI_KEYS_FILE` when it is set, else the
 * database `CHOREOAI_DATABASE_URL` (table `keys`), opened for the command.
 */
import { databaseKeyList, fileKeyList, type KeyListAccess } from "../../keys/key_list_access.ts";
import { withDatabase } from "../database.ts";
import type { CliIo } from "../io.ts";
import { CommandError } from "./_shared.ts";

export type { KeyListAccess };

/**
 * The key list of `io`: the file when `CHOREOAI_KEYS_FILE` is set, else the database.
 *
 * @throws {CommandError} when neither is set.
 */
export function keyListOf(io: CliIo): KeyListAccess {
  const path = io.keysFile;
  if (path !== undefined && path !== "") return fileKeyList(path);
  const url = io.databaseUrl;
  if (url !== undefined && url !== "") return databaseKeyList((use) => withDatabase(url, use));
  throw new CommandError(
    "CHOREOAI_KEYS_FILE is not set: point it at the key list file, such as ./keys.json " +
      "(or set CHOREOAI_DATABASE_URL to keep the key list in PostgreSQL)",
  );
}
