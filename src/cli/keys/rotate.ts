/**
 * `choreoai keys rotate`: replace a key by a new one with the same name, role, scopes, limits,
 * budget and metadata, printed once; the old key keeps working for a grace period. The new key
 * goes on spending the old one's budget (`rotated_from` chains them).
 */
import { generateKey, KEY_RANDOM_BYTES } from "../../keys/generate.ts";
import { type KeyRecord, keyRole } from "../../keys/key_file.ts";
import { keyStatus } from "../../keys/status.ts";
import { type CliIo, EXIT } from "../io.ts";
import {
  CommandError,
  expiryNote,
  findKey,
  formatTime,
  json,
  MAX_TIME,
  printable,
  readableTime,
  wholeSeconds,
} from "./_shared.ts";
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
import { newKeyId, newRecord } from "./new_record.ts";

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
  const start = wholeSeconds(now);
  const graceEnd = grace === 0 ? start : laterTime("--grace", start, grace, "rotate");
  const list = keyListOf(io);
  const key = generateKey(io.randomBytes(KEY_RANDOM_BYTES));
  let rotated: { readonly old: KeyRecord; readonly next: KeyRecord } | undefined;
  await list.update((file) => {
    const old = findKey(file, id, list.where);
    const status = keyStatus(old, file.keys, now);
    if (status === "revoked") {
      throw new CommandError(`Key ${id} is revoked and cannot be rotated: create a new key`);
    }
    if (status === "expired") {
      throw new CommandError(
        `Key ${id} expired at ${readableTime(old.expires_at, "-")} and cannot be rotated: ` +
          "create a new key",
      );
    }
    if (status === "rotating") {
      const newer = file.keys.filter((k) => k.rotated_from === id).map((k) => k.id);
      throw new CommandError(
        `Key ${id} was already rotated to ${newer.join(", ")}: rotate that key instead, ` +
          `or revoke ${id}`,
      );
    }
    const oldExpiry = old.expires_at === null ? null : Date.parse(old.expires_at);
    let expiresAt: string | null = null;
    if (oldExpiry !== null) {
      const lifetime = oldExpiry - Date.parse(old.created_at);
      // A created_at in the future (a hand-edited file) leaves the remaining lifetime.
      const end = start + (lifetime > 0 ? lifetime : oldExpiry - now);
      expiresAt = formatTime(Math.min(end, MAX_TIME));
    }
    const next: KeyRecord = {
      ...newRecord(newKeyId(file, io), key, {
        name: old.name,
        role: keyRole(old),
        expires_at: expiresAt,
        models: old.models === null ? null : [...old.models],
        endpoints: old.endpoints === null ? null : [...old.endpoints],
        ips: old.ips === null ? null : [...old.ips],
        rpm: old.rpm,
        tpm: old.tpm,
        budget: old.budget ?? null,
      }, now),
      rotated_from: old.id,
      metadata: structuredClone(old.metadata),
    };
    const retired: KeyRecord = grace === 0 ? { ...old, revoked_at: formatTime(start) } : {
      ...old,
      expires_at: formatTime(oldExpiry === null ? graceEnd : Math.min(graceEnd, oldExpiry)),
    };
    rotated = { old: retired, next };
    return {
      version: 1,
      keys: [...file.keys.map((k) => k.id === id ? retired : k), next],
    };
  });
  if (rotated === undefined) throw new Error("The key list was not updated");
  const { old, next } = rotated;
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
