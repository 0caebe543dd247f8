/**
 * Reading usage from PostgreSQL: the same answers as the SQLite reader (src/usage/query.ts) for
 * the same records, row for row: the same types, keys and models ordered by their bytes (SQLite's
 * BINARY collation, PostgreSQL's "C"), every day of a window, and costs summed in whole
 * micro-dollars.
 */
import { redactDatabaseUrl, type Sql } from "./connect.ts";
import type { UsageReader } from "../usage/reader.ts";
import { readPostgresBuckets, readPostgresLatencies, totalsSql } from "./usage_buckets.ts";
import {
  DAY_MS,
  emptyDailyUsage,
  emptySummary,
  type KeyStats,
  NO_MODEL,
  toIsoTime,
  toTotals,
  type UsageQuery,
} from "../usage/summary.ts";

/** Type OID of `text` (`pg_type`). */
const TEXT = 25;

/** Options of {@linkcode createPostgresUsageReader}. */
export interface PostgresUsageReaderOptions {
  /** The database's URL: `where` names it (password hidden). */
  readonly url?: string;
}

/**
 * A reader of the usage in `sql`'s `requests` and `key_stats` tables (schema migrated by the
 * caller). Numbers come back as numbers, times as ISO 8601 UTC.
 */
export function createPostgresUsageReader(
  sql: Sql,
  options: PostgresUsageReaderOptions = {},
): UsageReader {
  const where = options.url === undefined ? "PostgreSQL" : redactDatabaseUrl(options.url);
  const since = (query: UsageQuery) => Math.floor(query.since);
  const until = (query: UsageQuery) => Math.ceil(query.until);
  const byKey = (query: UsageQuery) =>
    query.keyId === undefined ? sql`` : sql`AND key_id = ${query.keyId}`;
  const totals = totalsSql(sql);
  return {
    where,
    keyStats: async () => {
      const rows = await sql<{ key_id: string; last_used_at: string; requests: string }[]>`
        SELECT key_id, last_used_at, requests FROM key_stats ORDER BY key_id COLLATE "C"`;
      const stats = new Map<string, KeyStats>();
      for (const row of rows) {
        stats.set(row.key_id, {
          last_used_at: toIsoTime(Number(row.last_used_at)),
          requests: Number(row.requests),
        });
      }
      return stats;
    },
    summarize: async (query) => {
      const summary = emptySummary(query);
      const rows = await sql<Record<string, unknown>[]>`
        SELECT key_id COLLATE "C" AS key_id, COALESCE(model, ${NO_MODEL}) COLLATE "C" AS model,
          ${totals}
        FROM requests
        WHERE time >= ${since(query)} AND time <= ${until(query)} ${byKey(query)}
        GROUP BY 1, 2
        ORDER BY 1, 2`;
      for (const row of rows) {
        summary.rows.push({
          key_id: String(row.key_id),
          model: String(row.model),
          ...toTotals(row),
        });
      }
      return summary;
    },
    summarizeByDay: async (query) => {
      const { series, days } = emptyDailyUsage(query);
      const rows = await sql<Record<string, unknown>[]>`
        SELECT time / ${DAY_MS} AS day, ${totals}
        FROM requests
        WHERE time >= ${since(query)} AND time <= ${until(query)} ${byKey(query)}
        GROUP BY 1
        ORDER BY 1`;
      for (const row of rows) {
        const day = days.get(Number(row.day));
        if (day !== undefined) Object.assign(day, toTotals(row));
      }
      return series;
    },
    spend: async (keyIds, from) => {
      if (keyIds.length === 0) return 0;
      const keys = sql.array([...keyIds], TEXT);
      const [row] = await sql<{ spent: string }[]>`
        SELECT COALESCE(sum(cost_micro_usd), 0)::bigint AS spent FROM requests
        WHERE key_id = ANY(${keys}::text[]) AND time >= ${Math.floor(from)}`;
      return Number(row?.spent ?? 0);
    },
    buckets: (query) => readPostgresBuckets(sql, query),
    latencies: (query) => readPostgresLatencies(sql, query),
  };
}
