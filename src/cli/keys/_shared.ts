/**
 * What several `choreoai keys …` commands share: the command names, the two errors that set
 * the exit code, and small helpers for times, output and finding keys in the key list.
 */
import { formatTime } from "../../keys/format.ts";

export { formatTime, MAX_TIME, printable, shown, wholeSeconds } from "../../keys/format.ts";
export { findKey } from "../../keys/operations.ts";

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
