/**
 * The PostgreSQL database of a CLI command (`CHOREOAI_DATABASE_URL`): opened for the command,
 * brought up to the current schema (as a starting gateway would), and closed when it is done.
 */
import { connectDatabase, redactDatabaseUrl, type Sql } from "../db/connect.ts";
import { migrate } from "../db/migrations.ts";

/**
 * Runs `fn` with a pool on `url` whose schema is current, and closes the pool after.
 *
 * @throws {Error} naming the database (password hidden) when it cannot be reached or migrated.
 */
export async function withDatabase<T>(url: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connectDatabase(url, { max: 2, applicationName: "choreoai-cli" });
  try {
    try {
      await migrate(sql);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot use the database ${redactDatabaseUrl(url)}: ${reason}`, {
        cause: error,
      });
    }
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
