/**
 * The live key list: loaded from `CHOREOAI_KEYS_FILE` at start (a bad file stops the start),
 * reloaded when the file changes or on demand (SIGHUP), keeping the last good list when a reload
 * fails (see `openWatchedFile`).
 */
import { openWatchedFile, type WatchedFile } from "../files/watched.ts";
import type { Logger } from "../log.ts";
import { parseKeyFile } from "./key_file.ts";
import { compileKeyIndex, type KeyIndex } from "./verify.ts";

/** The current key list and how to refresh it. */
export type KeyStore = WatchedFile<KeyIndex>;

/**
 * Loads the key list at `path`.
 *
 * @throws when the file is missing, unreadable or invalid (the gateway must not start).
 */
export function openKeyStore(path: string, log: Logger): Promise<KeyStore> {
  return openWatchedFile(path, {
    compile: (text) => compileKeyIndex(parseKeyFile(text)),
    label: "key list",
    describe: (index) => ({ keys: index.size }),
    log,
  });
}
