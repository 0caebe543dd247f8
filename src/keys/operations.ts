/**
 * The key operations, written once for the CLI (`choreoai keys …`) and the admin API: pure
 * functions from the key list as it is to the list as it should be, with the record changed and,
 * for a new key, its secret (shown once). Callers run them inside `KeyListAccess.update`, so they
 * see the list under its lock. A rule that refuses is a {@linkcode KeyOperationError} (or a
 * `KeySettingsError` for a bad value); returning the same `file` means nothing changed.
 */
import type { Budget } from "../spend/budget.ts";
import type { BudgetPeriod } from "../spend/period.ts";
import { formatTime, MAX_TIME, printable, wholeSeconds } from "./format.ts";
import { digestKey, generateKey, KEY_RANDOM_BYTES } from "./generate.ts";
import { type KeyFile, type KeyRecord, keyRole } from "./key_file.ts";
import { newKeyId, type NewKeySettings, newRecord } from "./new_record.ts";
import { checkEndpointsForRole, laterTime, type SettingLabels } from "./settings.ts";
import { keyStatus } from "./status.ts";

/** Why an operation is refused: no such key, or the key's state does not allow it. */
export type KeyOperationFailure = "not_found" | "conflict";

/** A key operation is refused; the message says why. */
export class KeyOperationError extends Error {
  readonly kind: KeyOperationFailure;
  constructor(message: string, kind: KeyOperationFailure) {
    super(message);
    this.name = "KeyOperationError";
    this.kind = kind;
  }
}

/** What an operation needs besides the list: the time, randomness, and the list's name. */
export interface KeyOperationContext {
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Cryptographically random bytes. */
  readonly randomBytes: (length: number) => Uint8Array;
  /** Where the list lives, for messages: a file's path or "the database key list". */
  readonly where: string;
}

/** The list after an operation, and the record it made or changed. */
export interface KeyChange {
  readonly file: KeyFile;
  readonly record: KeyRecord;
}

/** The key with id `id` in `file`, or a `not_found` error naming `where`. */
export function findKey(file: KeyFile, id: string, where: string): KeyRecord {
  const key = file.keys.find((k) => k.id === id);
  if (key === undefined) {
    throw new KeyOperationError(`No key with id "${id}" in ${where}`, "not_found");
  }
  return key;
}

/** `file` with the record of `id` replaced by `record`. */
export function replaceKey(file: KeyFile, id: string, record: KeyRecord): KeyFile {
  return { version: 1, keys: file.keys.map((k) => k.id === id ? record : k) };
}

/** Generates a new key with `settings`; `secret` is the key itself, to be shown once. */
export function createKey(
  file: KeyFile,
  settings: NewKeySettings,
  ctx: KeyOperationContext,
): KeyChange & { readonly secret: string } {
  const secret = generateKey(ctx.randomBytes(KEY_RANDOM_BYTES));
  const record = newRecord(newKeyId(file, ctx.randomBytes), secret, settings, ctx.now);
  return { file: { version: 1, keys: [...file.keys, record] }, record, secret };
}

/** Registers an existing key (checked by the caller); a key already listed is a conflict. */
export function addKey(
  file: KeyFile,
  secret: string,
  settings: NewKeySettings,
  ctx: KeyOperationContext,
): KeyChange {
  const digest = digestKey(secret);
  const existing = file.keys.find((k) => k.digest === digest);
  if (existing !== undefined) {
    throw new KeyOperationError(
      `This key is already in the list as ${existing.id} ("${printable(existing.name)}")`,
      "conflict",
    );
  }
  const record = newRecord(newKeyId(file, ctx.randomBytes), secret, settings, ctx.now);
  return { file: { version: 1, keys: [...file.keys, record] }, record };
}

/** Revokes a key now; a revoked key is left as it is (`changed` false). */
export function revokeKey(
  file: KeyFile,
  id: string,
  ctx: KeyOperationContext,
): KeyChange & { readonly changed: boolean } {
  const before = findKey(file, id, ctx.where);
  if (keyStatus(before, file.keys, ctx.now) === "revoked") {
    return { file, record: before, changed: false };
  }
  const record = { ...before, revoked_at: formatTime(wholeSeconds(ctx.now)) };
  return { file: replaceKey(file, id, record), record, changed: true };
}

/**
 * Replaces a key by a new one with the same name, role, scopes, limits, budget and metadata
 * (`rotated_from` chains them, so the new key goes on spending the old one's budget). The old
 * key keeps working for `graceMs` (0: revoked now); `previous` is its record after the change.
 */
