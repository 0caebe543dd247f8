/**
 * The status of a key in the list at a given moment. Pure: the CLI's `keys list` and the server
 * use the same rules.
 */
import type { KeyRecord } from "./key_file.ts";

/** Where a key stands at a moment in time. */
export type KeyStatus = "active" | "expired" | "revoked" | "rotating";

/** Parses one of the file's ISO 8601 times (validated by the schema) into milliseconds. */
function toMillis(time: string): number {
  const millis = Date.parse(time);
  if (Number.isNaN(millis)) throw new RangeError(`Cannot parse time "${time}"`);
  return millis;
}

/**
 * The status of `key` at `now` (milliseconds since the epoch):
 *
 * - `revoked` once `revoked_at` ≤ now;
 * - else `expired` once `expires_at` ≤ now;
 * - else `rotating` while another key of `allKeys` was rotated from this one (`rotated_from`
 *   is this id) and this key's `expires_at` is still in the future (its grace period);
 * - else `active`.
 *
 * @param key the key to judge
 * @param allKeys the whole list (may include `key` itself)
 * @param now milliseconds since the epoch
 * @returns the key's status
 *
 * @example Usage
 * ```ts
 * import { keyStatus } from "./status.ts";
 * const old = { id: "key_old", expires_at: "2030-01-01T00:00:00Z", revoked_at: null };
 * const all = [{ id: "key_old", rotated_from: null }, { id: "key_new", rotated_from: "key_old" }];
 * keyStatus(old, all, Date.parse("2029-12-31T00:00:00Z")); // "rotating" (in its grace period)
 * keyStatus(old, all, Date.parse("2030-01-01T00:00:00Z")); // "expired"
 * ```
 */
export function keyStatus(
  key: Pick<KeyRecord, "id" | "expires_at" | "revoked_at">,
  allKeys: readonly Pick<KeyRecord, "id" | "rotated_from">[],
  now: number,
): KeyStatus {
  if (key.revoked_at !== null && toMillis(key.revoked_at) <= now) return "revoked";
  if (key.expires_at === null) return "active";
  if (toMillis(key.expires_at) <= now) return "expired";
  const replaced = allKeys.some((other) => other.id !== key.id && other.rotated_from === key.id);
  return replaced ? "rotating" : "active";
}
