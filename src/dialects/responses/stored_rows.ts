/**
 * The rows a stored response is kept as, shared by the SQLite store (`src/usage/responses_store.ts`)
 * and the PostgreSQL store (`src/db/responses_store.ts`), so both write and read them alike:
 *
 * - `responses`: one row a response id, with its key, provider, `previous_id`, `created_at` and
 *   `expires_at` (milliseconds since the epoch) and the response object as JSON text (NULL for a
 *   natively passed-through response: its provider keeps it).
 * - `response_items`: one row an input item (kind 0) or output item (kind 1), by position, with
 *   its id and the item as JSON text.
 *
 * Expired rows are invisible at once and deleted by a purge that runs on a write at most every
 * `purgeIntervalMs` ({@linkcode PurgeSchedule}).
 */
import type { ResponseItem } from "./items.ts";
import type { ResponseObject } from "./output.ts";
import type { ResponseRecord } from "./store.ts";

/** Options every stored-responses implementation takes. */
export interface ResponsesStoreOptions {
  /** How long a response is kept, in milliseconds (CHOREOAI_RESPONSES_TTL). */
  readonly ttlMs: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Expired records are deleted on a write at most this often. Default 1 hour. */
  readonly purgeIntervalMs?: number | undefined;
}

/** Deepest `previous_response_id` chain followed (a guard against a cycle). */
export const MAX_CHAIN = 100_000;

/** `response_items.kind` of an input item. */
export const INPUT_ITEM = 0;
/** `response_items.kind` of an output item. */
export const OUTPUT_ITEM = 1;

/** One `response_items` row of a response, less the response id and key. */
export interface ItemRow {
  readonly kind: typeof INPUT_ITEM | typeof OUTPUT_ITEM;
  readonly position: number;
  /** The item's id; `""` when it has none. */
  readonly itemId: string;
  /** The item as JSON. */
  readonly item: string;
}

/** The `response_items` rows of a response: its input items, then its output items. */
export function toItemRows(input: readonly ResponseItem[], response: ResponseObject): ItemRow[] {
  const lists = [[INPUT_ITEM, input], [OUTPUT_ITEM, response.output]] as const;
  return lists.flatMap(([kind, list]) =>
    list.map((item, position) => ({
      kind,
      position,
      itemId: typeof item.id === "string" ? item.id : "",
      item: JSON.stringify(item),
    }))
  );
}

/** An item read back from `response_items.item`. */
export function parseStoredItem(item: unknown): ResponseItem {
  return JSON.parse(String(item));
}

/**
 * The record a `responses` row stands for, from its columns `provider`, `created_at`,
 * `expires_at` (numbers, bigints, or strings as PostgreSQL's `bigint` is read) and `response`
 * (NULL for a native one), as a driver returns them.
 */
export function toResponseRecord(
  id: string,
  row: Readonly<Record<string, unknown>>,
): ResponseRecord {
  const base = {
    id,
    provider: String(row.provider),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
  if (row.response === null) return { kind: "native", ...base };
  const response = JSON.parse(String(row.response)) as ResponseObject;
  return { kind: "stored", ...base, response };
}

/**
 * When a write purges expired records: the first write, then at most once every interval. An
 * explicit purge counts too. A purge that fails is not retried before the next interval.
 */
export class PurgeSchedule {
  readonly #intervalMs: number;
  #last = Number.NEGATIVE_INFINITY;

  constructor(intervalMs: number | undefined) {
    this.#intervalMs = intervalMs ?? 3_600_000;
  }

  /** Whether a write at `now` should purge; when it should, the purge counts as done. */
  due(now: number): boolean {
    if (now - this.#last < this.#intervalMs) return false;
    this.#last = now;
    return true;
  }

  /** Records a purge at `now` (made without asking {@linkcode PurgeSchedule.due}). */
  purged(now: number): void {
    this.#last = now;
  }
}
