/**
 * `choreoai usage` and `choreoai keys list` with CHOREOAI_DATABASE_URL: usage read from
 * PostgreSQL, printed exactly as the same usage read from SQLite, and a database that cannot be
 * reached named without its password.
 */
import assert from "node:assert/strict";
import type { CliIo } from "../../src/cli/io.ts";
import { runKeysCommand } from "../../src/cli/keys/mod.ts";
import { runUsageCommand } from "../../src/cli/usage.ts";
import { connectDatabase } from "../../src/db/connect.ts";
import { migrate } from "../../src/db/migrations.ts";
import { openPostgresUsageRecorder } from "../../src/db/usage_recorder.ts";
import { createLogger } from "../../src/log.ts";
import { openUsageRecorder, type UsageRecord } from "../../src/usage/recorder.ts";
import { freePort } from "../_helpers/ports.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";
import { createDatabase, T0, usageRecord } from "../_helpers/usage_records.ts";

const available = await hasPostgres();
const HOUR = 3_600_000;
const NOW = T0 + HOUR;
const PASSWORD = "s3cret-Pa55word";

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The inputs of a command: usage in `dbPath`, or in `databaseUrl` when given. */
function cliIo(
  out: string[],
  err: string[],
  where: { dbPath: string; databaseUrl?: string; keysFile?: string },
): CliIo {
  return {
    keysFile: where.keysFile,
    dbPath: where.dbPath,
    databaseUrl: where.databaseUrl,
    now: () => NOW,
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
    readStdin: () => Promise.resolve(""),
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
  };
}

async function usage(
  args: string[],
  where: { dbPath: string; databaseUrl?: string },
): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runUsageCommand(args, cliIo(out, err, where));
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** The seeded requests: two keys, three days, errors, unpriced and unknown costs. */
function seedRecords(keyA = "key_alpha"): UsageRecord[] {
  return [
    usageRecord({ key_id: keyA, time: T0 - 10 * 60_000 }),
    usageRecord({ key_id: keyA, time: T0 - 3 * HOUR, status: 502, cost_usd: 0 }),
    usageRecord({ key_id: keyA, time: T0 - 30 * HOUR, model: "claude", cost_usd: 0.0006 }),
    usageRecord({ key_id: "key_beta", time: T0 - 50 * HOUR, model: null, status: 400 }),
    usageRecord({ key_id: "key_beta", time: T0, model: "llama", cost_usd: 0, unpriced: true }),
    usageRecord({ key_id: "key_beta", time: T0 - 2 * HOUR, cost_usd: null }),
  ];
}

Deno.test({
  name: available
    ? "choreoai usage reads CHOREOAI_DATABASE_URL and prints what SQLite would"
    : `choreoai usage reads CHOREOAI_DATABASE_URL — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "choreoai-usage-cli-pg-" });
  // A URL with a password (trust authentication ignores it), which no output may show.
  const url = new URL(await createDatabase(pg));
  url.password = PASSWORD;
  const databaseUrl = url.toString();
  const dbPath = `${dir}/usage.db`;
  try {
    const log = createLogger(() => {}, () => NOW);
    const sql = connectDatabase(databaseUrl);
    try {
      await migrate(sql);
      const onPostgres = openPostgresUsageRecorder(sql, { log });
      const onSqlite = openUsageRecorder(dbPath, { log });
      for (const record of seedRecords()) {
        onPostgres.record(record);
        onSqlite.record(record);
      }
      await Promise.all([onPostgres.close(), onSqlite.close()]);
    } finally {
      await sql.end({ timeout: 1 });
    }

    const cases: string[][] = [
      [],
      ["--json"],
      ["--by", "day"],
      ["--by", "day", "--json", "--since", "3d"],
      ["--key", "key_beta", "--json"],
      ["--since", "1h", "--json"],
    ];
    for (const args of cases) {
      await t.step(`usage ${args.join(" ")}`, async () => {
        const fromPostgres = await usage(args, { dbPath: `${dir}/none.db`, databaseUrl });
        const fromSqlite = await usage(args, { dbPath });
        assert.equal(fromPostgres.code, 0, fromPostgres.stderr);
        assert.equal(fromPostgres.stderr, "");
        assert.deepEqual(fromPostgres, fromSqlite);
      });
    }
    await t.step("the rows are those recorded", async () => {
      const { stdout } = await usage(["--json"], { dbPath, databaseUrl });
      const rows = JSON.parse(stdout).rows as Record<string, unknown>[];
      assert.deepEqual(rows.map((row) => [row.key_id, row.model, row.requests, row.cost_usd]), [
        ["key_alpha", "claude", 1, 0.0006],
        ["key_alpha", "gpt-4o", 2, 0.000125],
        ["key_beta", "-", 1, 0.000125],
        ["key_beta", "gpt-4o", 1, 0],
        ["key_beta", "llama", 1, 0],
      ]);
    });
    await t.step("a database that cannot be reached: exit 1, no password", async () => {
      const down = new URL(databaseUrl);
      down.port = String(freePort());
      const result = await usage(["--json"], { dbPath, databaseUrl: down.toString() });
      assert.equal(result.code, 1);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^choreoai usage: Cannot use the database postgres:\/\//);
      assert.match(result.stderr, /:\*\*\*@127\.0\.0\.1/);
      assert.doesNotMatch(result.stderr, new RegExp(PASSWORD));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: available
    ? "choreoai keys list shows usage and spend recorded in CHOREOAI_DATABASE_URL"
    : `choreoai keys list reads CHOREOAI_DATABASE_URL — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async () => {
  await using pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "choreoai-keys-cli-pg-" });
  const url = new URL(await createDatabase(pg));
  url.password = PASSWORD;
  const databaseUrl = url.toString();
  const where = { keysFile: `${dir}/keys.json`, dbPath: `${dir}/none.db`, databaseUrl };
  const keys = async (args: string[], at = where): Promise<Result> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runKeysCommand(args, cliIo(out, err, at));
    return { code, stdout: out.join(""), stderr: err.join("") };
  };
  try {
    const created = await keys(["create", "--name", "app", "--budget-usd", "5", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const sql = connectDatabase(databaseUrl);
    try {
      await migrate(sql);
      const recorder = openPostgresUsageRecorder(sql, { log: createLogger(() => {}, () => NOW) });
      for (const record of seedRecords(id)) recorder.record(record);
      await recorder.close();
    } finally {
      await sql.end({ timeout: 1 });
    }

    const list = await keys(["list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stderr, "");
    const [view] = JSON.parse(list.stdout) as Record<string, unknown>[];
    assert.equal(view?.requests, 3);
    assert.equal(view?.last_used_at, new Date(T0 - 10 * 60_000).toISOString());
    const budget = view?.budget_status as Record<string, unknown>;
    assert.deepEqual([budget.spent_usd, budget.remaining_usd], [0.000725, 4.999275]);

    // The database down: the keys are listed, usage left out with a warning, no password.
    const down = new URL(databaseUrl);
    down.port = String(freePort());
    const blind = await keys(["list", "--json"], { ...where, databaseUrl: down.toString() });
    assert.equal(blind.code, 0, blind.stderr);
    const [unknown] = JSON.parse(blind.stdout) as Record<string, unknown>[];
    assert.equal(unknown?.requests, 0);
    assert.equal((unknown?.budget_status as Record<string, unknown>).spent_usd, null);
    assert.match(blind.stderr, /^warning: Cannot use the database postgres:\/\/.*left out\n$/);
    assert.doesNotMatch(blind.stderr, new RegExp(PASSWORD));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
