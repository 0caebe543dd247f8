/**
 * Reservation and settlement tables that every ledger must answer the same way: the in-process
 * ledger and the Redis script (ledger_test.ts, redis_ledger_test.ts).
 */
import assert from "node:assert/strict";
import type { BudgetAccount } from "../../src/spend/budget.ts";
import type { BudgetLedger } from "../../src/spend/ledger.ts";

/** One call and what it answers. */
export type Step =
  | { readonly reserve: number; readonly admitted: boolean; readonly spent: number }
  | { readonly settle: number; readonly spent: number | undefined }
  | { readonly peek: true; readonly spent: number };

/** A sequence of calls on one account whose counter starts at `recorded`. */
export interface LedgerCase {
  readonly name: string;
  readonly limit: number;
  /** What the usage database records for the account in the period. */
  readonly recorded: number;
  readonly steps: readonly Step[];
}

export const LEDGER_CASES: readonly LedgerCase[] = [
  {
    name: "reserves up to the budget exactly, then refuses",
    limit: 100,
    recorded: 0,
    steps: [
      { reserve: 40, admitted: true, spent: 40 },
      { reserve: 60, admitted: true, spent: 100 },
      { reserve: 1, admitted: false, spent: 100 },
      { peek: true, spent: 100 },
    ],
  },
  {
    name: "a settlement gives back what was not used, and charges what was used beyond",
    limit: 100,
    recorded: 0,
    steps: [
      { reserve: 80, admitted: true, spent: 80 },
      { reserve: 30, admitted: false, spent: 80 },
      { settle: -50, spent: 30 },
      { reserve: 30, admitted: true, spent: 60 },
      { settle: 45, spent: 105 },
      { reserve: 1, admitted: false, spent: 105 },
    ],
  },
  {
    name: "a free request fits until the budget is used up, not after",
    limit: 100,
    recorded: 0,
    steps: [
      { reserve: 0, admitted: true, spent: 0 },
      { reserve: 99, admitted: true, spent: 99 },
      { reserve: 0, admitted: true, spent: 99 },
      { reserve: 1, admitted: true, spent: 100 },
      { reserve: 0, admitted: false, spent: 100 },
    ],
  },
  {
    name: "a counter starts from the recorded spend",
    limit: 100,
    recorded: 95,
    steps: [
      { reserve: 10, admitted: false, spent: 95 },
      { reserve: 5, admitted: true, spent: 100 },
    ],
  },
  {
    name: "a recorded spend over the budget refuses everything",
    limit: 100,
    recorded: 250,
    steps: [
      { peek: true, spent: 250 },
      { reserve: 0, admitted: false, spent: 250 },
    ],
  },
  {
    name: "a settlement with no counter settles nothing",
    limit: 100,
    recorded: 10,
    steps: [
      { settle: 5, spent: undefined },
      { reserve: 90, admitted: true, spent: 100 },
    ],
  },
  {
    name: "a reservation larger than the whole budget never fits",
    limit: 100,
    recorded: 0,
    steps: [
      { reserve: 101, admitted: false, spent: 0 },
      { reserve: 100, admitted: true, spent: 100 },
    ],
  },
];

/** A monthly account with a unique id (ledgers share nothing between cases). */
export function accountFor(name: string, limit: number): BudgetAccount {
  const id = `key_${name.replace(/[^A-Za-z0-9]/g, "").slice(0, 40)}`;
  return {
    id,
    keyIds: [id],
    limit,
    period: "month",
    start: Date.UTC(2027, 2, 1),
    resetsAt: Date.UTC(2027, 3, 1),
  };
}

/** Runs a case's steps on a ledger, checking every answer. */
export async function runSteps(
  ledger: BudgetLedger,
  account: BudgetAccount,
  steps: readonly Step[],
): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const at = `step ${i + 1}: ${JSON.stringify(step)}`;
    if ("reserve" in step) {
      assert.deepEqual(
        await ledger.reserve(account, step.reserve),
        { admitted: step.admitted, spent: step.spent },
        at,
      );
    } else if ("settle" in step) {
      assert.equal(await ledger.settle(account, step.settle), step.spent, at);
    } else {
      assert.equal(await ledger.peek(account), step.spent, at);
    }
  }
}
