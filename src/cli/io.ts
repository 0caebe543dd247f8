/**
 * What a CLI subcommand may touch, passed in by main.ts so the commands stay testable: the
 * settings it reads, the clock, randomness and the standard streams.
 */
import type { Budget } from "../spend/budget.ts";

/** Inputs and outputs of a CLI subcommand. */
export interface CliIo {
  /** CHOREOAI_KEYS_FILE, when set. */
  readonly keysFile: string | undefined;
  /** CHOREOAI_DB. */
  readonly dbPath: string;
  /**
   * CHOREOAI_DATABASE_URL, when set: usage (and, without `keysFile`, the key list) are read
   * from and written to PostgreSQL instead of `dbPath`.
   */
  readonly databaseUrl?: string | undefined;
  /** The budget of keys without their own (CHOREOAI_DEFAULT_BUDGET_*), for `keys list`. */
  readonly defaultBudget?: Budget | undefined;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Cryptographically random bytes. */
  randomBytes(length: number): Uint8Array;
  /** Reads all of standard input as text. */
  readStdin(): Promise<string>;
  /** Writes to standard output (no newline added). */
  stdout(text: string): void;
  /** Writes to standard error (no newline added). */
  stderr(text: string): void;
}

/** Exit codes shared by every subcommand (DESIGN.md). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
