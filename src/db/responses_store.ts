/**
 * Stored Responses in PostgreSQL (CHOREOAI_DATABASE_URL, tables `responses` and
 * `response_items` of `migrations.ts`): the {@linkcode ResponsesStore} that replicas share, so a
 * response saved through one replica is read, continued or deleted through any other. The rows
 * and the rules are the SQLite store's (`src/usage/responses_store.ts`, rows in
 * `src/dialects/responses/stored_rows.ts`): scoped to the key, invisible once expired, a
 * continuation pushes its predecessors' expiry to its own, and a write purges what expired at
 * most every `purgeIntervalMs` (per replica).
 *
 * Each write is one transaction (or one statement). Rows a write locks besides its own response
 * (the predecessors whose expiry a save pushes, the expired rows a purge deletes) are locked in
 * id order, so saves continuing one conversation on several replicas at once, and a purge beside
 * them, wait for each other instead of deadlocking. Every read is one statement, so it sees one
 * snapshot.
 */
import type { ResponseItem } from "../dialects/responses/items.ts";
import {
  type InputItemsQuery,
  type ItemList,
  pageItems,
  type ResponseRecord,
  type ResponsesStore,
} from "../dialects/responses/store.ts";
import {
  INPUT_ITEM,
  MAX_CHAIN,
  parseStoredItem,
  PurgeSchedule,
  type ResponsesStoreOptions,
  toItemRows,
  toResponseRecord,
} from "../dialects/responses/stored_rows.ts";
import type { Sql, TransactionSql } from "./connect.ts";

/** A `responses` row to insert or replace. */
interface ResponseRowValues {
  readonly id: string;
  readonly keyId: string;
  readonly provider: string;
  readonly previousId: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The response as JSON; null for a native one. */
  readonly response: string | null;
}

/** Inserts or replaces a `responses` row (locking it: a concurrent save of the id waits). */
async function upsertResponse(tx: TransactionSql, row: ResponseRowValues): Promise<void> {
  await tx`
    INSERT INTO responses (id, key_id, provider, previous_id, created_at, expires_at, response)
    VALUES (${row.id}, ${row.keyId}, ${row.provider}, ${row.previousId}, ${row.createdAt},
      ${row.expiresAt}, ${row.response})
    ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, provider = excluded.provider,
      previous_id = excluded.previous_id, created_at = excluded.created_at,
      expires_at = excluded.expires_at, response = excluded.response`;
}

/** Pushes the expiry of `previousId` and its live predecessors (this key's) to `expiresAt`. */
async function extendChain(
  tx: TransactionSql,
  keyId: string,
  chain: { previousId: string | null | undefined; expiresAt: number; now: number },
): Promise<void> {
  if (typeof chain.previousId !== "string") return;
  await tx`
    WITH RECURSIVE chain(id, depth) AS (
      SELECT ${chain.previousId}::text, 0
      UNION ALL
      SELECT r.previous_id, c.depth + 1 FROM chain c
      JOIN responses r ON r.id = c.id AND r.key_id = ${keyId}
      WHERE r.previous_id IS NOT NULL AND c.depth < ${MAX_CHAIN}
    ), locked AS (
      SELECT id FROM responses
      WHERE key_id = ${keyId} AND expires_at > ${chain.now} AND id IN (SELECT id FROM chain)
      ORDER BY id FOR UPDATE
    )
    UPDATE responses SET expires_at = greatest(expires_at, ${chain.expiresAt})
    WHERE id IN (SELECT id FROM locked)`;
}

class PostgresResponsesStore implements ResponsesStore {
  readonly #sql: Sql;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #purges: PurgeSchedule;

  constructor(sql: Sql, options: ResponsesStoreOptions) {
    this.#sql = sql;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now;
    this.#purges = new PurgeSchedule(options.purgeIntervalMs);
  }