export function rotateKey(
  file: KeyFile,
  id: string,
  options: { readonly graceMs: number; readonly labels: SettingLabels },
  ctx: KeyOperationContext,
): KeyChange & { readonly previous: KeyRecord; readonly secret: string } {
  const { graceMs } = options;
  const { now } = ctx;
  const start = wholeSeconds(now);
  const graceEnd = graceMs === 0 ? start : laterTime(options.labels.grace, start, graceMs);
  const secret = generateKey(ctx.randomBytes(KEY_RANDOM_BYTES));
  const old = findKey(file, id, ctx.where);
  const status = keyStatus(old, file.keys, now);
  if (status === "revoked") {
    throw new KeyOperationError(
      `Key ${id} is revoked and cannot be rotated: create a new key`,
      "conflict",
    );
  }
  if (status === "expired") {
    throw new KeyOperationError(
      `Key ${id} expired at ${formatTime(Date.parse(old.expires_at ?? ""))} and cannot be ` +
        "rotated: create a new key",
      "conflict",
    );
  }
  if (status === "rotating") {
    const newer = file.keys.filter((k) => k.rotated_from === id).map((k) => k.id);
    throw new KeyOperationError(
      `Key ${id} was already rotated to ${newer.join(", ")}: rotate that key instead, ` +
        `or revoke ${id}`,
      "conflict",
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
  const record: KeyRecord = {
    ...newRecord(newKeyId(file, ctx.randomBytes), secret, {
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
  const previous: KeyRecord = graceMs === 0 ? { ...old, revoked_at: formatTime(start) } : {
    ...old,
    expires_at: formatTime(oldExpiry === null ? graceEnd : Math.min(graceEnd, oldExpiry)),
  };
  return {
    file: { version: 1, keys: [...file.keys.map((k) => k.id === id ? previous : k), record] },
    record,
    previous,
    secret,
  };
}

/**
 * A key's own budget: set (an amount, with a period or the current one's, else `month`), a
 * period alone changed (the key must have a budget), or removed (null: the gateway's default
 * then applies, if any).
 */
export function setKeyBudget(
  file: KeyFile,
  id: string,
  change: { readonly usd?: number; readonly period?: BudgetPeriod } | null,
  ctx: KeyOperationContext & { readonly labels: SettingLabels },
): KeyChange {
  const key = findKey(file, id, ctx.where);
  const { budget: current, ...rest } = key;
  if (change === null) return { file: replaceKey(file, id, rest), record: rest };
  let budget: Budget;
  if (change.usd === undefined) {
    if (current === undefined) {
      throw new KeyOperationError(
        `Key ${id} has no budget of its own to change the period of: give ` +
          `${ctx.labels.budgetUsd} too`,
        "conflict",
      );
    }
    budget = { usd: current.usd, period: change.period ?? current.period };
  } else {
    budget = { usd: change.usd, period: change.period ?? current?.period ?? "month" };
  }
  const record = { ...rest, budget };
  return { file: replaceKey(file, id, record), record };
}

/** What a change of a key's settings sets (values checked by the caller); null clears. */
export interface KeyPatch {
  readonly name?: string | undefined;
  readonly expires_at?: string | null | undefined;
  readonly models?: string[] | null | undefined;
  readonly endpoints?: string[] | null | undefined;
  readonly ips?: string[] | null | undefined;
  readonly rpm?: number | null | undefined;
  readonly tpm?: number | null | undefined;
  /** null: no budget of its own (the gateway's default then applies, if any). */
  readonly budget?: Budget | null | undefined;
}

/**
 * Changes a key's name, expiry, scopes, limits or budget; what `patch` leaves out stays. A
 * client key may not be given an admin endpoint. A patch that changes nothing returns `file`.
 */
export function updateKey(
  file: KeyFile,
  id: string,
  patch: KeyPatch,
  ctx: KeyOperationContext & { readonly labels: SettingLabels },
): KeyChange {
  const key = findKey(file, id, ctx.where);
  const endpoints = patch.endpoints === undefined
    ? key.endpoints
    : checkEndpointsForRole(patch.endpoints, keyRole(key), ctx.labels);
  const changed: KeyRecord = {
    ...key,
    name: patch.name ?? key.name,
    expires_at: patch.expires_at === undefined ? key.expires_at : patch.expires_at,
    models: patch.models === undefined ? key.models : patch.models,
    endpoints,
    ips: patch.ips === undefined ? key.ips : patch.ips,
    rpm: patch.rpm === undefined ? key.rpm : patch.rpm,
    tpm: patch.tpm === undefined ? key.tpm : patch.tpm,
  };
  const { budget: _budget, ...withoutBudget } = changed;
  const record: KeyRecord = patch.budget === undefined
    ? changed
    : patch.budget === null
    ? withoutBudget
    : { ...changed, budget: { ...patch.budget } };
  if (JSON.stringify(record) === JSON.stringify(key)) return { file, record: key };
  return { file: replaceKey(file, id, record), record };
}
