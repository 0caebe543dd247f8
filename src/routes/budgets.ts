/**
 * Per-key budgets around a request, for every model endpoint and dialect: before any provider
 * call, the request's worst case is reserved against what is left of its key's budget
 * (atomically, in the ledger), or it is refused with a 429 `insufficient_quota`; when it ends,
 * the reservation is settled with its real cost (server.ts): at once for a whole answer, at
 * the end for a stream. A request that ends without usage keeps its reservation; an error
 * before any output releases it. `x-choreoai-budget-remaining-usd` goes on every answer of a
 * key with a budget, and `x-choreoai-cost-usd` (the settled cost) on whole answers.
 *
 * `count_tokens` costs nothing and is not budgeted: a key whose budget is used up may still
 * count tokens (it still counts against the key's rpm).
 */
import type { Principal } from "../auth/verifier.ts";
import {
  type Budget,
  type BudgetAccount,
  budgetAccount,
  budgetRefusal,
  formatUsd,
} from "../spend/budget.ts";
import type { BudgetLedger } from "../spend/ledger.ts";
import type { MicroUsd } from "../spend/pricing.ts";

/** Endpoints whose requests count against a key's budget. */
export const BUDGETED_ENDPOINTS: ReadonlySet<string> = new Set([
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/messages",
  "/v1/responses",
]);

/** One budgeted request, from its admission to its settlement. */
export interface RequestBudget {
  readonly account: BudgetAccount;
  /** The key the request came with (the account is named by its rotation chain's first key). */
  readonly keyId: string;
  /**
   * `open` until the ledger is asked, then `reserved` (settled once, at the end), `refused`,
   * or `settled`.
   */
  state: "open" | "reserved" | "refused" | "settled";
  /** What is reserved for this request (micro-USD). */
  reserved: MicroUsd;
  /** The account's spend as the ledger last answered (after this request's reservation, then settlement). */
  spent: MicroUsd | undefined;
  /** The real cost, once settled. */
  cost: MicroUsd | undefined;
}

/** What a request knows of its spend beyond its access fields (which say what it cost). */
export interface RequestSpend {
  /** Set for a key with a budget on a budgeted endpoint. */
  budget: RequestBudget | undefined;
}

/** The key's own budget, or the gateway's default; undefined when neither is set. */
export function budgetFor(
  principal: Principal,
  defaultBudget: Budget | undefined,
  now: number,
): RequestBudget | undefined {
  const budget = principal.budget ?? defaultBudget;
  if (budget === undefined) return undefined;
  return {
    account: budgetAccount(principal.spender, budget, now),
    keyId: principal.id,
    state: "open",
    reserved: 0,
    spent: undefined,
    cost: undefined,
  };
}

/**
 * Reserves a request's worst case in the ledger, atomically against what is left.
 *
 * @throws {GatewayError} 429 `insufficient_quota` when it does not fit.
 */
export async function reserveBudget(
  ledger: BudgetLedger,
  budget: RequestBudget,
  { amount, now }: { readonly amount: MicroUsd; readonly now: number },
): Promise<void> {
  const answer = await ledger.reserve(budget.account, amount);
  budget.spent = answer.spent;
  if (!answer.admitted) {
    budget.state = "refused";
    throw budgetRefusal(budget.account, {
      keyId: budget.keyId,
      spent: answer.spent,
      requested: amount,
      now,
    });
  }
  budget.state = "reserved";
  budget.reserved = amount;
}

/**
 * What a finished request costs for its budget: its usage at the prices of the target that
 * served it (`priced`, undefined when nothing was priced); without usage, nothing after an
 * error (no output was made) and its whole reservation otherwise (a cut stream, a provider that
 * reports no usage: nobody knows what it used).
 */
export function settledCost(
  budget: RequestBudget,
  outcome: { readonly status: number; readonly hasUsage: boolean; readonly priced: MicroUsd },
): MicroUsd {
  if (outcome.hasUsage) return outcome.priced;
  return outcome.status >= 400 ? 0 : budget.reserved;
}

/** Sets the budget headers of an answer: what is left, and the settled cost of a whole answer. */
export function setBudgetHeaders(
  headers: Headers,
  budget: RequestBudget,
  { whole }: { readonly whole: boolean },
): void {
  if (budget.spent !== undefined) {
    const remaining = Math.max(0, budget.account.limit - budget.spent);
    headers.set("x-choreoai-budget-remaining-usd", formatUsd(remaining));
  }
  if (whole) headers.set("x-choreoai-cost-usd", formatUsd(budget.cost ?? 0));
}
