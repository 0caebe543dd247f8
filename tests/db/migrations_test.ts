/**
 * Migrations against a real PostgreSQL: replicas migrating an empty database at once apply each
 * migration once; a database migrated by newer code is refused; a migration that fails leaves
 * nothing behind.
 */
import assert from "node:assert/strict";
import { connectDatabase } from "../../src/db/connect.ts";
import {
  migrate,
  type Migration,
  MigrationError,
  MIGRATIONS,
  SCHEMA_VERSION,
  schemaVersion,
} from "../../src/db/migrations.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";

const available = await hasPostgres();

Deno.test({
  name: available
    ? "migrate(): concurrent replicas apply once, newer schemas refused, failures roll back"
    : `migrate() — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const pools = Array.from({ length: 5 }, () => connectDatabase(pg.url, { max: 1 }));
  const [sql] = pools as [ReturnType<typeof connectDatabase>];
  try {
    await t.step("five replicas at once on an empty database: applied once", async () => {
      const outcomes = await Promise.all(pools.map((pool) => migrate(pool)));
      assert.equal(outcomes.filter((o) => o.applied.length > 0).length, 1);
      assert.ok(outcomes.every((o) => o.to === SCHEMA_VERSION));
      const rows = await sql`SELECT version FROM schema_migrations ORDER BY version`;
      assert.deepEqual(rows.map((row) => row.version), MIGRATIONS.map((m) => m.version));
      assert.equal(await schemaVersion(sql), SCHEMA_VERSION);
    });

    await t.step("a failing migration rolls back entirely", async () => {
      const broken: Migration[] = [...MIGRATIONS, {
        version: SCHEMA_VERSION + 1,
        description: "broken",
        sql: "CREATE TABLE half_done (id int); SELECT no_such_function();",
      }];
      await assert.rejects(migrate(sql, broken), MigrationError);
      assert.equal(await schemaVersion(sql), SCHEMA_VERSION);
      const [table] = await sql`SELECT to_regclass('half_done')::text AS name`;
      assert.equal(table?.name, null);
    });

    await t.step("a database migrated by newer code is refused", async () => {
      const newer: Migration[] = [...MIGRATIONS, {
        version: SCHEMA_VERSION + 1,
        description: "from the future",
        sql: "CREATE TABLE future (id int)",
      }];
      await migrate(sql, newer);
      await assert.rejects(migrate(sql), /newer than this ChoreoAI knows/);
    });
  } finally {
    await Promise.all(pools.map((pool) => pool.end({ timeout: 1 })));
  }
});
