/**
 * Reading the usage database: per-key statistics and summaries by key and model. Every function
 * opens the file read-only and never creates it: a missing file reads as "no usage".
 */
import { openReadOnlyDb, toIsoTime } from "./_db.ts";

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
      SELECT key_id, COALESCE(model, :no_model) AS model, COUNT(*) AS requests,
        SUM(status >= 400) AS errors, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(total_tokens) AS total_tokens
      FROM requests
      WHERE time >= :since AND time <= :until ${byKey}
      GROUP BY 1, 2
      ORDER BY 1, 2`);
    const parameters: Record<string, string | number> = {
      no_model: NO_MODEL,
      since: Math.floor(query.since),
      until: Math.ceil(query.until),
    };
    if (query.keyId !== undefined) parameters.key_id = query.keyId;
    for (const row of statement.all(parameters)) {
      summary.rows.push({
        key_id: String(row.key_id),
        model: String(row.model),
        requests: Number(row.requests),
        errors: Number(row.errors),
        prompt_tokens: Number(row.prompt_tokens),
        completion_tokens: Number(row.completion_tokens),
        total_tokens: Number(row.total_tokens),
      });
    }
    return summary;
  } finally {
    db.close();
  }
}
