/**
 * Budget periods: a calendar day or month in UTC, or the key's whole life (`total`). Pure: the
 * time is passed in.
 */

/** The periods a budget may have, as the key list and the environment write them. */
export const BUDGET_PERIODS = ["day", "month", "total"] as const;

/** One of {@linkcode BUDGET_PERIODS}. */
export type BudgetPeriod = typeof BUDGET_PERIODS[number];

/** The period a time falls in: when it started and when the next one starts (ms, UTC). */
export interface PeriodWindow {
  /** The first millisecond of the period; 0 for `total`. */
  readonly start: number;
  /** The first millisecond of the next period; undefined for `total`, which never resets. */
  readonly resetsAt: number | undefined;
}

/**
 * The period of `period` that `now` (ms since the epoch) falls in: the UTC day from midnight to
 * midnight, the UTC month from the 1st at midnight, or all time.
 *
 * @example The month of 15 March 2027, 13:00 UTC
 * ```ts
 * const window = periodWindow("month", Date.UTC(2027, 2, 15, 13));
 * // { start: Date.UTC(2027, 2, 1), resetsAt: Date.UTC(2027, 3, 1) }
 * ```
 */
export function periodWindow(period: BudgetPeriod, now: number): PeriodWindow {
  if (period === "total") return { start: 0, resetsAt: undefined };
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (period === "month") {
    return { start: Date.UTC(year, month, 1), resetsAt: Date.UTC(year, month + 1, 1) };
  }
  const day = date.getUTCDate();
  return { start: Date.UTC(year, month, day), resetsAt: Date.UTC(year, month, day + 1) };
}

/** How a period reads in a message: `per day (UTC)`, `per month (UTC)`, `in total`. */
export function describePeriod(period: BudgetPeriod): string {
  return period === "total" ? "in total" : `per ${period} (UTC)`;
}
