/**
 * `choreoai keys rotate`: replace a key by a new one with the same name, role, scopes, limits,
 * budget and metadata, printed once; the old key keeps working for a grace period. The new key
 * goes on spending the old one's budget (`rotated_from` chains them).
 */
import type { KeyRecord } from "../../keys/key_file.ts";
import { rotateKey } from "../../keys/operations.ts";
import { FLAG_LABELS } from "../../keys/settings.ts";
import { type CliIo, EXIT } from "../io.ts";
import { expiryNote, json, printable, readableTime, wholeSeconds } from "./_shared.ts";
import {
  HELP_OPTION,
  JSON_OPTION,
  laterTime,
  oneId,
  parseDurationFlag,
  parseFlags,
} from "./flags.ts";
import { HELP } from "./help.ts";
import { keyListOf } from "./key_list.ts";

const DEFAULT_GRACE = "24h";

/** Runs `choreoai keys rotate`: returns the exit code, or throws a UsageError or CommandError. */
export async function rotateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("rotate", args, {
    grace: { type: "string" },
    ...JSON_OPTION,
    ...HELP_OPTION,
  });
  if (values.help === true) {
    io.stdout(`${HELP.rotate}\n`);
    return EXIT.ok;
  }
  const id = oneId("rotate", positionals);
  const grace = parseDurationFlag("--grace", values.grace ?? DEFAULT_GRACE, "rotate", true);
  const now = io.now();
  // Past the year 9999 is a usage error before the key list is touched.
  if (grace !== 0) laterTime("--grace", wholeSeconds(now), grace, "rotate");
  const list = keyListOf(io);
  let rotated:
    | { readonly old: KeyRecord; readonly next: KeyRecord; readonly key: string }
    | undefined;
  await list.update((file) => {
    const change = rotateKey(file, id, { graceMs: grace, labels: FLAG_LABELS }, {
      now,
      randomBytes: io.randomBytes,
      where: list.where,
    });
    rotated = { old: change.previous, next: change.record, key: change.secret };
    return change.file;
  });
  if (rotated === undefined) throw new Error("The key list was not updated");
  const { old, next, key } = rotated;
  const oldNote = grace === 0
    ? `The old key ${old.id} was revoked now (--grace 0).`
    : `The old key ${old.id} keeps working until ${readableTime(old.expires_at, "-")}.`;
  io.stderr(
    `Rotated key ${old.id} to ${next.id} "${printable(next.name)}" (${next.hint}), ` +
      `${expiryNote(next.expires_at)}.\n${oldNote}\n` +
      "Store the new key now: it cannot be shown again.\n",
  );
  io.stdout(
    values.json === true
      ? json({
        id: next.id,
        name: next.name,
        key,
        expires_at: next.expires_at,
        rotated_from: old.id,
      })
      : `${key}\n`,
  );
  return EXIT.ok;
}
