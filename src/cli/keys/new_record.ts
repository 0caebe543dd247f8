/** Building the record of a new key, for `create`, `add` and `rotate`. */
import { digestKey, generateKeyId, keyHint } from "../../keys/generate.ts";
import type { KeyFile, KeyRecord } from "../../keys/key_file.ts";
import type { CliIo } from "../io.ts";
import { CommandError, formatTime, wholeSeconds } from "./_shared.ts";
import type { NewKeySettings } from "./flags.ts";

/** A key id not yet in `file`. */
export function newKeyId(file: KeyFile, io: CliIo): string {
  const taken = new Set(file.keys.map((k) => k.id));
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = generateKeyId(io.randomBytes(8));
    if (!taken.has(id)) return id;
  }
  throw new CommandError("Cannot find a free key id: is the random source broken?");
}

/** The record of `key`, stored by its digest and hint, with `settings`, created at `createdAt`. */
export function newRecord(
  id: string,
  key: string,
  settings: NewKeySettings,
  createdAt: number,
): KeyRecord {
  return {
    id,
    name: settings.name,
    // Written only for an admin key: a client key's record stays as before roles existed.
    ...(settings.role === "admin" ? { role: "admin" } : {}),
    digest: digestKey(key),
    hint: keyHint(key),
    created_at: formatTime(wholeSeconds(createdAt)),
    expires_at: settings.expires_at,
    revoked_at: null,
    rotated_from: null,
    models: settings.models,
    endpoints: settings.endpoints,
    ips: settings.ips,
    rpm: settings.rpm,
    tpm: settings.tpm,
    // Written only when the key has a budget of its own.
    ...(settings.budget === null ? {} : { budget: { ...settings.budget } }),
    metadata: {},
  };
}
