/**
 * What keys have spent, as the usage database records it: the sum of `cost_usd` of their
 * requests since a time. Budgets start their counters from it, and `choreoai keys list` shows it.
 *
 * `cost_usd` arrives with schema version 4; a database without the column (older, or written
 * before costs were recorded) reads as "unknown" (undefined), never as an error.
 */
import type { DatabaseSync } from "node:sqlite";
import type { MicroUsd } from "../spend/pricing.ts";
import { openReadOnlyDb } from "./_db.ts";

/** Whether the `requests` table of `db` has a `cost_usd` column. */
function hasCostColumn(db: DatabaseSync): boolean {
  const columns = db.prepare("SELECT name FROM pragma_table_info('requests')").all();
  return columns.some((column) => column.name === "cost_usd");
}

/**
 * The spend of `keyIds` since `since` (ms since the epoch), in micro-USD.
 *
 * @param dbPath The SQLite file (CHOREOAI_DB); it is opened read-only and never created.
 * @returns 0 when the file does not exist; undefined when it records no costs (no `cost_usd`).
 */
export function readSpend(
  dbPath: string,
  keyIds: readonly string[],
  since: number,
): MicroUsd | undefined {
  if (keyIds.length === 0) return 0;
  const db = openReadOnlyDb(dbPath);
  if (db === undefined) return 0;
  try {
    if (!hasCostColumn(db)) return undefined;
    const placeholders = keyIds.map(() => "?").join(", ");
    // Summed as whole micro-dollars (integers), as the summaries and PostgreSQL do: a sum of
    // floating-point dollars drifts over millions of requests.
    const row = db.prepare(
      `SELECT COALESCE(SUM(CAST(round(cost_usd * 1000000) AS INTEGER)), 0) AS spent
       FROM requests WHERE key_id IN (${placeholders}) AND time >= ?`,
    ).get(...keyIds, Math.floor(since));
    return Number(row?.spent ?? 0);
  } finally {
    db.close();
  }
}
