/**
 * What `keys list` and `keys show` read from the usage store (CHOREOAI_DATABASE_URL's database,
 * else CHOREOAI_DB): each key's last use and request count, and its spend in its budget's
 * current period. What cannot be read is left out with a warning, never an error.
 */
import type { KeyFile, KeyRecord } from "../../keys/key_file.ts";
import { rotationSpenders } from "../../keys/verify.ts";
import { type Budget, formatResetTime } from "../../spend/budget.ts";
import { type BudgetPeriod, periodWindow } from "../../spend/period.ts";
import { type MicroUsd, toMicroUsd, toUsd } from "../../spend/pricing.ts";
import type { UsageReader } from "../../usage/reader.ts";
import type { KeyStats as UsageKeyStats } from "../../usage/summary.ts";
import type { CliIo } from "../io.ts";
import { withUsageReader } from "../usage_reader.ts";

/** Key id → last use and request count. */
export type KeyStats = ReadonlyMap<string, UsageKeyStats>;

/** A key's budget in the current period, as `list --json` and `show --json` print it. */
export interface BudgetStatus {
  usd: number;
  period: BudgetPeriod;
  /** `key`: its own budget; `default`: CHOREOAI_DEFAULT_BUDGET_USD's. */
  source: "key" | "default";
  /** Recorded cost of its requests in the period (with its rotation chain's); null: unknown. */
  spent_usd: number | null;
  remaining_usd: number | null;
  /** When the period resets (ISO 8601, UTC); null for a total budget. */
  resets_at: string | null;
}

/** The error's message, for a warning. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads what each of `keys` (with a budget) spent in its budget's current period, its rotation
 * chain's included: undefined where it cannot be read (warned once).
 */
async function readSpends(
  keys: readonly KeyRecord[],
  { file, io, reader, now }: { file: KeyFile; io: CliIo; reader: UsageReader; now: number },
): Promise<Map<string, MicroUsd | undefined>> {
  const spenders = rotationSpenders(file.keys);
  const spends = new Map<string, MicroUsd | undefined>();
  let warned = false;
  const warn = (reason: string) => {
    if (warned) return;
    warned = true;
    io.stderr(`warning: ${reason}: spent is shown as ?\n`);
  };
  for (const key of keys) {
    const budget: Budget | undefined = key.budget ?? io.defaultBudget;
    if (budget === undefined) continue;
    const { start } = periodWindow(budget.period, now);
    try {
      const spent = await reader.spend(spenders.get(key.id)?.keyIds ?? [key.id], start);
      if (spent === undefined) warn(`the usage database ${reader.where} records no costs`);
      spends.set(key.id, spent);
    } catch (error) {
      warn(`cannot read spend from ${reader.where} (${reasonOf(error)})`);
    }
  }
  return spends;
}

/** A key's budget in the current period, given what it spent (undefined: unknown). */
function budgetStatus(
  key: KeyRecord,
  spent: MicroUsd | undefined,
  { io, now }: { io: CliIo; now: number },
): BudgetStatus | null {
  const budget: Budget | undefined = key.budget ?? io.defaultBudget;
  if (budget === undefined) return null;
  const { resetsAt } = periodWindow(budget.period, now);
  return {
    usd: budget.usd,
    period: budget.period,
    source: key.budget === undefined ? "default" : "key",
    spent_usd: spent === undefined ? null : toUsd(spent),
    remaining_usd: spent === undefined ? null : toUsd(Math.max(0, toMicroUsd(budget.usd) - spent)),
    resets_at: resetsAt === undefined ? null : formatResetTime(resetsAt),
  };
}

/** What `keys` used, from the usage store of `io`; left out (with a warning) when unreadable. */
export interface KeyUsage {
  stats: KeyStats;
  budgetOf: (key: KeyRecord) => BudgetStatus | null;
}

/**
 * Reads the last use, request count and budget spend of `keys`, in one visit to the usage
 * store (CHOREOAI_DATABASE_URL's database, else CHOREOAI_DB).
 */
export async function readKeyUsage(
  keys: readonly KeyRecord[],
  { file, io, now }: { file: KeyFile; io: CliIo; now: number },
): Promise<KeyUsage> {
  let stats: KeyStats = new Map();
  let spends = new Map<string, MicroUsd | undefined>();
  try {
    await withUsageReader(io, async (reader) => {
      try {
        stats = await reader.keyStats();
      } catch (error) {
        io.stderr(
          `warning: cannot read usage from ${reader.where} (${
            reasonOf(error)
          }): last use and request counts are left out\n`,
        );
      }
      spends = await readSpends(keys, { file, io, reader, now });
    });
  } catch (error) {
    // The database could not be opened (its message names it, password hidden).
    io.stderr(
      `warning: ${reasonOf(error)}: last use, request counts and spent are left out\n`,
    );
  }
  return { stats, budgetOf: (key) => budgetStatus(key, spends.get(key.id), { io, now }) };
}
