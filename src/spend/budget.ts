/**
 * Per-key budgets: what a key may spend in a period, the account a budget counts against, and
 * the refusal a request gets when its worst case does not fit. Pure.
 *
 * A budget counts the spend of a key together with the keys it was rotated from or to (its
 * rotation chain): rotating a key must not hand out a fresh budget. The chain's first key names
 * the account.
 */
import { z } from "zod";
import { GatewayError } from "../errors.ts";
import { type MicroUsd, toMicroUsd } from "./pricing.ts";
import { BUDGET_PERIODS, type BudgetPeriod, describePeriod, periodWindow } from "./period.ts";

/** The largest budget, in US dollars: its micro-USD stay far within safe integers. */
export const MAX_BUDGET_USD = 1_000_000_000;

/** A budget as the key list (`"budget"`) and the environment write it. */
export const BudgetSchema = z.strictObject({
  usd: z.number({ error: "must be a number of US dollars such as 100 or 2.5" })
    .positive("must be more than 0")
    .max(MAX_BUDGET_USD, `must be at most ${MAX_BUDGET_USD}`)
    .refine((usd) => toMicroUsd(usd) >= 1, "must be at least 0.000001"),
  period: z.enum(BUDGET_PERIODS, { error: 'must be "day", "month" or "total"' }),
});

/** What a key may spend in a period. */
export type Budget = z.infer<typeof BudgetSchema>;

/** Whose spend a budget counts: the first key of a rotation chain, and every key of the chain. */
export interface Spender {
  /** The account's id: the chain's first key (the key itself when it was never rotated). */
  readonly id: string;
  /** Every key of the chain, whose usage records make up the account's spend. */
  readonly keyIds: readonly string[];
}

/** One budget in one period: what the ledger counts against. */
export interface BudgetAccount {
  /** The spender's id (see {@linkcode Spender}). */
  readonly id: string;
  readonly keyIds: readonly string[];
  /** The budget, in micro-USD. */
  readonly limit: MicroUsd;
  readonly period: BudgetPeriod;
  /** The period's first millisecond (UTC); 0 for `total`. */
  readonly start: number;
  /** When the next period starts; undefined for `total`. */
  readonly resetsAt: number | undefined;
}

/** The account a budget counts against at `now`. */
export function budgetAccount(spender: Spender, budget: Budget, now: number): BudgetAccount {
  const { start, resetsAt } = periodWindow(budget.period, now);
  return {
    id: spender.id,
    keyIds: spender.keyIds,
    limit: toMicroUsd(budget.usd),
    period: budget.period,
    start,
    resetsAt,
  };
}

/**
 * Whether a reservation of `amount` fits: the account is not used up, and the amount fits in
 * what is left. A used-up budget refuses even a request that costs nothing by its prices (an
 * unpriced model's real cost is unknown, not zero).
 */
export function fits(limit: MicroUsd, spent: MicroUsd, amount: MicroUsd): boolean {
  return spent < limit && spent + amount <= limit;
}

/**
 * Micro-USD as a decimal number of dollars: at least two decimals, at most six, no exponent.
 *
 * @example
 * ```ts
 * formatUsd(100_000_000); // "100.00"
 * formatUsd(1_234_500); // "1.2345"
 * formatUsd(7); // "0.000007"
 * ```
 */
export function formatUsd(micro: MicroUsd): string {
  const sign = micro < 0 ? "-" : "";
  const abs = Math.abs(Math.round(micro));
  const whole = Math.floor(abs / 1_000_000);
  const fraction = String(abs % 1_000_000).padStart(6, "0").replace(/0{1,4}$/, "");
  return `${sign}${whole}.${fraction.padEnd(2, "0")}`;
}

/** A time as the refusal and `keys list` print it: ISO 8601 in UTC, without milliseconds. */
export function formatResetTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** How long before a reset a refusal says `Retry-After`: within the hour. */
export const RETRY_AFTER_WITHIN_MS = 3_600_000;

/** What a refusal reports. */
export interface RefusalFacts {
  /** The key the request came with (it may differ from the account's first key). */
  readonly keyId: string;
  /** Spent and reserved in the period when the request was refused. */
  readonly spent: MicroUsd;
  /** What the request reserves at most (its worst case). */
  readonly requested: MicroUsd;
  readonly now: number;
}

/**
 * The 429 of a request whose worst case does not fit in the key's budget: type and code
 * `insufficient_quota` (OpenAI's for a used-up quota), a message naming the budget, the period,
 * what is spent and when it resets, `x-should-retry: false`, and `Retry-After` only when the
 * period resets within the hour.
 *
 * @example A monthly budget of $10 with $9.99 spent
 * ```ts
 * const account = {
 *   id: "key_1", keyIds: ["key_1"], limit: 10_000_000, period: "month" as const,
 *   start: Date.UTC(2027, 2, 1), resetsAt: Date.UTC(2027, 3, 1),
 * };
 * const error = budgetRefusal(account, {
 *   keyId: "key_1", spent: 9_990_000, requested: 20_000, now: Date.UTC(2027, 2, 15),
 * });
 * error.message; // "Budget exceeded for key key_1: its budget is $10.00 per month (UTC), ..."
 * ```
 */
export function budgetRefusal(account: BudgetAccount, facts: RefusalFacts): GatewayError {
  const { resetsAt } = account;
  const reset = resetsAt === undefined
    ? "It is a total budget and does not reset: ask for a larger budget."
    : `It resets at ${formatResetTime(resetsAt)}.`;
  const message = `Budget exceeded for key ${facts.keyId}: its budget is ` +
    `$${formatUsd(account.limit)} ${describePeriod(account.period)}, of which ` +
    `$${formatUsd(facts.spent)} is spent or reserved, and this request may cost up to ` +
    `$${formatUsd(facts.requested)}. ${reset}`;
  const headers: Record<string, string> = { "x-should-retry": "false" };
  if (resetsAt !== undefined && resetsAt - facts.now <= RETRY_AFTER_WITHIN_MS) {
    headers["retry-after"] = String(Math.max(1, Math.ceil((resetsAt - facts.now) / 1_000)));
  }
  return new GatewayError(message, {
    status: 429,
    type: "insufficient_quota",
    code: "insufficient_quota",
    headers,
  });
}
