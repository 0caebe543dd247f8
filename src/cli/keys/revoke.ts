/** `choreoai keys revoke`: revoke a key now; revoking a revoked key changes nothing. */
import { updateKeyFile } from "../../keys/file_store.ts";
import type { KeyRecord } from "../../keys/key_file.ts";
import { keyStatus } from "../../keys/status.ts";
import { type CliIo, EXIT } from "../io.ts";
import {
  findKey,
  formatTime,
  printable,
  readableTime,
  requireKeysFile,
  wholeSeconds,
} from "./_shared.ts";
import { HELP_OPTION, oneId, parseFlags } from "./flags.ts";
import { HELP } from "./help.ts";

/** Runs `choreoai keys revoke`: returns the exit code, or throws a UsageError or CommandError. */
export async function revokeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("revoke", args, HELP_OPTION);
  if (values.help === true) {
    io.stdout(`${HELP.revoke}\n`);
    return EXIT.ok;
  }
  const id = oneId("revoke", positionals);
  const path = requireKeysFile(io);
  const now = io.now();
  const revokedAt = formatTime(wholeSeconds(now));
  let before: KeyRecord | undefined;
  let alreadyRevoked = false;
  await updateKeyFile(path, (file) => {
    before = findKey(file, id, path);
    alreadyRevoked = keyStatus(before, file.keys, now) === "revoked";
    if (alreadyRevoked) return file;
    return {
      version: 1,
      keys: file.keys.map((k) => k.id === id ? { ...k, revoked_at: revokedAt } : k),
    };
  });
  if (before === undefined) throw new Error("The key list was not read");
  const label = `${before.id} "${printable(before.name)}" (${before.hint})`;
  if (alreadyRevoked) {
    io.stderr(
      `Key ${label} was already revoked at ${readableTime(before.revoked_at, "-")}; ` +
        "nothing changed.\n",
    );
  } else {
    io.stderr(
      `Revoked key ${label} at ${revokedAt}. ` +
        "A running gateway refuses it once it has reloaded the key list.\n",
    );
  }
  return EXIT.ok;
}