  async save(entry: Parameters<ResponsesStore["save"]>[0]): Promise<void> {
    const { keyId, response, input, provider } = entry;
    const now = this.#now();
    const expiresAt = now + this.#ttlMs;
    const previousId = response.previous_response_id ?? null;
    const rows = toItemRows(input, response);
    await this.#sql.begin(async (tx) => {
      await upsertResponse(tx, {
        id: response.id,
        keyId,
        provider,
        previousId,
        createdAt: now,
        expiresAt,
        response: JSON.stringify(response),
      });
      await tx`DELETE FROM response_items WHERE response_id = ${response.id}`;
      if (rows.length > 0) {
        // Four array parameters however many items: no limit on the count of parameters.
        await tx`
          INSERT INTO response_items (response_id, kind, position, key_id, item_id, item)
          SELECT ${response.id}, u.kind, u.position, ${keyId}, u.item_id, u.item
          FROM unnest(${rows.map((row) => row.kind)}::smallint[],
            ${rows.map((row) => row.position)}::integer[],
            ${rows.map((row) => row.itemId)}::text[],
            ${rows.map((row) => row.item)}::text[]) AS u(kind, position, item_id, item)`;
      }
      await extendChain(tx, keyId, { previousId, expiresAt, now });
    });
    await this.#maybePurge(now);
  }

  async saveNative(entry: Parameters<ResponsesStore["saveNative"]>[0]): Promise<void> {
    const now = this.#now();
    const expiresAt = now + this.#ttlMs;
    const previousId = entry.previousResponseId ?? null;
    await this.#sql.begin(async (tx) => {
      await upsertResponse(tx, {
        id: entry.id,
        keyId: entry.keyId,
        provider: entry.provider,
        previousId,
        createdAt: now,
        expiresAt,
        response: null,
      });
      await extendChain(tx, entry.keyId, { previousId, expiresAt, now });
    });
    await this.#maybePurge(now);
  }

  async get(keyId: string, id: string): Promise<ResponseRecord | undefined> {
    const [row] = await this.#sql`
      SELECT provider, created_at, expires_at, response FROM responses
      WHERE id = ${id} AND key_id = ${keyId} AND expires_at > ${this.#now()}`;
    return row === undefined ? undefined : toResponseRecord(id, row);
  }

  async delete(keyId: string, id: string): Promise<boolean> {
    // One statement, so one transaction: the row and its items go together.
    const [row] = await this.#sql<{ deleted: number }[]>`
      WITH gone AS (
        DELETE FROM responses WHERE id = ${id} AND key_id = ${keyId} AND expires_at > ${this.#now()}
        RETURNING id
      ), items AS (
        DELETE FROM response_items WHERE response_id IN (SELECT id FROM gone)
      )
      SELECT count(*)::integer AS deleted FROM gone`;
    return (row?.deleted ?? 0) > 0;
  }

  async inputItems(
    keyId: string,
    id: string,
    query?: InputItemsQuery,
  ): Promise<ItemList | undefined> {
    // The response's row and its input items in one snapshot: no row, or a native one (NULL
    // response), is not a stored response; a stored one without items has one row, item NULL.
    const rows = await this.#sql<{ stored: boolean; item: string | null }[]>`
      SELECT r.response IS NOT NULL AS stored, i.item FROM responses r
      LEFT JOIN response_items i ON i.response_id = r.id AND i.kind = ${INPUT_ITEM}
      WHERE r.id = ${id} AND r.key_id = ${keyId} AND r.expires_at > ${this.#now()}
      ORDER BY i.position`;
    if (rows[0]?.stored !== true) return undefined;
    return pageItems(itemsOf(rows), query);
  }

  async conversation(keyId: string, id: string): Promise<ResponseItem[] | undefined> {
    const now = this.#now();
    // The chain of live stored responses from `id` back; none when `id` itself is not one.
    const rows = await this.#sql<{ item: string | null }[]>`
      WITH RECURSIVE chain(id, depth) AS (
        SELECT ${id}::text, 0
        UNION ALL
        SELECT r.previous_id, c.depth + 1 FROM chain c
        JOIN responses r ON r.id = c.id AND r.key_id = ${keyId} AND r.expires_at > ${now}
          AND r.response IS NOT NULL
        WHERE r.previous_id IS NOT NULL AND c.depth < ${MAX_CHAIN}
      )
      SELECT i.item FROM chain c
      JOIN responses r ON r.id = c.id AND r.key_id = ${keyId} AND r.expires_at > ${now}
        AND r.response IS NOT NULL
      LEFT JOIN response_items i ON i.response_id = c.id
      ORDER BY c.depth DESC, i.kind, i.position`;
    return rows.length === 0 ? undefined : itemsOf(rows);
  }

  async items(keyId: string, ids: readonly string[]): Promise<Map<string, ResponseItem>> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return new Map();
    // An id kept twice (an output item passed back as input) is read from the newest response.
    const rows = await this.#sql<{ item_id: string; item: string }[]>`
      SELECT DISTINCT ON (i.item_id) i.item_id, i.item FROM response_items i
      JOIN responses r ON r.id = i.response_id AND r.key_id = i.key_id
      WHERE i.item_id = ANY(${wanted}) AND i.key_id = ${keyId} AND r.expires_at > ${this.#now()}
      ORDER BY i.item_id, r.created_at DESC, i.kind DESC`;
    const byId = new Map(rows.map((row) => [row.item_id, row.item]));
    const found = new Map<string, ResponseItem>();
    for (const id of wanted) {
      const item = byId.get(id);
      if (item !== undefined) found.set(id, parseStoredItem(item));
    }
    return found;
  }

  purgeExpired(): Promise<number> {
    const now = this.#now();
    this.#purges.purged(now);
    return this.#purge(now);
  }

  /** Does nothing: the pool is shared (usage, key list) and ended by its owner, `main.ts`. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  async #purge(now: number): Promise<number> {
    const result = await this.#sql`
      WITH expired AS (
        SELECT id FROM responses WHERE expires_at <= ${now} ORDER BY id FOR UPDATE
      ), items AS (
        DELETE FROM response_items WHERE response_id IN (SELECT id FROM expired)
      )
      DELETE FROM responses WHERE id IN (SELECT id FROM expired)`;
    return result.count;
  }

  /** Purges when it is time; a failed purge is retried at the next interval, the write stands. */
  async #maybePurge(now: number): Promise<void> {
    if (!this.#purges.due(now)) return;
    try {
      await this.#purge(now);
    } catch {
      // retried at the next interval
    }
  }
}

/** The items of rows read with a LEFT JOIN (a response without items gives one NULL). */
function itemsOf(rows: readonly { item: string | null }[]): ResponseItem[] {
  return rows.flatMap((row) => row.item === null ? [] : [parseStoredItem(row.item)]);
}

/**
 * A {@linkcode ResponsesStore} on PostgreSQL, for gateways that share CHOREOAI_DATABASE_URL.
 * The schema must be migrated (`migrate(sql)`) before the first call.
 *
 * `close()` does not end `sql`: the pool is shared with the usage recorder and the key list,
 * and whoever opened it (`main.ts`) ends it, after closing the store.
 *
 * @param sql The pool from `connectDatabase`.
 */
export function openPostgresResponsesStore(
  sql: Sql,
  options: ResponsesStoreOptions,
): ResponsesStore {
  return new PostgresResponsesStore(sql, options);
}
