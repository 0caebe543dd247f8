/**
 * `choreoai keys …` and `choreoai db …` against a real PostgreSQL (CHOREOAI_DATABASE_URL, no
 * CHOREOAI_KEYS_FILE): the same commands as on a file, importing a key file (digests only,
 * idempotent, refusing conflicts unless --replace), migrations on demand, and no password in
 * any message.
 */
import assert from "node:assert/strict";
import { runDbCommand } from "../../src/cli/db.ts";
import type { CliIo } from "../../src/cli/io.ts";
import { runKeysCommand } from "../../src/cli/keys/mod.ts";
import { connectDatabase } from "../../src/db/connect.ts";
import { readKeyList } from "../../src/db/key_list.ts";
import { SCHEMA_VERSION } from "../../src/db/migrations.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";

const available = await hasPostgres();

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(databaseUrl: string, keysFile?: string) {
  const io = (out: { stdout: string; stderr: string }, stdin = ""): CliIo => ({
    keysFile,
    dbPath: "/nonexistent/choreoai.db",
    databaseUrl,
    now: () => Date.parse("2026-12-03T10:00:00Z"),
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
    readStdin: () => Promise.resolve(stdin),
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
  });
  const call = async (
    run: (args: readonly string[], io: CliIo) => Promise<number>,
    args: string[],
    stdin?: string,
  ): Promise<Ran> => {
    const out = { stdout: "", stderr: "" };
    const code = await run(args, io(out, stdin));
    return { code, ...out };
  };
  return {
    keys: (args: string[], stdin?: string) => call(runKeysCommand, args, stdin),
    db: (args: string[]) => call(runDbCommand, args),
  };
}

Deno.test({
  name: available
    ? "keys and db commands on PostgreSQL: create, list, show, rotate, set-budget, revoke, import, migrate"
    : `keys and db commands on PostgreSQL — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const { keys, db } = cli(pg.url);
  const sql = connectDatabase(pg.url);
  const dir = await Deno.makeTempDir({ prefix: "choreoai-keys-db-" });
  try {
    await t.step("db status on an empty database says it is behind; migrate applies", async () => {
      const before = await db(["status"]);
      assert.equal(before.code, 0, before.stderr);
      assert.match(before.stdout, /schema version 0, this ChoreoAI's \d+: behind/);
      const first = await db(["migrate"]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, new RegExp(`schema version 0 → ${SCHEMA_VERSION}`));
      const again = await db(["migrate"]);
      assert.match(again.stdout, /up to date/);
    });

    let created = { id: "", key: "" };
    await t.step("create prints the key once; the database holds its digest only", async () => {
      const out = await keys(["create", "--name", "ci bot", "--json", "--rpm", "60"]);
      assert.equal(out.code, 0, out.stderr);
      created = JSON.parse(out.stdout);
      assert.match(created.key, /^sk-choreo-/);
      const [row] = await sql<{ text: string }[]>`SELECT record::text AS text FROM keys`;
      assert.ok(row !== undefined && !row.text.includes(created.key));
      assert.match(row.text, /"digest": "sha256:[0-9a-f]{64}"/);
    });

    await t.step("list and show read the database", async () => {
      const list = await keys(["list", "--json"]);
      assert.equal(list.code, 0, list.stderr);
      const [view] = JSON.parse(list.stdout);
      assert.equal(view.id, created.id);
      assert.equal(view.rpm, 60);
      const show = await keys(["show", created.id]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /ci bot/);
    });

    await t.step("rotate, set-budget and revoke change the rows", async () => {
      const rotated = await keys(["rotate", created.id, "--grace", "1h", "--json"]);
      assert.equal(rotated.code, 0, rotated.stderr);
      const next = JSON.parse(rotated.stdout);
      const budget = await keys([
        "set-budget",
        next.id,
        "--budget-usd",
        "5",
        "--budget-period",
        "day",
      ]);
      assert.equal(budget.code, 0, budget.stderr);
      assert.match(budget.stderr, /within a second/);
      const revoked = await keys(["revoke", next.id]);
      assert.equal(revoked.code, 0, revoked.stderr);
      const list = await readKeyList(sql);
      assert.deepEqual(list.keys.map((k) => k.id), [created.id, next.id]);
      assert.equal(list.keys[0]?.expires_at, "2026-12-03T11:00:00Z");
      assert.equal(list.keys[1]?.rotated_from, created.id);
      assert.deepEqual(list.keys[1]?.budget, { usd: 5, period: "day" });
      assert.equal(list.keys[1]?.revoked_at, "2026-12-03T10:00:00Z");
      const missing = await keys(["revoke", "key_doesnotexist"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No key with id "key_doesnotexist" in the database key list/);
    });

    await t.step("import copies a file's records, skips unchanged, refuses conflicts", async () => {
      const a = makeKey({ name: "imported a" });
      const b = makeKey({ name: "imported b", budget: { usd: 10, period: "month" } });
      const path = `${dir}/keys.json`;
      await Deno.writeTextFile(path, keyFileText([a.record, b.record]));
      const first = await keys(["import", path, "--json"]);
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(JSON.parse(first.stdout), {
        imported: [a.record.id, b.record.id],
        replaced: [],
        unchanged: [],
      });
      const again = await keys(["import", path]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /Imported 0 keys .*2 keys already there unchanged/);
      await Deno.writeTextFile(path, keyFileText([{ ...a.record, name: "renamed" }, b.record]));
      const conflict = await keys(["import", path]);
      assert.equal(conflict.code, 1);
      assert.match(conflict.stderr, new RegExp(`already holds ${a.record.id} with other settings`));
      assert.equal(
        (await readKeyList(sql)).keys.find((k) => k.id === a.record.id)?.name,
        "imported a",
      );
      const replaced = await keys(["import", path, "--replace", "--json"]);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.deepEqual(JSON.parse(replaced.stdout).replaced, [a.record.id]);
      assert.equal(
        (await readKeyList(sql)).keys.find((k) => k.id === a.record.id)?.name,
        "renamed",
      );
      assert.equal((await readKeyList(sql)).keys.length, 4);
    });

    await t.step("a key file wins over the database when both are set", async () => {
      const path = `${dir}/own.json`;
      await Deno.writeTextFile(path, keyFileText([]));
      const out = await cli(pg.url, path).keys(["list"]);
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stderr, new RegExp(`No keys in ${path}`));
    });
  } finally {
    await sql.end({ timeout: 1 });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys and db commands: an unreachable database is named without its password", async (t) => {
  const url = "postgres://choreoai:hunter2@127.0.0.1:1/choreoai";
  const { keys, db } = cli(url);
  for (
    const [name, run] of [
      ["keys list", () => keys(["list"])],
      ["db migrate", () => db(["migrate"])],
    ] as const
  ) {
    await t.step(name, async () => {
      const out = await run();
      assert.equal(out.code, 1);
      assert.match(out.stderr, /postgres:\/\/choreoai:\*\*\*@127\.0\.0\.1:1\/choreoai/);
      assert.doesNotMatch(out.stderr + out.stdout, /hunter2/);
    });
  }
  await t.step("import without a database URL", async () => {
    const out = await cli("").keys(["import", "keys.json"]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /CHOREOAI_DATABASE_URL is not set/);
  });
});
