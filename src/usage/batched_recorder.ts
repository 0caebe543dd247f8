/**
 * The queue every usage recorder shares, whatever it writes to: `record()` only queues; a timer
 * or a full batch writes the queue through a {@linkcode BatchWriter}, one batch at a time. A
 * failed write keeps its batch, ahead of what arrived since, and is retried with a backoff that
 * grows to 10 s; only a queue grown past its bound drops (the oldest records, logged with a
 * count and reported to `onDropped`).
 */
import { describeError, type Logger } from "../log.ts";
import type { UsageRecord, UsageRecorder } from "./recorder.ts";

/**
 * Writes `records[range.start, range.end)` all at once (one transaction), or nothing and throws
 * (or rejects). The same records, as the same objects, are passed again after a failure.
 */
export type BatchWriter = (
  records: readonly UsageRecord[],
  range: { start: number; end: number },
) => void | Promise<void>;

/** Where a batched recorder writes. */
export interface BatchSink {
  readonly write: BatchWriter;
  /** Releases what the sink holds, once, after the last flush of `close()`. */
  close?(): void | Promise<void>;
}

/** Options of every usage recorder. */
export interface UsageQueueOptions {
  log: Logger;
  /** How often queued records are written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Records per write; a queue this long is written at once. Default 500. */
  maxBatch?: number;
  /** Most records kept while writes fail; beyond it the oldest are dropped. Default 100,000. */
  maxQueued?: number;
  /** Called with how many records were dropped each time the bound drops some (for metrics). */
  onDropped?: (count: number) => void;
}

/** Longest wait between automatic retries after failed writes. */
const MAX_RETRY_DELAY_MS = 10_000;

/** A write still running after this long makes the recorder report "failing" (a hung link). */
const STUCK_WRITE_MS = 15_000;

class BatchedUsageRecorder implements UsageRecorder {
  readonly #sink: BatchSink;
  readonly #log: Logger;
  readonly #onDropped: ((count: number) => void) | undefined;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #trimSlack: number;
  readonly #flushIntervalMs: number;
  #queue: UsageRecord[] = [];
  /** Records taken off the queue by the write running now. */
  #writing = 0;
  #writeStartedAt = 0;
  #dropped = 0;
  #chain: Promise<void> = Promise.resolve();
  #inFlight = 0;
  #failures = 0;
  #retryAt = 0;
  readonly #interval: ReturnType<typeof setInterval>;
  #batchTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<void> | undefined;
  #sinkClosed = false;
  #warnedClosed = false;

  constructor(sink: BatchSink, options: UsageQueueOptions) {
    this.#sink = sink;
    this.#log = options.log;
    this.#onDropped = options.onDropped;
    this.#maxBatch = Math.max(1, Math.trunc(options.maxBatch ?? 500));
    this.#maxQueued = Math.max(this.#maxBatch, Math.trunc(options.maxQueued ?? 100_000));
    this.#trimSlack = Math.max(1, Math.ceil(this.#maxQueued / 10));
    this.#flushIntervalMs = Math.max(1, options.flushIntervalMs ?? 250);
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

  queued(): number {
    return this.#queue.length + this.#writing;
  }

  status(): "ok" | "failing" {
    if (this.queued() === 0) return "ok";
    if (this.#failures > 0) return "failing";
    const stuck = this.#writing > 0 && performance.now() - this.#writeStartedAt > STUCK_WRITE_MS;
    return stuck ? "failing" : "ok";
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
      this.#log.error("closing the usage recorder with records unwritten", {
        lost: this.#queue.length,
      });
      this.#queue = [];
    }
    this.#sinkClosed = true;
    try {
      await this.#sink.close?.();
    } catch (error) {
      this.#log.error("cannot close the usage database", describeError(error));
    }
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
    try {
      this.#onDropped?.(excess);
    } catch (error) {
      this.#log.error("usage recorder: onDropped threw", describeError(error));
    }
  }

  async #writeQueued(): Promise<void> {
    if (this.#sinkClosed) return;
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
      this.#writing = pending.length - done;
      this.#writeStartedAt = performance.now();
      try {
        await this.#sink.write(pending, { start: done, end });
      } catch (error) {
        // Put back what was not written, ahead of what arrived since.
        this.#queue = pending.slice(done).concat(this.#queue);
        this.#writing = 0;
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
      this.#writing = pending.length - done;
      this.#failures = 0;
      // Let requests run between batches when a backlog is written.
      if (done < pending.length) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/**
 * A usage recorder writing through `sink` in batches, off the request path. Its timer never keeps
 * the process alive; call `close()` on shutdown to write what is still queued.
 */
export function createBatchedRecorder(sink: BatchSink, options: UsageQueueOptions): UsageRecorder {
  return new BatchedUsageRecorder(sink, options);
}
