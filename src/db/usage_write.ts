/**
 * Writing one batch of usage records to PostgreSQL: one statement, one round trip. The rows go
 * in as one array per column (`unnest`), and `key_stats` is upserted from the rows the INSERT
 * returned, so it counts exactly what was inserted.
 *
 * A batch is retried after a failure, and a failure may come after the commit (the answer lost
 * with the connection). Each record gets a uuid the first time it is written, kept for as long
 * as the record lives; its row is inserted `ON CONFLICT (uid) DO NOTHING`, so a retried batch
 * inserts only what the failed attempt did not, and counts nothing twice.
 */
import type { Sql } from "./connect.ts";
import type { BatchWriter } from "../usage/batched_recorder.ts";
import type { UsageRecord } from "../usage/recorder.ts";
import { toMicroUsd } from "../spend/pricing.ts";

/** Type OIDs of the columns' elements (`pg_type`). */
const BOOL = 16;
const INT8 = 20;
const INT4 = 23;
const TEXT = 25;
const FLOAT8 = 701;
const UUID = 2950;

/** Largest value of a PostgreSQL `integer` (an HTTP status is far below). */
const MAX_INT4 = 2_147_483_647;

/** A count or time as a non-negative integer that `bigint` holds and JavaScript sums exactly. */
function toCount(value: number): number {
  return Number.isFinite(value) && value > 0
    ? Math.min(Math.round(value), Number.MAX_SAFE_INTEGER)
    : 0;
}

/** A duration, or null when it is not a finite number. */
function toNumberOrNull(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Text for the database: PostgreSQL refuses the NUL character in `text` (a model name comes from
 * the client), so it becomes U+FFFD rather than making the batch fail on every retry.
 */
function toText(value: unknown): string {
  return String(value).replaceAll("\0", "\uFFFD");
}

function toTextOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : toText(value);
}

/** The batch's columns, one array each, in the order of the statement's parameters. */
interface Columns {
  uid: string[];
  time: number[];
  key_id: string[];
  endpoint: string[];
  model: (string | null)[];
  provider: (string | null)[];
  status: number[];
  prompt_tokens: number[];
  completion_tokens: number[];
  total_tokens: number[];
  latency_ms: number[];
  ttfb_ms: (number | null)[];
  gateway_ms: (number | null)[];
  upstream_ms: (number | null)[];
  cost_micro_usd: (number | null)[];
  unpriced: (boolean | null)[];
}

function emptyColumns(): Columns {
  return {
    uid: [],
    time: [],
    key_id: [],
    endpoint: [],
    model: [],
    provider: [],
    status: [],
    prompt_tokens: [],
    completion_tokens: [],
    total_tokens: [],
    latency_ms: [],
    ttfb_ms: [],
    gateway_ms: [],
    upstream_ms: [],
    cost_micro_usd: [],
    unpriced: [],
  };
}

/** Appends one record's row to `columns`, as the SQLite writer would store it. */
function pushRow(columns: Columns, uid: string, r: UsageRecord): void {
  const cost = typeof r.cost_usd === "number" && Number.isFinite(r.cost_usd) && r.cost_usd >= 0
    ? Math.min(toMicroUsd(r.cost_usd), Number.MAX_SAFE_INTEGER)
    : null;
  columns.uid.push(uid);
  columns.time.push(toCount(r.time));
  columns.key_id.push(toText(r.key_id));
  columns.endpoint.push(toText(r.endpoint));
  columns.model.push(toTextOrNull(r.model));
  columns.provider.push(toTextOrNull(r.provider));
  columns.status.push(Math.min(toCount(r.status), MAX_INT4));
  columns.prompt_tokens.push(toCount(r.prompt_tokens));
  columns.completion_tokens.push(toCount(r.completion_tokens));
  columns.total_tokens.push(toCount(r.total_tokens));
  columns.latency_ms.push(toNumberOrNull(r.latency_ms) ?? 0);
  columns.ttfb_ms.push(toNumberOrNull(r.ttfb_ms));
  columns.gateway_ms.push(toNumberOrNull(r.gateway_ms));
  columns.upstream_ms.push(toNumberOrNull(r.upstream_ms));
  columns.cost_micro_usd.push(cost);
  columns.unpriced.push(cost === null ? null : r.unpriced === true);
}

