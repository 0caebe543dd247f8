/**
 * Recording usage off the request path: `record()` only queues; a timer or a full batch writes
 * the queue to SQLite, one transaction per batch. A failed write keeps the batch for the next
 * flush; only a queue grown past its bound drops (the oldest records, logged with a count).
 */
import type { DatabaseSync } from "node:sqlite";
import { describeError, type Logger } from "../log.ts";
import { openWritableDb } from "./_db.ts";
import { type BatchWriter, prepareBatchWriter } from "./_write.ts";

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
  /** Queues one record: O(1), never throws, never touches the disk. Do not mutate it afterwards. */
  record(entry: UsageRecord): void;
  /** Writes everything queued now; a failure is logged and the records stay queued. */
  flush(): Promise<void>;
  /** Stops the timer, flushes and closes the database. Later records are dropped (logged once). */
  close(): Promise<void>;
}

/** Options of {@linkcode openUsageRecorder}. */
export interface UsageRecorderOptions {
  log: Logger;
  /** How often queued records are written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Records per transaction; a queue this long is written at once. Default 500. */
  maxBatch?: number;
  /** Most records kept while writes fail; beyond it the oldest are dropped. Default 100,000. */
  maxQueued?: number;
  /** SQLite `busy_timeout` of each write, kept short: a write blocks the event loop. Default 200. */
  busyTimeoutMs?: number;
}

/** Longest wait between automatic retries after failed writes. */
const MAX_RETRY_DELAY_MS = 10_000;

class SqliteUsageRecorder implements UsageRecorder {
  readonly #db: DatabaseSync;
  readonly #writeBatch: BatchWriter;
  readonly #log: Logger;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #trimSlack: number;
  readonly #flushIntervalMs: number;
  #queue: UsageRecord[] = [];
  #dropped = 0;
  #chain: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #failures = 0;
  #retryAt = 0;
  readonly #interval: ReturnType<typeof setInterval>;
  #batchTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<void> | undefined;
  #dbClosed = false;
  #warnedClosed = false;

  constructor(db: DatabaseSync, options: Required<UsageRecorderOptions>) {
    this.#db = db;
    this.#writeBatch = prepareBatchWriter(db);
    this.#log = options.log;
    this.#maxBatch = Math.max(1, Math.trunc(options.maxBatch));
    this.#maxQueued = Math.max(this.#maxBatch, Math.trunc(options.maxQueued));
    this.#trimSlack = Math.max(1, Math.ceil(this.#maxQueued / 10));
    this.#flushIntervalMs = Math.max(1, options.flushIntervalMs);
    this.#interval = setInterval(() => this.#tick(), this.#flushIntervalMs);
    Deno.unrefTimer(this.#interval);
  }

  record(entry: UsageRecord): void {
    if (this.#closing !== undefined) {
      if (!this.#warnedClosed) {
        this.#warnedClosed = true;
        this.#log.error("usage recorder is closed: dropping usage records", {
          key_id: entry?.key_id,
        });
      }
      return;
    }
    const length = this.#queue.push(entry);
    // Trimming in chunks keeps record() O(1) amortised; flushes trim to the exact bound.
    if (length >= this.#maxQueued + this.#trimSlack) this.#trim();
    if (length >= this.#maxBatch && this.#batchTimer === undefined && this.#failures === 0) {
      this.#batchTimer = setTimeout(() => {
        this.#batchTimer = undefined;
        void this.flush();
      }, 0);
    }
  }

  flush(): Promise<void> {
    this.#inFlight++;
    const run = this.#chain.then(() => this.#writeQueued()).finally(() => this.#inFlight--);
    this.#chain = run;
    return run;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    clearInterval(this.#interval);
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    await this.flush();
    if (this.#queue.length > 0) {
      this.#log.error("closing the usage database with records unwritten", {
        lost: this.#queue.length,
      });
      this.#queue = [];
    }
    try {
      this.#db.close();
    } catch (error) {
      this.#log.error("cannot close the usage database", describeError(error));
    }
    this.#dbClosed = true;
  }

  #tick(): void {
    if (this.#queue.length === 0 || this.#inFlight > 0) return;
    if (this.#failures > 0 && performance.now() < this.#retryAt) return;
    void this.flush();
  }

  #trim(): void {
    const excess = this.#queue.length - this.#maxQueued;
    if (excess <= 0) return;
    this.#queue.splice(0, excess);
    this.#dropped += excess;
  }

  async #writeQueued(): Promise<void> {
    if (this.#dbClosed) return;
    this.#trim();
    if (this.#dropped > 0) {
      this.#log.error("usage queue full: dropped the oldest usage records", {
        dropped: this.#dropped,
        max_queued: this.#maxQueued,
      });
      this.#dropped = 0;
    }
    const pending = this.#queue;
    this.#queue = [];
    let done = 0;
    while (done < pending.length) {
      const end = Math.min(done + this.#maxBatch, pending.length);
      try {
        this.#writeBatch(pending, { start: done, end });
      } catch (error) {
        // Put back what was not written, ahead of what arrived since.
        this.#queue = pending.slice(done).concat(this.#queue);
        this.#failures++;
        const delay = Math.min(MAX_RETRY_DELAY_MS, this.#flushIntervalMs * 2 ** this.#failures);
        this.#retryAt = performance.now() + delay;
        this.#log.error("cannot write usage records: keeping them for the next flush", {
          queued: this.#queue.length,
          failures: this.#failures,
          retry_in_ms: delay,
          ...describeError(error),
        });
        return;
      }
      done = end;
      this.#failures = 0;
      // Let requests run between batches when a backlog is written.
      if (done < pending.length) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
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
  const db = openWritableDb(path, { busyTimeoutMs: options.busyTimeoutMs ?? 200 });
  return new SqliteUsageRecorder(db, {
    log: options.log,
    flushIntervalMs: options.flushIntervalMs ?? 250,
    maxBatch: options.maxBatch ?? 500,
    maxQueued: options.maxQueued ?? 100_000,
    busyTimeoutMs: options.busyTimeoutMs ?? 200,
  });
}
