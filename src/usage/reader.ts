/**
 * The read side of usage, whichever database holds it: per-key statistics, summaries by key and
 * model or by UTC day, usage and latency percentiles in time buckets, and what keys have spent. {@linkcode createSqliteUsageReader} reads
 * CHOREOAI_DB; `createPostgresUsageReader` (src/db/usage_query.ts) reads CHOREOAI_DATABASE_URL
 * and gives the same answers for the same records.
 */
import type { MicroUsd } from "../spend/pricing.ts";
import { readLatencies, readUsageBuckets } from "./buckets.ts";
import { readKeyStats, summarizeUsage, summarizeUsageByDay } from "./query.ts";
import {
  type BucketQuery,
  type LatencySeries,
  MAX_LATENCY_ROWS,
  type UsageBucket,
} from "./series.ts";
import { readSpend } from "./spend.ts";
import type { DailyUsage, KeyStats, UsageQuery, UsageSummary } from "./summary.ts";

/** Reads recorded usage. */
export interface UsageReader {
  /**
   * Where the usage is read from, for messages: `"./choreoai.db"` (quoted), or the database's
   * URL with its password hidden.
   */
  readonly where: string;
  /** Key id → last use and request count, for every key with recorded usage. */
  keyStats(): Promise<Map<string, KeyStats>>;
  /** Requests of the window by key and model, ordered by key id, then model. */
  summarize(query: UsageQuery): Promise<UsageSummary>;
  /** Requests of the window by UTC day, every day of the window (zeros included), oldest first. */
  summarizeByDay(query: UsageQuery): Promise<DailyUsage>;
  /**
   * What `keyIds` spent since `since` (ms since the epoch), in micro-USD; undefined when the
   * database records no costs (a SQLite file older than schema version 4).
   */
  spend(keyIds: readonly string[], since: number): Promise<MicroUsd | undefined>;
  /**
   * Requests of the window per time bucket (and per key or model): the buckets with requests,
   * oldest first, groups in byte order.
   */
  buckets(query: BucketQuery): Promise<UsageBucket[]>;
  /**
   * Percentiles (p50, p99) of latency and time to first byte per bucket and over the window.
   * SQLite reads at most the window's most recent requests (`sampled` when it cut).
   */
  latencies(query: BucketQuery): Promise<LatencySeries>;
}

/** Options of {@linkcode createSqliteUsageReader}. */
export interface SqliteUsageReaderOptions {
  /**
   * Most requests read for latency percentiles (the window's most recent); default
   * {@linkcode MAX_LATENCY_ROWS}.
   */
  readonly maxLatencyRows?: number;
}

/**
 * A reader of the SQLite usage database: a missing file reads as no usage and is not created.
 *
 * @param dbPath The SQLite file (CHOREOAI_DB).
 */
export function createSqliteUsageReader(
  dbPath: string,
  options: SqliteUsageReaderOptions = {},
): UsageReader {
  const maxRows = options.maxLatencyRows ?? MAX_LATENCY_ROWS;
  return {
    where: `"${dbPath}"`,
    // Promise.try: a synchronous throw becomes a rejection, as a database's errors are.
    keyStats: () => Promise.try(() => readKeyStats(dbPath)),
    summarize: (query) => Promise.try(() => summarizeUsage(dbPath, query)),
    summarizeByDay: (query) => Promise.try(() => summarizeUsageByDay(dbPath, query)),
    spend: (keyIds, since) => Promise.try(() => readSpend(dbPath, keyIds, since)),
    buckets: (query) => Promise.try(() => readUsageBuckets(dbPath, query)),
    latencies: (query) => Promise.try(() => readLatencies(dbPath, query, maxRows)),
  };
}