/**
 * Prepares the batch writer of a pool. The writer keeps each record's uuid in a WeakMap, so a
 * record passed again (a retry) is recognised; keep one writer per recorder.
 */
export function preparePostgresBatchWriter(sql: Sql): BatchWriter {
  const uids = new WeakMap<UsageRecord, string>();
  const uidOf = (record: UsageRecord) => {
    let uid = uids.get(record);
    if (uid === undefined) {
      uid = crypto.randomUUID();
      uids.set(record, uid);
    }
    return uid;
  };
  return async (records, { start, end }) => {
    const c = emptyColumns();
    // Each column as an array of its element type (postgres.js would guess a boolean column's
    // type from its first value, as a single boolean).
    const a = (values: Columns[keyof Columns], oid: number) => sql.array(values, oid);
    for (let i = start; i < end; i++) {
      const record = records[i] as UsageRecord;
      pushRow(c, uidOf(record), record);
    }
    // Rows are inserted in the batch's order; key_stats rows are locked in key_id order, so
    // replicas writing at once wait for each other instead of deadlocking.
    await sql`
      WITH input AS (
        SELECT * FROM unnest(
          ${a(c.uid, UUID)}::uuid[], ${a(c.time, INT8)}::bigint[], ${a(c.key_id, TEXT)}::text[],
          ${a(c.endpoint, TEXT)}::text[], ${a(c.model, TEXT)}::text[],
          ${a(c.provider, TEXT)}::text[], ${a(c.status, INT4)}::integer[],
          ${a(c.prompt_tokens, INT8)}::bigint[], ${a(c.completion_tokens, INT8)}::bigint[],
          ${a(c.total_tokens, INT8)}::bigint[], ${a(c.latency_ms, FLOAT8)}::float8[],
          ${a(c.ttfb_ms, FLOAT8)}::float8[], ${a(c.gateway_ms, FLOAT8)}::float8[],
          ${a(c.upstream_ms, FLOAT8)}::float8[], ${a(c.cost_micro_usd, INT8)}::bigint[],
          ${a(c.unpriced, BOOL)}::boolean[]
        ) WITH ORDINALITY AS r (uid, time, key_id, endpoint, model, provider, status,
          prompt_tokens, completion_tokens, total_tokens, latency_ms, ttfb_ms, gateway_ms,
          upstream_ms, cost_micro_usd, unpriced, n)
      ),
      inserted AS (
        INSERT INTO requests (uid, time, key_id, endpoint, model, provider, status,
          prompt_tokens, completion_tokens, total_tokens, latency_ms, ttfb_ms, gateway_ms,
          upstream_ms, cost_micro_usd, unpriced)
        SELECT uid, time, key_id, endpoint, model, provider, status, prompt_tokens,
          completion_tokens, total_tokens, latency_ms, ttfb_ms, gateway_ms, upstream_ms,
          cost_micro_usd, unpriced
        FROM input ORDER BY n
        ON CONFLICT (uid) DO NOTHING
        RETURNING key_id, time, status, prompt_tokens, completion_tokens, total_tokens,
          cost_micro_usd
      )
      INSERT INTO key_stats AS k (key_id, last_used_at, requests, errors, prompt_tokens,
        completion_tokens, total_tokens, cost_micro_usd)
      SELECT key_id, max(time), count(*), count(*) FILTER (WHERE status >= 400),
        sum(prompt_tokens), sum(completion_tokens), sum(total_tokens),
        COALESCE(sum(cost_micro_usd), 0)
      FROM inserted
      GROUP BY key_id
      ORDER BY key_id
      ON CONFLICT (key_id) DO UPDATE SET
        last_used_at = greatest(k.last_used_at, excluded.last_used_at),
        requests = k.requests + excluded.requests,
        errors = k.errors + excluded.errors,
        prompt_tokens = k.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = k.completion_tokens + excluded.completion_tokens,
        total_tokens = k.total_tokens + excluded.total_tokens,
        cost_micro_usd = k.cost_micro_usd + excluded.cost_micro_usd`;
  };
}
