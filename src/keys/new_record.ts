/** Building the record of a new key, for creating, adding and rotating keys. */
import type { Budget } from "../spend/budget.ts";
import { formatTime, wholeSeconds } from "./format.ts";
import { digestKey, generateKeyId, keyHint } from "./generate.ts";
import type { KeyFile, KeyRecord, KeyRole } from "./key_file.ts";

/** The settings of a new key, checked (see `settings.ts`). */
export interface NewKeySettings {
  readonly name: string;
  readonly role: KeyRole;
  readonly expires_at: string | null;
  readonly models: string[] | null;
  readonly endpoints: string[] | null;
  readonly ips: string[] | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
  /** null: none of its own (the gateway's default applies, if any). */
  readonly budget: Budget | null;
}

/** A key id not yet in `file`, from `randomBytes`. */
export function newKeyId(file: KeyFile, randomBytes: (length: number) => Uint8Array): string {
  const taken = new Set(file.keys.map((k) => k.id));
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = generateKeyId(randomBytes(8));
    if (!taken.has(id)) return id;
  }
  throw new Error("Cannot find a free key id: is the random source broken?");
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
