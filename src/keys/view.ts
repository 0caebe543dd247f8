/**
 * A key as operators see it (`choreoai keys list --json`, `GET /admin/api/keys`): the stored
 * fields without the digest, its status now, its last use and request count, and its budget in
 * the current period. What the usage store cannot tell is left out with a stated reason, never an
 * error.
 */
import type { Budget } from "../spend/budget.ts";
import { formatResetTime } from "../spend/budget.ts";
import { type BudgetPeriod, periodWindow } from "../spend/period.ts";
import { type MicroUsd, toMicroUsd, toUsd } from "../spend/pricing.ts";
import type { UsageReader } from "../usage/reader.ts";
import type { KeyStats as UsageKeyStats } from "../usage/summary.ts";
import { type KeyFile, type KeyRecord, type KeyRole, keyRole } from "./key_file.ts";
import { type KeyStatus, keyStatus } from "./status.ts";
import { rotationSpenders } from "./verify.ts";

/** Key id → last use and request count. */
export type KeyStats = ReadonlyMap<string, UsageKeyStats>;

/** A key's budget in the current period. */
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

/**
 * A key as `keys list --json` prints it: the stored fields without the digest, and the role even
 * when the file leaves it out (a client key).
 */
export type KeyView = Omit<KeyRecord, "digest" | "role"> & {
  role: KeyRole;
  status: KeyStatus;
  last_used_at: string | null;
  requests: number;
  budget_status: BudgetStatus | null;
};

/** What keys used, as read from the usage store. */
export interface KeyUsage {
  readonly stats: KeyStats;
  readonly budgetOf: (key: KeyRecord) => BudgetStatus | null;
  /** Why part of it is unknown: `usage` (last use, requests) or `spent` (budgets). */
  readonly problems: { readonly usage?: string; readonly spent?: string };
}

/** The view of `key` (of `file`) at `now`. */
export function toView(
  key: KeyRecord,
  file: KeyFile,
  { stats, budgetOf, now }: Pick<KeyUsage, "stats" | "budgetOf"> & { now: number },
): KeyView {
  const { id, name, role: _role, digest: _digest, ...stored } = key;
  const usage = stats.get(key.id);
  return {
    id,
    name,
    role: keyRole(key),
    ...stored,
    status: keyStatus(key, file.keys, now),
    last_used_at: usage?.last_used_at ?? null,
    requests: usage?.requests ?? 0,
    budget_status: budgetOf(key),
  };
}

/** A key's budget in the current period, given what it spent (undefined: unknown). */
export function budgetStatus(
  key: KeyRecord,
  spent: MicroUsd | undefined,
  { defaultBudget, now }: { defaultBudget: Budget | undefined; now: number },
): BudgetStatus | null {
  const budget: Budget | undefined = key.budget ?? defaultBudget;
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

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Options of {@linkcode readKeyUsage}. */
export interface ReadKeyUsageOptions {
  /** The whole list (rotation chains spend together). */
  readonly file: KeyFile;
  readonly reader: UsageReader;
  /** The budget of keys without their own (CHOREOAI_DEFAULT_BUDGET_*). */
  readonly defaultBudget: Budget | undefined;
  readonly now: number;
}

/**
 * Reads the last use, request count and budget spend of `keys` (spend in each budget's current
 * period, its rotation chain's included). What cannot be read is left out, and `problems` says
 * why.
 */
export async function readKeyUsage(
  keys: readonly KeyRecord[],
  { file, reader, defaultBudget, now }: ReadKeyUsageOptions,
): Promise<KeyUsage> {
  let stats: KeyStats = new Map();
  const problems: { usage?: string; spent?: string } = {};
  try {
    stats = await reader.keyStats();
  } catch (error) {
    problems.usage = `cannot read usage from ${reader.where} (${reasonOf(error)})`;
  }
  const spenders = rotationSpenders(file.keys);
  const spends = new Map<string, MicroUsd | undefined>();
  for (const key of keys) {
    const budget: Budget | undefined = key.budget ?? defaultBudget;
    if (budget === undefined) continue;
    const { start } = periodWindow(budget.period, now);
    try {
      const spent = await reader.spend(spenders.get(key.id)?.keyIds ?? [key.id], start);
      if (spent === undefined) {
        problems.spent ??= `the usage database ${reader.where} records no costs`;
      }
      spends.set(key.id, spent);
    } catch (error) {
      problems.spent ??= `cannot read spend from ${reader.where} (${reasonOf(error)})`;
    }
  }
  return {
    stats,
    budgetOf: (key) => budgetStatus(key, spends.get(key.id), { defaultBudget, now }),
    problems,
  };
}
