/**
 * How key operations write times and quote values, whoever runs them (the CLI, the admin API).
 */
import { KEY_PREFIX } from "./generate.ts";

/** The latest time the key file can hold (four-digit years). */
export const MAX_TIME: number = Date.UTC(9999, 11, 31, 23, 59, 59);

/** A time as the key file stores it: ISO 8601 in UTC, without milliseconds when they are 0. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** `now` rounded down to whole seconds, for the times key operations write. */
export function wholeSeconds(now: number): number {
  return Math.floor(now / 1000) * 1000;
}

/** A value quoted for an error message, unless it might be a key. */
export function shown(value: string): string {
  if (value.includes(KEY_PREFIX) || value.length > 48) return "a value not shown (it may be a key)";
  return JSON.stringify(value);
}

/** Replaces control characters, so a hand-edited name cannot garble a terminal or a message. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}
