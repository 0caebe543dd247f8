/**
 * What several `choreoai keys …` commands share: the command names, the two errors that set
 * the exit code, and small helpers for times, output and finding keys in the key list.
 */
import type { KeyFile, KeyRecord } from "../../keys/key_file.ts";
import { KEY_PREFIX } from "../../keys/generate.ts";

/** The subcommands of `choreoai keys`, in the order the help lists them. */
export const COMMAND_NAMES = [
  "create",
  "add",
  "list",
  "show",
  "revoke",
  "rotate",
  "set-budget",
  "import",
] as const;
/** One subcommand of `choreoai keys`. */
export type CommandName = typeof COMMAND_NAMES[number];

/** A bad command line: exit 2, with a pointer to the help. */
export class UsageError extends Error {
  readonly command: CommandName | undefined;
  constructor(message: string, command?: CommandName) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** The command was understood but cannot be done: exit 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

/** A value quoted for an error message, unless it might be a key. */
export function shown(value: string): string {
  if (value.includes(KEY_PREFIX) || value.length > 48) return "a value not shown (it may be a key)";
  return JSON.stringify(value);
}

/** The latest time the key file can hold (four-digit years). */
export const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

/** A time as the key file stores it: ISO 8601 in UTC, without milliseconds when they are 0. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** `now` rounded down to whole seconds, for the times the CLI writes. */
export function wholeSeconds(now: number): number {
  return Math.floor(now / 1000) * 1000;
}

/** Replaces control characters, so a hand-edited name cannot garble the terminal. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}

/** A stored time as the CLI prints it, or `none` when there is no time. */
export function readableTime(time: string | null, none: string): string {
  return time === null ? none : formatTime(Date.parse(time));
}

/** `value` as indented JSON, with a trailing newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** "never expires" or "expires <time>", for the messages on stderr. */
export function expiryNote(expiresAt: string | null): string {
  return expiresAt === null ? "never expires" : `expires ${expiresAt}`;
}

/** The key with id `id` in `file` (read from `path`), or a CommandError. */
export function findKey(file: KeyFile, id: string, path: string): KeyRecord {
  const key = file.keys.find((k) => k.id === id);
  if (key === undefined) throw new CommandError(`No key with id "${id}" in ${path}`);
  return key;
}
