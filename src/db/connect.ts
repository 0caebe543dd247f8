/**
 * The PostgreSQL connection pool (`CHOREOAI_DATABASE_URL`), shared by everything that lives in
 * the database: usage records, stored Responses and the key list. One pool per process, made
 * with the `postgres` client from npm; a connection that dies is replaced on the next query, so
 * the gateway rides out a database restart without being restarted itself.
 */
import postgres from "postgres";
import { isDatabaseUrl } from "./url.ts";

export { isDatabaseUrl, redactDatabaseUrl } from "./url.ts";

/** A pool of connections, as the `postgres` client gives it (tagged-template queries). */
export type Sql = postgres.Sql;

/** A transaction's query function (`sql.begin(async (tx) => …)`). */
export type TransactionSql = postgres.TransactionSql;

/** Options of {@linkcode connectDatabase}. */
export interface ConnectOptions {
  /** Most connections held at once. Default 4: writes are batched, reads are few. */
  readonly max?: number;
  /** Seconds to wait for a connection before a query fails. Default 5. */
  readonly connectTimeoutSeconds?: number;
  /** Seconds an idle connection is kept. Default 60. */
  readonly idleTimeoutSeconds?: number;
  /** `application_name`, shown in `pg_stat_activity`. Default `choreoai`. */
  readonly applicationName?: string;
}

/**
 * Opens a pool on `url` (`postgres://user:password@host:port/database?sslmode=…`). Nothing
 * connects until the first query. The password never appears in errors this module throws.
 *
 * @throws {Error} when the URL is not a PostgreSQL URL.
 */
export function connectDatabase(url: string, options: ConnectOptions = {}): Sql {
  if (!isDatabaseUrl(url)) {
    throw new Error("CHOREOAI_DATABASE_URL must start with postgres:// or postgresql://");
  }
  return postgres(url, {
    max: options.max ?? 4,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: options.idleTimeoutSeconds ?? 60,
    // Notices (e.g. "relation already exists, skipping") are not worth a log line.
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "choreoai" },
  });
}

/**
 * Whether `error` means the database could not be reached or the connection was lost (as
 * opposed to a query the database refused): such failures are retried, others are bugs.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    // postgres.js's own codes, Node/Deno socket codes, and SQLSTATE classes 08 (connection
    // exception) and 57P (operator intervention: shutdown, crash, cannot connect now).
    if (/^(CONNECT_TIMEOUT|CONNECTION_|ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_)/.test(code)) {
      return true;
    }
    if (/^(08|57P)/.test(code)) return true;
  }
  return error.name === "ConnectionRefused" || error.name === "ConnectionReset" ||
    error.name === "BrokenPipe" || error.name === "TimedOut" || error.name === "NotConnected";
}
