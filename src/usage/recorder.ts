/**
 * Recording usage off the request path (the queue, batches and retries are
 * {@linkcode createBatchedRecorder}'s): the record type, the recorder interface, and the SQLite
 * recorder writing CHOREOAI_DB, one transaction per batch.
 */
import { openWritableDb } from "./_db.ts";
import { prepareBatchWriter } from "./_write.ts";
import { createBatchedRecorder, type UsageQueueOptions } from "./batched_recorder.ts";

export type { UsageQueueOptions };

/** One finished request. */
export interface UsageRecord {
  /** When the request was received, in milliseconds since the epoch. */
  time: number;
  key_id: string;
  /** Path such as `/v1/chat/completions`. */
  endpoint: string;
  /** The model name the client sent, when there was one. */
  model: string | null;
  /** The provider that answered, when one did. */
  provider: string | null;
  /** HTTP status sent to the client. */
  status: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  latency_ms: number;
  /** Time to the first byte of the response, when it was sent. */
  ttfb_ms: number | null;
  /** Server-Timing's `gateway`: time not spent waiting for a provider (to a stream's start). */
  gateway_ms?: number | null;
  /** Server-Timing's `upstream`: time waiting for providers; null when none was called. */
  upstream_ms?: number | null;
  /**
   * What the request cost in US dollars (whole micro-dollars); 0 when it used nothing, when the
   * gateway answered itself, or when its model has no known price (then `unpriced`); null when
   * the gateway does not price requests.
   */
  cost_usd?: number | null;
  /** The serving model has no known price: `cost_usd` is 0, not a guess. */
  unpriced?: boolean;
}

/** Where the server puts usage records. */
export interface UsageRecorder {
  /** Queues one record: O(1), never throws, never waits. Do not mutate or record it again. */
  record(entry: UsageRecord): void;
  /** Writes everything queued now; a failure is logged and the records stay queued. */
  flush(): Promise<void>;
  /** Stops the timer, flushes and closes the database. Later records are dropped (logged once). */
  close(): Promise<void>;
  /** Records not written yet (queued, or in a write that has not finished). */
  queued(): number;
  /**
   * `failing` while records wait after the last write failed (retried with a backoff up to
   * 10 s), or a write has hung for 15 s; `ok` otherwise.
   */
  status(): "ok" | "failing";
}

/** Options of {@linkcode openUsageRecorder}. */
export interface UsageRecorderOptions extends UsageQueueOptions {
  /** SQLite `busy_timeout` of each write, kept short: a write blocks the event loop. Default 200. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating when missing) the usage database and returns a recorder that writes to it in
 * batches, off the request path. The timer never keeps the process alive; call `close()` on
 * shutdown to write what is still queued.
 *
 * @param path The SQLite file (CHOREOAI_DB).
 * @throws {Error} when the file cannot be opened or its schema is newer than this code.
 */
export function openUsageRecorder(path: string, options: UsageRecorderOptions): UsageRecorder {
  const { busyTimeoutMs, ...queue } = options;
  const db = openWritableDb(path, { busyTimeoutMs: busyTimeoutMs ?? 200 });
  return createBatchedRecorder({ write: prepareBatchWriter(db), close: () => db.close() }, queue);
}
