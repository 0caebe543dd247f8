/**
 * Writing one batch of usage records: request rows plus per-key totals, in one transaction.
 * Private to src/usage/.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { UsageRecord } from "./recorder.ts";
import type { BatchWriter } from "./batched_recorder.ts";
import { toMicroUsd, toUsd } from "../spend/pricing.ts";

/** Rows per INSERT statement: one statement per row costs a native call per row. */
const ROWS_PER_INSERT = 32;

/** Parameters of one request row. */
const COLUMNS = 15;

/** `INSERT INTO requests … VALUES (…), (…)` for `rows` rows of {@linkcode COLUMNS} parameters. */
function insertRequests(rows: number): string {
  const row = `(${Array.from({ length: COLUMNS }, () => "?").join(", ")})`;
  return `
INSERT INTO requests (time, key_id, endpoint, model, provider, status, prompt_tokens,
  completion_tokens, total_tokens, latency_ms, ttfb_ms, gateway_ms, upstream_ms, cost_usd,
  unpriced)
VALUES ${Array.from({ length: rows }, () => row).join(", ")}`;
}

const UPSERT_KEY_STATS = `
INSERT INTO key_stats (key_id, last_used_at, requests, errors, prompt_tokens, completion_tokens,
  total_tokens, cost_usd)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key_id) DO UPDATE SET
  last_used_at = max(last_used_at, excluded.last_used_at),
  requests = requests + excluded.requests,
  errors = errors + excluded.errors,
  prompt_tokens = prompt_tokens + excluded.prompt_tokens,
  completion_tokens = completion_tokens + excluded.completion_tokens,
  total_tokens = total_tokens + excluded.total_tokens,
  cost_usd = round(cost_usd + excluded.cost_usd, 6)`;

/** A count for the database: a non-negative integer, whatever the caller passed. */
function toCount(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/** A duration or time for the database, or null when it is not a finite number. */
function toNumberOrNull(value: number | null): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * A cost for the database: US dollars in whole micro-dollars (so sums stay exact to the
 * micro-dollar), or null when none was computed.
 */
function toCostOrNull(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? toUsd(toMicroUsd(value))
    : null;
}

function toTextOrNull(value: string | null): string | null {
  return value === null || value === undefined ? null : String(value);
}

interface KeyTotals {
  lastUsedAt: number;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Micro-dollars, summed as integers. */
  costMicroUsd: number;
}

/**
 * Prepares the statements of a batch once, for a connection opened by `openWritableDb`. The
 * writer is synchronous: a batch is one SQLite transaction.
 */
export function prepareBatchWriter(
  db: DatabaseSync,
): (...args: Parameters<BatchWriter>) => void {
  const inserts = new Map<number, StatementSync>();
  const insert = (values: SQLInputValue[]) => {
    const rows = values.length / COLUMNS;
    let statement = inserts.get(rows);
    if (statement === undefined) {
      statement = db.prepare(insertRequests(rows));
      inserts.set(rows, statement);
    }
    statement.run(...values);
  };
  const upsert = db.prepare(UPSERT_KEY_STATS);
  return (records, { start, end }) => {
    const totals = new Map<string, KeyTotals>();
    let values: SQLInputValue[] = [];
    db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = start; i < end; i++) {
        const r = records[i] as UsageRecord;
        const keyId = String(r.key_id);
        const time = toCount(r.time);
        const status = toCount(r.status);
        const prompt = toCount(r.prompt_tokens);
        const completion = toCount(r.completion_tokens);
        const total = toCount(r.total_tokens);
        const cost = toCostOrNull(r.cost_usd);
        values.push(
          time,
          keyId,
          String(r.endpoint),
          toTextOrNull(r.model),
          toTextOrNull(r.provider),
          status,
          prompt,
          completion,
          total,
          toNumberOrNull(r.latency_ms) ?? 0,
          toNumberOrNull(r.ttfb_ms),
          toNumberOrNull(r.gateway_ms ?? null),
          toNumberOrNull(r.upstream_ms ?? null),
          cost,
          cost === null ? null : r.unpriced === true ? 1 : 0,
        );
        if (values.length === ROWS_PER_INSERT * COLUMNS) {
          insert(values);
          values = [];
        }
        const key = totals.get(keyId);
        const error = status >= 400 ? 1 : 0;
        if (key === undefined) {
          totals.set(keyId, {
            lastUsedAt: time,
            requests: 1,
            errors: error,
            promptTokens: prompt,
            completionTokens: completion,
            totalTokens: total,
            costMicroUsd: toMicroUsd(cost ?? 0),
          });
        } else {
          key.lastUsedAt = Math.max(key.lastUsedAt, time);
          key.requests++;
          key.errors += error;
          key.promptTokens += prompt;
          key.completionTokens += completion;
          key.totalTokens += total;
          key.costMicroUsd += toMicroUsd(cost ?? 0);
        }
      }
      if (values.length > 0) insert(values);
      for (const [keyId, t] of totals) {
        upsert.run(
          keyId,
          t.lastUsedAt,
          t.requests,
          t.errors,
          t.promptTokens,
          t.completionTokens,
          t.totalTokens,
          toUsd(t.costMicroUsd),
        );
      }
      db.exec("COMMIT");
    } catch (error) {
      try {
        if (db.isTransaction) db.exec("ROLLBACK");
      } catch {
        // The transaction is gone already; the original error says why.
      }
      throw error;
    }
  };
}
