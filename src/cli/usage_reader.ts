/**
 * Where the CLI reads usage: PostgreSQL when CHOREOAI_DATABASE_URL is set (opened for the
 * command, closed after), else the SQLite file CHOREOAI_DB.
 */
import { createPostgresUsageReader } from "../db/usage_query.ts";
import { createSqliteUsageReader, type UsageReader } from "../usage/reader.ts";
import { withDatabase } from "./database.ts";
import type { CliIo } from "./io.ts";

/**
 * Runs `fn` with the usage reader of `io`: `io.databaseUrl`'s database when set, else
 * `io.dbPath`. Errors name the database with its password hidden.
 *
 * @throws {Error} when the database cannot be reached or migrated, or what `fn` throws.
 */
export async function withUsageReader<T>(
  io: CliIo,
  fn: (reader: UsageReader) => Promise<T>,
): Promise<T> {
  const url = io.databaseUrl;
  if (url === undefined || url === "") return await fn(createSqliteUsageReader(io.dbPath));
  return await withDatabase(url, (sql) => fn(createPostgresUsageReader(sql, { url })));
}
