/**
 * Reading the usage database: per-key statistics, and summaries by key and model or by UTC day.
 * Every function opens the file read-only and never creates it: a missing file reads as "no
 * usage". Costs are summed in whole micro-dollars, so totals are exact; requests recorded
 * before costs were (schema version 4) count 0.
 */
import type { DatabaseSync } from "node:sqlite";
import { openReadOnlyDb, toIsoTime, userVersion } from "./_db.ts";
import { toUsd } from "../spend/pricing.ts";

/** Milliseconds in a day: days are UTC days. */
const DAY_MS = 86_400_000;

/** What `keys list` shows per key. */
export interface KeyStats {
  /** Time of the most recent recorded request, ISO 8601 UTC (`…Z`). */
  last_used_at: string | null;
  /** Recorded requests, whatever their outcome. */
  requests: number;
}

/**
 * Reads the last-used time and request count of every key that has recorded usage.
 *
 * @param dbPath The SQLite file (CHOREOAI_DB).
 * @returns Key id → stats; an empty map when the file does not exist (it is not created).
 */
export function readKeyStats(
  dbPath: string,
): Map<string, { last_used_at: string | null; requests: number }> {
  const stats = new Map<string, KeyStats>();
  const db = openReadOnlyDb(dbPath);
  if (db === undefined) return stats;
  try {
    const rows = db.prepare("SELECT key_id, last_used_at, requests FROM key_stats").all();
    for (const row of rows) {
      const last = row.last_used_at;
      stats.set(String(row.key_id), {
        last_used_at: last === null || last === undefined ? null : toIsoTime(Number(last)),
        requests: Number(row.requests),
      });
    }
    return stats;
  } finally {
    db.close();
  }
}

/** One line of a summary: a key's usage of one model. */
export interface UsageSummaryRow {
  key_id: string;
  /** The model the client asked for; {@linkcode NO_MODEL} when none was recorded. */
  model: string;
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

/** Usage between two times, by key and model (ordered by key_id, then model). */
export interface UsageSummary {
  /** ISO 8601 UTC. */
  since: string;
  /** ISO 8601 UTC. */
  until: string;
  rows: UsageSummaryRow[];
}

/** Shown as the model of requests recorded without one (e.g. a body that did not parse). */
export const NO_MODEL = "-";

/** One day of a daily series: the usage of every key (or of one) on one UTC day. */
export interface DailyUsageRow {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  unpriced_requests: number;
}

/** Usage between two times, one row per UTC day, days without requests included. */
export interface DailyUsage {
  /** ISO 8601 UTC. */
  since: string;
  /** ISO 8601 UTC. */
  until: string;
  rows: DailyUsageRow[];
}

/** The summed columns of every summary, costs in whole micro-dollars. */
function totalsSql(db: DatabaseSync): string {
  const costs = userVersion(db) >= 4
    ? `SUM(CAST(round(COALESCE(cost_usd, 0) * 1000000) AS INTEGER)) AS cost_micro_usd,
       SUM(COALESCE(unpriced, 0)) AS unpriced_requests`
    : "0 AS cost_micro_usd, 0 AS unpriced_requests";
  return `COUNT(*) AS requests, SUM(status >= 400) AS errors, SUM(prompt_tokens) AS prompt_tokens,
    SUM(completion_tokens) AS completion_tokens, SUM(total_tokens) AS total_tokens, ${costs}`;
}

/** The summed columns of one result row, as numbers. */
function totalsOf(row: Record<string, unknown>) {
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

/** The window's bounds and key filter, as SQL parameters. */
function windowParameters(
  query: { keyId?: string; since: number; until: number },
): Record<string, string | number> {
  const parameters: Record<string, string | number> = {
    since: Math.floor(query.since),
    until: Math.ceil(query.until),
  };
  if (query.keyId !== undefined) parameters.key_id = query.keyId;
  return parameters;
}

/**
 * Sums recorded requests with `since <= time <= until` by key and model.
 *
 * @param dbPath The SQLite file (CHOREOAI_DB); a missing file gives no rows and is not created.
 * @param query Optional key id, and the window in milliseconds since the epoch.
 */
export function summarizeUsage(
  dbPath: string,
  query: { keyId?: string; since: number; until: number },
): UsageSummary {
  const summary: UsageSummary = {
    since: toIsoTime(query.since),
    until: toIsoTime(query.until),
    rows: [],
  };
  const db = openReadOnlyDb(dbPath);
  if (db === undefined) return summary;
  try {
    const byKey = query.keyId === undefined ? "" : "AND key_id = :key_id";
    const statement = db.prepare(`
      SELECT key_id, COALESCE(model, :no_model) AS model, ${totalsSql(db)}
      FROM requests
      WHERE time >= :since AND time <= :until ${byKey}
      GROUP BY 1, 2
      ORDER BY 1, 2`);
    for (const row of statement.all({ ...windowParameters(query), no_model: NO_MODEL })) {
      summary.rows.push({ key_id: String(row.key_id), model: String(row.model), ...totalsOf(row) });
    }
    return summary;
  } finally {
    db.close();
  }
}

/**
 * Sums recorded requests with `since <= time <= until` by UTC day: one row per day of the
 * window, oldest first, days without requests as zeros.
 *
 * @param dbPath The SQLite file (CHOREOAI_DB); a missing file gives zero rows for every day.
 * @param query Optional key id, and the window in milliseconds since the epoch.
 */
export function summarizeUsageByDay(
  dbPath: string,
  query: { keyId?: string; since: number; until: number },
): DailyUsage {
  const days = new Map<number, DailyUsageRow>();
  const first = Math.floor(query.since / DAY_MS);
  const last = Math.floor(query.until / DAY_MS);
  for (let day = first; day <= last; day++) {
    days.set(day, {
      day: toIsoTime(day * DAY_MS).slice(0, 10),
      requests: 0,
      errors: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      cost_usd: 0,
      unpriced_requests: 0,
    });
  }
  const series: DailyUsage = {
    since: toIsoTime(query.since),
    until: toIsoTime(query.until),
    rows: [...days.values()],
  };
  const db = openReadOnlyDb(dbPath);
  if (db === undefined) return series;
  try {
    const byKey = query.keyId === undefined ? "" : "AND key_id = :key_id";
    const statement = db.prepare(`
      SELECT time / ${DAY_MS} AS day, ${totalsSql(db)}
      FROM requests
      WHERE time >= :since AND time <= :until ${byKey}
      GROUP BY 1
      ORDER BY 1`);
    for (const row of statement.all(windowParameters(query))) {
      const day = days.get(Number(row.day));
      if (day !== undefined) Object.assign(day, totalsOf(row));
    }
    return series;
  } finally {
    db.close();
  }
}
