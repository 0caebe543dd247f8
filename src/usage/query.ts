/**
 * Reading the SQLite usage database: per-key statistics, and summaries by key and model or by
 * UTC day. Every function opens the file read-only and never creates it: a missing file reads
 * as "no usage". Costs are summed in whole micro-dollars, so totals are exact; requests
 * recorded before costs were (schema version 4) count 0.
 */
import type { DatabaseSync } from "node:sqlite";
import { openReadOnlyDb, toIsoTime, userVersion } from "./_db.ts";
import {
  type DailyUsage,
  DAY_MS,
  emptyDailyUsage,
  emptySummary,
  type KeyStats,
  NO_MODEL,
  toTotals,
  type UsageQuery,
  type UsageSummary,
} from "./summary.ts";

export {
  type DailyUsage,
  type DailyUsageRow,
  type KeyStats,
  NO_MODEL,
  type UsageQuery,
  type UsageSummary,
  type UsageSummaryRow,
} from "./summary.ts";

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

/** The summed columns of every summary, costs in whole micro-dollars. */
export function totalsSql(db: DatabaseSync): string {
  const costs = userVersion(db) >= 4
    ? `SUM(CAST(round(COALESCE(cost_usd, 0) * 1000000) AS INTEGER)) AS cost_micro_usd,
       SUM(COALESCE(unpriced, 0)) AS unpriced_requests`
    : "0 AS cost_micro_usd, 0 AS unpriced_requests";
  return `COUNT(*) AS requests, SUM(status >= 400) AS errors, SUM(prompt_tokens) AS prompt_tokens,
    SUM(completion_tokens) AS completion_tokens, SUM(total_tokens) AS total_tokens, ${costs}`;
}

/** The window's bounds and key filter, as SQL parameters. */
function windowParameters(query: UsageQuery): Record<string, string | number> {
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
export function summarizeUsage(dbPath: string, query: UsageQuery): UsageSummary {
  const summary = emptySummary(query);
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
      summary.rows.push({ key_id: String(row.key_id), model: String(row.model), ...toTotals(row) });
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
export function summarizeUsageByDay(dbPath: string, query: UsageQuery): DailyUsage {
  const { series, days } = emptyDailyUsage(query);
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
      if (day !== undefined) Object.assign(day, toTotals(row));
    }
    return series;
  } finally {
    db.close();
  }
}
