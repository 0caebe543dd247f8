/**
 * Stored Responses in the usage database (CHOREOAI_DB, tables `responses` and
 * `response_items`, schema version 2 in `_db.ts`): the SQLite {@linkcode ResponsesStore}. The
 * rows are those of `src/dialects/responses/stored_rows.ts`, as in the PostgreSQL store
 * (`src/db/responses_store.ts`).
 *
 * A response row holds the response object as JSON (NULL for a natively passed-through one: its
 * provider keeps it, the row only says which provider); its input and output items are rows of
 * `response_items`, so an item is found by id for `item_reference` and a conversation is read in
 * one query. Each record expires `ttlMs` after it was saved; saving a response that continues
 * another (`previous_response_id`) pushes its predecessors' expiry to its own, so a conversation
 * in use never loses its beginning. Expired records are invisible at once and deleted by a
 * purge that runs on a write at most every `purgeIntervalMs`.
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
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
import { openWritableDb } from "./_db.ts";

/** Options of {@linkcode openResponsesStore}. */
export interface SqliteResponsesStoreOptions extends ResponsesStoreOptions {
  /** SQLite `busy_timeout` of each statement. Default 1,000 ms. */
  readonly busyTimeoutMs?: number | undefined;
}

const CONVERSATION = `
WITH RECURSIVE chain(id, depth) AS (
  SELECT ?1, 0
  UNION ALL
  SELECT r.previous_id, c.depth + 1 FROM chain c
  JOIN responses r ON r.id = c.id AND r.key_id = ?2 AND r.expires_at > ?3
    AND r.response IS NOT NULL
  WHERE r.previous_id IS NOT NULL AND c.depth < ${MAX_CHAIN}
)
SELECT i.item FROM chain c
JOIN responses r ON r.id = c.id AND r.key_id = ?2 AND r.expires_at > ?3 AND r.response IS NOT NULL
JOIN response_items i ON i.response_id = c.id
ORDER BY c.depth DESC, i.kind, i.position`;

const EXTEND_CHAIN = `
WITH RECURSIVE chain(id, depth) AS (
  SELECT ?, 0
  UNION ALL
  SELECT r.previous_id, c.depth + 1 FROM chain c JOIN responses r ON r.id = c.id AND r.key_id = ?
  WHERE r.previous_id IS NOT NULL AND c.depth < ${MAX_CHAIN}
)
UPDATE responses SET expires_at = max(expires_at, ?)
WHERE key_id = ? AND expires_at > ? AND id IN (SELECT id FROM chain)`;

