/**
 * `choreoai db migrate` (bring the PostgreSQL schema of CHOREOAI_DATABASE_URL up to date, as a
 * starting gateway does) and `choreoai db status` (say which version it is at, changing nothing).
 */
import { connectDatabase, redactDatabaseUrl, type Sql } from "../db/connect.ts";
import { migrate, SCHEMA_VERSION, schemaVersion } from "../db/migrations.ts";
import { type CliIo, EXIT } from "./io.ts";

/** The help of `choreoai db`, without a trailing newline. */
export const DB_HELP = [
  "Usage: choreoai db <migrate|status>",
  "",
  "Works on the PostgreSQL database named by CHOREOAI_DATABASE_URL.",
  "",
  "Commands:",
  "  migrate  apply the schema migrations the database lacks (a starting gateway does the",
  "           same; several at once are safe: they wait for each other)",
  "  status   print the database's schema version and this ChoreoAI's, changing nothing",
  "",
  "Exit codes: 0 success, 1 failure, 2 usage error.",
].join("\n");

async function run(command: "migrate" | "status", sql: Sql, io: CliIo, where: string) {
  if (command === "migrate") {
    const outcome = await migrate(sql);
    io.stdout(
      outcome.applied.length === 0
        ? `${where}: schema version ${outcome.to}, up to date\n`
        : `${where}: schema version ${outcome.from} → ${outcome.to} ` +
          `(applied ${outcome.applied.join(", ")})\n`,
    );
    return EXIT.ok;
  }
  const version = await schemaVersion(sql);
  const state = version === SCHEMA_VERSION
    ? "up to date"
    : version < SCHEMA_VERSION
    ? "behind: run choreoai db migrate (or start a gateway)"
    : "ahead: migrated by a newer ChoreoAI; upgrade this one";
  io.stdout(`${where}: schema version ${version}, this ChoreoAI's ${SCHEMA_VERSION}: ${state}\n`);
  return version > SCHEMA_VERSION ? EXIT.failure : EXIT.ok;
}

/**
 * Runs `choreoai db …`.
 *
 * @returns the exit code: 0 success, 1 failure (message on stderr), 2 usage error
 */
export async function runDbCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...extra] = args;
  if (command === "--help" || command === "-h" || command === "help") {
    io.stdout(`${DB_HELP}\n`);
    return EXIT.ok;
  }
  if ((command !== "migrate" && command !== "status") || extra.length > 0) {
    io.stderr(
      `choreoai db: ${
        command === undefined ? "a command is needed" : "unknown or extra arguments"
      } (migrate, status)\nRun choreoai db --help for usage.\n`,
    );
    return EXIT.usage;
  }
  const url = io.databaseUrl;
  if (url === undefined || url === "") {
    io.stderr("choreoai db: CHOREOAI_DATABASE_URL is not set: point it at postgres://…\n");
    return EXIT.failure;
  }
  const where = redactDatabaseUrl(url);
  let sql: Sql;
  try {
    sql = connectDatabase(url, { max: 1, applicationName: "choreoai-cli" });
  } catch (error) {
    io.stderr(`choreoai db: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
  try {
    return await run(command, sql, io, where);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.stderr(`choreoai db: ${where}: ${reason}\n`);
    return EXIT.failure;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
