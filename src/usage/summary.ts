/**
 * What usage summaries look like, whichever database they are read from (SQLite or
 * PostgreSQL): the query, the row types, and the pieces both readers build their answers from,
 * so that both give the same rows in the same order.
 */
import { toUsd } from "../spend/pricing.ts";

/** Milliseconds in a day: days are UTC days. */
export const DAY_MS = 86_400_000;

/** Shown as the model of requests recorded without one (e.g. a body that did not parse). */
export const NO_MODEL = "-";

/**
 * Which requests a summary counts: `since <= time <= until` (ms since the epoch), of one key or
 * of all.
 */
export interface UsageQuery {
  keyId?: string;
  since: number;
  until: number;
}

/** What `keys list` shows per key. */
export interface KeyStats {
  /** Time of the most recent recorded request, ISO 8601 UTC (`…Z`). */
  last_used_at: string | null;
  /** Recorded requests, whatever their outcome. */
  requests: number;
}

/** The summed numbers of a summary row, a daily row or a whole table. */
export interface UsageTotals {
  requests: number;
  /** Requests answered with a status ≥ 400. */
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** What the requests cost, in US dollars (those of models without a known price count 0). */
  cost_usd: number;
  /** Requests of a model with no known price (counted at 0 in `cost_usd`). */
  unpriced_requests: number;
}

/** Totals of nothing: where a sum starts, and a day without requests. */
export function zeroTotals(): UsageTotals {
  return {
    requests: 0,
    errors: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
    unpriced_requests: 0,
  };
}

/** One line of a summary: a key's usage of one model. */
export interface UsageSummaryRow extends UsageTotals {
  key_id: string;
  /** The model the client asked for; {@linkcode NO_MODEL} when none was recorded. */
  model: string;
}

/** Usage between two times, by key and model (ordered by key_id, then model). */
export interface UsageSummary {
  /** ISO 8601 UTC. */
  since: string;
  /** ISO 8601 UTC. */
  until: string;
  rows: UsageSummaryRow[];
}

/** One day of a daily series: the usage of every key (or of one) on one UTC day. */
export interface DailyUsageRow extends UsageTotals {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
}

/** Usage between two times, one row per UTC day, days without requests included. */
export interface DailyUsage {
  /** ISO 8601 UTC. */
  since: string;
  /** ISO 8601 UTC. */
  until: string;
  rows: DailyUsageRow[];
}

/** Milliseconds since the epoch → ISO 8601 UTC (`…Z`). */
export function toIsoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The summed columns of one result row (`requests`, `errors`, the three token counts,
 * `cost_micro_usd` and `unpriced_requests`, as numbers or numeric strings) as numbers, the cost
 * in US dollars.
 */
export function toTotals(row: Record<string, unknown>): UsageTotals {
  return {
    requests: Number(row.requests),
    errors: Number(row.errors),
    prompt_tokens: Number(row.prompt_tokens),
    completion_tokens: Number(row.completion_tokens),
    total_tokens: Number(row.total_tokens),
    cost_usd: toUsd(Number(row.cost_micro_usd ?? 0)),
    unpriced_requests: Number(row.unpriced_requests ?? 0),
  };
}

/** A summary of `query` with no rows yet. */
export function emptySummary(query: UsageQuery): UsageSummary {
  return { since: toIsoTime(query.since), until: toIsoTime(query.until), rows: [] };
}

/**
 * A daily series of `query` with every day at zero, and its rows by day number (ms / DAY_MS) for
 * the reader to fill in from its `GROUP BY time / DAY_MS`.
 */
export function emptyDailyUsage(
  query: UsageQuery,
): { series: DailyUsage; days: Map<number, DailyUsageRow> } {
  const days = new Map<number, DailyUsageRow>();
  const first = Math.floor(query.since / DAY_MS);
  const last = Math.floor(query.until / DAY_MS);
  for (let day = first; day <= last; day++) {
    days.set(day, { day: toIsoTime(day * DAY_MS).slice(0, 10), ...zeroTotals() });
  }
  const series: DailyUsage = {
    since: toIsoTime(query.since),
    until: toIsoTime(query.until),
    rows: [...days.values()],
  };
  return { series, days };
}