/** Runs synchronous SQLite work as a promise: a throw becomes a rejection. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

class SqliteResponsesStore implements ResponsesStore {
  readonly #db: DatabaseSync;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #purges: PurgeSchedule;

  constructor(db: DatabaseSync, options: SqliteResponsesStoreOptions) {
    this.#db = db;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now;
    this.#purges = new PurgeSchedule(options.purgeIntervalMs);
  }

  save(entry: Parameters<ResponsesStore["save"]>[0]): Promise<void> {
    return settle(() => this.#save(entry));
  }

  #save(entry: Parameters<ResponsesStore["save"]>[0]): void {
    const { keyId, response, input, provider } = entry;
    const now = this.#now();
    const expiresAt = now + this.#ttlMs;
    this.#transaction(() => {
      this.#run("DELETE FROM response_items WHERE response_id = ?", response.id);
      this.#run(
        `INSERT OR REPLACE INTO responses (id, key_id, provider, previous_id, created_at,
          expires_at, response) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        response.id,
        keyId,
        provider,
        response.previous_response_id ?? null,
        now,
        expiresAt,
        JSON.stringify(response),
      );
      const insert = this.#db.prepare(
        `INSERT INTO response_items (response_id, kind, position, key_id, item_id, item)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const row of toItemRows(input, response)) {
        insert.run(response.id, row.kind, row.position, keyId, row.itemId, row.item);
      }
      this.#extendChain(keyId, response.previous_response_id, expiresAt, now);
    });
    this.#maybePurge(now);
  }

  saveNative(entry: Parameters<ResponsesStore["saveNative"]>[0]): Promise<void> {
    return settle(() => this.#saveNative(entry));
  }

  #saveNative(entry: Parameters<ResponsesStore["saveNative"]>[0]): void {
    const now = this.#now();
    const expiresAt = now + this.#ttlMs;
    this.#transaction(() => {
      this.#run(
        `INSERT OR REPLACE INTO responses (id, key_id, provider, previous_id, created_at,
          expires_at, response) VALUES (?, ?, ?, ?, ?, ?, NULL)`,
        entry.id,
        entry.keyId,
        entry.provider,
        entry.previousResponseId ?? null,
        now,
        expiresAt,
      );
      this.#extendChain(entry.keyId, entry.previousResponseId, expiresAt, now);
    });
    this.#maybePurge(now);
  }

  get(keyId: string, id: string): Promise<ResponseRecord | undefined> {
    return settle(() => this.#get(keyId, id));
  }

  #get(keyId: string, id: string): ResponseRecord | undefined {
    const row = this.#db.prepare(
      `SELECT provider, created_at, expires_at, response FROM responses
       WHERE id = ? AND key_id = ? AND expires_at > ?`,
    ).get(id, keyId, this.#now());
    return row === undefined ? undefined : toResponseRecord(id, row);
  }

  delete(keyId: string, id: string): Promise<boolean> {
    return settle(() => this.#delete(keyId, id));
  }

  #delete(keyId: string, id: string): boolean {
    let deleted = false;
    this.#transaction(() => {
      const result = this.#run(
        "DELETE FROM responses WHERE id = ? AND key_id = ? AND expires_at > ?",
        id,
        keyId,
        this.#now(),
      );
      deleted = Number(result.changes) > 0;
      if (deleted) this.#run("DELETE FROM response_items WHERE response_id = ?", id);
    });
    return deleted;
  }

  inputItems(keyId: string, id: string, query?: InputItemsQuery): Promise<ItemList | undefined> {
    return settle(() => {
      if (this.#get(keyId, id)?.kind !== "stored") return undefined;
      const rows = this.#db.prepare(
        "SELECT item FROM response_items WHERE response_id = ? AND kind = ? ORDER BY position",
      ).all(id, INPUT_ITEM);
      return pageItems(rows.map((row) => parseStoredItem(row.item)), query);
    });
  }

  conversation(keyId: string, id: string): Promise<ResponseItem[] | undefined> {
    return settle(() => {
      if (this.#get(keyId, id)?.kind !== "stored") return undefined;
      const rows = this.#db.prepare(CONVERSATION).all(id, keyId, this.#now());
      return rows.map((row) => parseStoredItem(row.item));
    });
  }

  items(keyId: string, ids: readonly string[]): Promise<Map<string, ResponseItem>> {
    return settle(() => this.#items(keyId, ids));
  }

  #items(keyId: string, ids: readonly string[]): Map<string, ResponseItem> {
    const statement = this.#db.prepare(
      `SELECT i.item FROM response_items i JOIN responses r ON r.id = i.response_id
       WHERE i.item_id = ? AND i.key_id = ? AND r.key_id = i.key_id AND r.expires_at > ?
       ORDER BY r.created_at DESC, i.kind DESC LIMIT 1`,
    );
    const now = this.#now();
    const found = new Map<string, ResponseItem>();
    for (const id of new Set(ids)) {
      const row = statement.get(id, keyId, now);
      if (row !== undefined) found.set(id, parseStoredItem(row.item));
    }
    return found;
  }

  purgeExpired(): Promise<number> {
    return settle(() => this.#purge());
  }

  #purge(): number {
    const now = this.#now();
    this.#purges.purged(now);
    let purged = 0;
    this.#transaction(() => {
      this.#run(
        `DELETE FROM response_items WHERE response_id IN
         (SELECT id FROM responses WHERE expires_at <= ?)`,
        now,
      );
      purged = Number(this.#run("DELETE FROM responses WHERE expires_at <= ?", now).changes);
    });
    return purged;
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.#db.isOpen) this.#db.close();
    });
  }

  #run(sql: string, ...values: SQLInputValue[]) {
    return this.#db.prepare(sql).run(...values);
  }

  #extendChain(
    keyId: string,
    previousId: string | null | undefined,
    expiresAt: number,
    now: number,
  ): void {
    if (typeof previousId !== "string") return;
    this.#run(EXTEND_CHAIN, previousId, keyId, expiresAt, keyId, now);
  }

  /** Purges when it is time; a failed purge is retried at the next interval, the write stands. */
  #maybePurge(now: number): void {
    if (!this.#purges.due(now)) return;
    try {
      this.#purge();
    } catch {
      // retried at the next interval
    }
  }

  #transaction(fn: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }
}

/**
 * Opens (creating or migrating when needed) the usage database as a {@linkcode ResponsesStore}.
 * Call `close()` on shutdown.
 *
 * @param path The SQLite file (CHOREOAI_DB), shared with the usage recorder.
 * @throws {Error} when the file cannot be opened or its schema is newer than this code.
 */
export function openResponsesStore(
  path: string,
  options: SqliteResponsesStoreOptions,
): ResponsesStore {
  const db = openWritableDb(path, { busyTimeoutMs: options.busyTimeoutMs ?? 1_000 });
  return new SqliteResponsesStore(db, options);
}
