/**
 * What a gateway keeps in PostgreSQL (`CHOREOAI_DATABASE_URL`), opened at start: one pool, the
 * schema migrated (several replicas starting at once are safe), then the usage recorder, the
 * stored Responses, what keys have spent (where budgets start) and, without a key file, the live
 * key list. main.ts loads this module only when the variable is set, so a gateway on SQLite
 * never loads the PostgreSQL client.
 */
import type { ResponsesStore } from "../dialects/responses/store.ts";
import type { Logger } from "../log.ts";
import { databaseKeyList, type KeyListAccess } from "../keys/key_list_access.ts";
import type { KeyIndex } from "../keys/verify.ts";
import type { MicroUsd } from "../spend/pricing.ts";
import type { UsageReader } from "../usage/reader.ts";
import type { UsageRecorder } from "../usage/recorder.ts";
import { connectDatabase, redactDatabaseUrl, type Sql } from "./connect.ts";
import { type LiveKeyList, openDatabaseKeyList } from "./live_key_list.ts";
import { migrate } from "./migrations.ts";
import { openPostgresResponsesStore } from "./responses_store.ts";
import { createPostgresUsageReader } from "./usage_query.ts";
import { openPostgresUsageRecorder } from "./usage_recorder.ts";

/** The gateway's database: everything main.ts wires into the handler. */
export interface GatewayDatabase {
  /** The live key list, when the keys live in the database (no CHOREOAI_KEYS_FILE). */
  readonly keys: LiveKeyList | undefined;
  /** Reading and changing that key list (the admin API), through the gateway's pool. */
  readonly keyList: KeyListAccess | undefined;
  readonly usage: UsageRecorder;
  /** Reads the recorded usage (the admin API's usage pages). */
  readonly reader: UsageReader;
  readonly responses: ResponsesStore;
  /** What keys have spent since a time, in micro-USD: where budget counters start. */
  spend(keyIds: readonly string[], since: number): Promise<MicroUsd | undefined>;
  /** Whether the key list cannot be re-read or usage records cannot be written now. */
  degraded(): boolean;
  /** Usage records waiting to be written. */
  queued(): number;
  /** Writes what is queued, stops listening and closes the pool. */
  close(): Promise<void>;
}

/** Options of {@linkcode openGatewayDatabase}. */
export interface GatewayDatabaseOptions {
  readonly log: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** How long stored Responses are kept (CHOREOAI_RESPONSES_TTL). */
  readonly responsesTtlMs: number;
  /** Compiles the key list's text, when the keys live in the database; else undefined. */
  readonly compileKeys: ((text: string) => KeyIndex) | undefined;
  /** Counts usage records dropped because too many waited (metrics). */
  readonly onDropped?: (count: number) => void;
}

/** The database cannot be used at start; the message names it without its password. */
export class DatabaseStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatabaseStartError";
  }
}

/**
 * Connects, migrates and opens everything the gateway keeps in the database.
 *
 * @throws {DatabaseStartError} when the database cannot be reached, migrated, or holds an
 *   invalid key list: the gateway must not start without its keys and records.
 */
export async function openGatewayDatabase(
  url: string,
  options: GatewayDatabaseOptions,
): Promise<GatewayDatabase> {
  const { log } = options;
  const where = redactDatabaseUrl(url);
  let sql: Sql;
  try {
    sql = connectDatabase(url, { max: 6 });
  } catch (error) {
    throw new DatabaseStartError(error instanceof Error ? error.message : String(error));
  }
  let keys: LiveKeyList | undefined;
  try {
    const outcome = await migrate(sql);
    log.info("database ready", {
      database: where,
      schema_version: outcome.to,
      ...(outcome.applied.length > 0 ? { migrated_from: outcome.from } : {}),
    });
    if (options.compileKeys !== undefined) {
      keys = await openDatabaseKeyList(sql, { compile: options.compileKeys, log });
    }
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseStartError(`Cannot use the database ${where}: ${reason}`, { cause: error });
  }
  const usage = openPostgresUsageRecorder(sql, {
    log,
    ...(options.onDropped === undefined ? {} : { onDropped: options.onDropped }),
  });
  const responses = openPostgresResponsesStore(sql, {
    ttlMs: options.responsesTtlMs,
    now: options.now,
  });
  const reader = createPostgresUsageReader(sql, { url });
  const live = keys;
  return {
    keys,
    keyList: keys === undefined ? undefined : databaseKeyList((use) => use(sql)),
    usage,
    reader,
    responses,
    spend: (keyIds, since) => reader.spend(keyIds, since),
    degraded: () => live?.status() === "degraded" || usage.status() !== "ok",
    queued: () => usage.queued(),
    async close() {
      await usage.close();
      await responses.close();
      await live?.close();
      await sql.end({ timeout: 5 });
    },
  };
}
