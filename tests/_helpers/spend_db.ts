/**
 * A usage database holding recorded costs, for tests of what reads spend (budget counters'
 * seeds, `keys list`): the real schema, and request rows carrying costs.
 */
import { openWritableDb } from "../../src/usage/_db.ts";

/** One recorded request with its cost. */
export interface SpendRow {
  readonly key_id: string;
  /** Ms since the epoch. */
  readonly time: number;
  readonly cost_usd: number;
}

/** Adds `rows` to the usage database at `path` (created if missing). */
export function writeSpendRows(path: string, rows: readonly SpendRow[]): void {
  const db = openWritableDb(path, { busyTimeoutMs: 1_000 });
  try {
    const insert = db.prepare(
      `INSERT INTO requests (time, key_id, endpoint, model, provider, status, prompt_tokens,
         completion_tokens, total_tokens, latency_ms, ttfb_ms, cost_usd)
       VALUES (?, ?, '/v1/chat/completions', 'gpt-4o', 'openai', 200, 10, 10, 20, 5, 5, ?)`,
    );
    for (const row of rows) insert.run(row.time, row.key_id, row.cost_usd);
  } finally {
    db.close();
  }
}
