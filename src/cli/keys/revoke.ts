/** `choreoai keys revoke`: revoke a key now; revoking a revoked key changes nothing. */
import type { KeyRecord } from "../../keys/key_file.ts";
import { revokeKey } from "../../keys/operations.ts";
import { type CliIo, EXIT } from "../io.ts";
import { printable, readableTime } from "./_shared.ts";
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
  let before: KeyRecord | undefined;
  let revokedAt: string | null = null;
  let alreadyRevoked = false;
  await list.update((file) => {
    const change = revokeKey(file, id, { now, randomBytes: io.randomBytes, where: list.where });
    before = file.keys.find((k) => k.id === id);
    alreadyRevoked = !change.changed;
    revokedAt = change.record.revoked_at;
    return change.file;
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
      `Revoked key ${label} at ${revokedAt ?? "-"}. ` +
        `A running gateway refuses it ${list.inForce}.\n`,
    );
  }
  return EXIT.ok;
}
