/** `choreoai keys revoke`: revoke a key now; revoking a revoked key changes nothing. */
import type { KeyRecord } from "../../keys/key_file.ts";
import { keyStatus } from "../../keys/status.ts";
import { type CliIo, EXIT } from "../io.ts";
import { findKey, formatTime, printable, readableTime, wholeSeconds } from "./_shared.ts";
import { HELP_OPTION, oneId, parseFlags } from "./flags.ts";
import { HELP } from "./help.ts";
import { keyListOf } from "./key_list.ts";

/** Runs `choreoai keys revoke`: returns the exit code, or throws a UsageError or CommandError. */
export async function revokeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("revoke", args, HELP_OPTION);
  if (values.help === true) {
    io.stdout(`${HELP.revoke}\n`);
    return EXIT.ok;
  }
  const id = oneId("revoke", positionals);
  const list = keyListOf(io);
  const now = io.now();
  const revokedAt = formatTime(wholeSeconds(now));
  let before: KeyRecord | undefined;
  let alreadyRevoked = false;
  await list.update((file) => {
    before = findKey(file, id, list.where);
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
        `A running gateway refuses it ${list.inForce}.\n`,
    );
  }
  return EXIT.ok;
}
