/**
 * Usage records in PostgreSQL (CHOREOAI_DATABASE_URL): the same queue, batches, retries and
 * bound as the SQLite recorder ({@linkcode createBatchedRecorder}), written through the shared
 * pool. Several replicas write to one database; each record is counted once, retries included.
 */
import type { Sql } from "./connect.ts";
import { preparePostgresBatchWriter } from "./usage_write.ts";
import { createBatchedRecorder, type UsageQueueOptions } from "../usage/batched_recorder.ts";
import type { UsageRecorder } from "../usage/recorder.ts";

/**
 * A recorder writing usage to `sql`'s `requests` and `key_stats` tables (schema migrated by the
 * caller), one statement per batch. `record()` never throws and never waits: while the database
 * is down, records stay queued (up to `maxQueued`, default 100,000, then the oldest are dropped
 * and reported to `onDropped`), `status()` says `failing`, and writes are retried at most 10 s
 * apart. `close()` writes what it can; the pool is the caller's to end, after it.
 */
export function openPostgresUsageRecorder(sql: Sql, options: UsageQueueOptions): UsageRecorder {
  return createBatchedRecorder({ write: preparePostgresBatchWriter(sql) }, options);
}
