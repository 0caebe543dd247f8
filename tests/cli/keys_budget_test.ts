/**
 * Budgets in `choreoai keys …`: `--budget-usd`/`--budget-period` on create and add, `set-budget`
 * (and `--none`), rotation keeping the budget, and `list`/`show` with the spend the usage
 * database records in the current period; in process with a fixed clock, and once through the
 * real process for `CHOREOAI_DEFAULT_BUDGET_*`.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { CliIo } from "../../src/cli/io.ts";
import { runKeysCommand } from "../../src/cli/keys/mod.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import type { Budget } from "../../src/spend/budget.ts";
import { run as runMain } from "../_helpers/process.ts";
import { writeSpendRows } from "../_helpers/spend_db.ts";

/** 2026-11-25T10:00:00Z */
const NOW = Date.UTC(2026, 10, 25, 10);

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Box {
  readonly file: string;
  readonly db: string;
  run(args: string[], options?: { defaultBudget?: Budget; stdin?: string }): Promise<Result>;
  stored(id: string): Promise<Record<string, unknown>>;
}

async function withBox(fn: (box: Box) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai_budget_cli_" });
  const file = `${dir}/keys.json`;
  const db = `${dir}/usage.db`;
  try {
    await fn({
      file,
      db,
      async run(args, options = {}) {
        const out: string[] = [];
        const err: string[] = [];
        const io: CliIo = {
          keysFile: file,
          dbPath: db,
          defaultBudget: options.defaultBudget,
          now: () => NOW,
          randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
          readStdin: () => Promise.resolve(options.stdin ?? ""),
          stdout: (text) => void out.push(text),
          stderr: (text) => void err.push(text),
        };
        const code = await runKeysCommand(args, io);
        return { code, stdout: out.join(""), stderr: err.join("") };
      },
      async stored(id) {
        const keys = JSON.parse(await Deno.readTextFile(file)).keys as Record<string, unknown>[];
        const key = keys.find((k) => k.id === id);
        assert.ok(key !== undefined, `no key ${id}`);
        return key;
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertExit(result: Result, code: number, label: string): void {
  assert.equal(
    result.code,
    code,
    `${label}: exit ${result.code}\n${result.stdout}${result.stderr}`,
  );
}

async function created(box: Box, args: string[]): Promise<string> {
  const result = await box.run(["create", "--name", "n", ...args, "--json"]);
  assertExit(result, 0, `create ${args.join(" ")}`);
  return JSON.parse(result.stdout).id;
}

Deno.test("keys create and add store the budget flags; no flags store no budget", async (t) => {
  await withBox(async (box) => {
    const cases: [string, string[], unknown][] = [
      ["an amount and a period", ["--budget-usd", "100", "--budget-period", "day"], {
        usd: 100,
        period: "day",
      }],
      ["an amount alone is monthly", ["--budget-usd", "2.50"], { usd: 2.5, period: "month" }],
      ["a total budget", ["--budget-usd", "0.000001", "--budget-period", "total"], {
        usd: 0.000001,
        period: "total",
      }],
      ["no budget flags", [], undefined],
    ];
    for (const [name, args, budget] of cases) {
      await t.step(name, async () => {
        const id = await created(box, args);
        assert.deepEqual((await box.stored(id)).budget, budget);
      });
    }
    await t.step("add takes them too", async () => {
      const result = await box.run(
        ["add", "--name", "legacy", "--budget-usd", "5", "--budget-period", "total", "--json"],
        { stdin: "team-provided-secret-0123456789abcdef" },
      );
      assertExit(result, 0, "add");
      assert.deepEqual((await box.stored(JSON.parse(result.stdout).id)).budget, {
        usd: 5,
        period: "total",
      });
    });
    const text = await Deno.readTextFile(box.file);
    assert.doesNotThrow(() => parseKeyFile(text), "the file the CLI wrote is valid");
  });
});

Deno.test("keys create and set-budget name each bad budget flag (exit 2)", async (t) => {
  await withBox(async (box) => {
    const id = await created(box, []);
    const cases: [string[], RegExp][] = [
      [["create", "--name", "x", "--budget-usd", "$100"], /--budget-usd must be a number/],
      [["create", "--name", "x", "--budget-usd", "1e3"], /--budget-usd must be a number/],
      [["create", "--name", "x", "--budget-usd", "0"], /--budget-usd must be more than 0/],
      [["create", "--name", "x", "--budget-usd", "0.0000001"], /--budget-usd.*0\.000001/],
      [["create", "--name", "x", "--budget-usd", "2000000000"], /--budget-usd.*at most/],
      [["create", "--name", "x", "--budget-usd", "5", "--budget-period", "week"], /day, month/],
      [["create", "--name", "x", "--budget-period", "day"], /--budget-period needs --budget-usd/],
      [["set-budget", id], /give --budget-usd N .* or --none/],
      [["set-budget", id, "--none", "--budget-usd", "5"], /--none cannot be used with/],
      [["set-budget", id, "--budget-usd", "-1"], /--budget-usd/],
      [["set-budget", id, "--budget-period", "year"], /--budget-period must be/],
      [["set-budget", "--budget-usd", "5"], /needs a key id/],
    ];
    for (const [args, pattern] of cases) {
      await t.step(args.join(" "), async () => {
        const result = await box.run(args);
        assertExit(result, 2, args.join(" "));
        assert.match(result.stderr, pattern);
        assert.equal(result.stdout, "");
      });
    }
    assert.equal((await box.stored(id)).budget, undefined, "a refused command changed the key");
  });
});

Deno.test("keys set-budget sets, changes and removes a key's budget", async (t) => {
  await withBox(async (box) => {
    const id = await created(box, []);
    await t.step("sets an amount (monthly by default)", async () => {
      const result = await box.run(["set-budget", id, "--budget-usd", "100", "--json"]);
      assertExit(result, 0, "set-budget");
      assert.deepEqual(JSON.parse(result.stdout), { id, budget: { usd: 100, period: "month" } });
      assert.match(result.stderr, /to \$100\.00 per month \(UTC\)/);
      assert.deepEqual((await box.stored(id)).budget, { usd: 100, period: "month" });
    });
    await t.step("a period alone keeps the amount", async () => {
      assertExit(await box.run(["set-budget", id, "--budget-period", "day"]), 0, "period");
      assert.deepEqual((await box.stored(id)).budget, { usd: 100, period: "day" });
    });
    await t.step("an amount alone keeps the period", async () => {
      assertExit(await box.run(["set-budget", id, "--budget-usd", "7.5"]), 0, "amount");
      assert.deepEqual((await box.stored(id)).budget, { usd: 7.5, period: "day" });
    });
    await t.step("--none removes it, and the default applies", async () => {
      const result = await box.run(["set-budget", id, "--none"]);
      assertExit(result, 0, "--none");
      assert.match(result.stderr, /default budget \(CHOREOAI_DEFAULT_BUDGET_USD\) applies/);
      assert.equal("budget" in await box.stored(id), false);
    });
    await t.step("a period alone on a key without a budget is refused (exit 1)", async () => {
      const result = await box.run(["set-budget", id, "--budget-period", "day"]);
      assertExit(result, 1, "period alone");
      assert.match(result.stderr, /has no budget of its own/);
    });
    await t.step("an unknown key (exit 1)", async () => {
      const result = await box.run(["set-budget", "key_Unknown000", "--budget-usd", "1"]);
      assertExit(result, 1, "unknown");
      assert.match(result.stderr, /No key with id "key_Unknown000"/);
    });
    await t.step("help", async () => {
      const result = await box.run(["set-budget", "--help"]);
      assertExit(result, 0, "help");
      assert.match(result.stdout, /^Usage: choreoai keys set-budget ID --budget-usd N/);
    });
  });
});

Deno.test("keys rotate keeps the budget, and the new key spends the old one's", async () => {
  await withBox(async (box) => {
    const old = await created(box, ["--budget-usd", "10", "--budget-period", "day"]);
    const rotated = await box.run(["rotate", old, "--json"]);
    assertExit(rotated, 0, "rotate");
    const next = JSON.parse(rotated.stdout).id;
    assert.deepEqual((await box.stored(next)).budget, { usd: 10, period: "day" });
    // $3 spent by the old key today and $2 by the new one: the chain has spent $5.
    writeSpendRows(box.db, [
      { key_id: old, time: NOW - 3_600_000, cost_usd: 3 },
      { key_id: next, time: NOW - 60_000, cost_usd: 2 },
      { key_id: old, time: Date.UTC(2026, 10, 24, 23, 59), cost_usd: 50 }, // yesterday
    ]);
    const views = JSON.parse((await box.run(["list", "--json"])).stdout);
    for (const id of [old, next]) {
      assert.deepEqual(views.find((v: { id: string }) => v.id === id).budget_status, {
        usd: 10,
        period: "day",
        source: "key",
        spent_usd: 5,
        remaining_usd: 5,
        resets_at: "2026-11-26T00:00:00Z",
      });
    }
  });
});

Deno.test("keys list and show: spent/budget in the period, the reset time, the default", async (t) => {
  await withBox(async (box) => {
    const monthly = await created(box, ["--budget-usd", "100"]);
    const total = await created(box, ["--budget-usd", "1", "--budget-period", "total"]);
    const plain = await created(box, []);
    writeSpendRows(box.db, [
      { key_id: monthly, time: Date.UTC(2026, 10, 1), cost_usd: 12.345678 },
      { key_id: monthly, time: Date.UTC(2026, 10, 20), cost_usd: 0.004322 },
      { key_id: monthly, time: Date.UTC(2026, 9, 31, 23, 59, 59), cost_usd: 99 }, // October
      { key_id: total, time: Date.UTC(2020, 0, 1), cost_usd: 1.5 },
      { key_id: plain, time: NOW - 1_000, cost_usd: 0.25 },
    ]);
    await t.step("the table", async () => {
      const table = await box.run(["list"], { defaultBudget: { usd: 20, period: "day" } });
      assertExit(table, 0, "list");
      const rows = table.stdout.split("\n");
      assert.match(rows[0] ?? "", / SPENT\/BUDGET +RESETS$/);
      assert.match(
        table.stdout,
        new RegExp(`^${monthly} .* \\$12\\.35/\\$100\\.00 month +2026-12-01T00:00:00Z$`, "m"),
      );
      assert.match(table.stdout, new RegExp(`^${total} .* \\$1\\.50/\\$1\\.00 total +never$`, "m"));
      assert.match(
        table.stdout,
        new RegExp(
          `^${plain} .* \\$0\\.25/\\$20\\.00 day \\(default\\) +2026-11-26T00:00:00Z$`,
          "m",
        ),
      );
      assert.equal(table.stderr, "");
    });
    await t.step("--json", async () => {
      const views = JSON.parse((await box.run(["list", "--json"])).stdout);
      const view = (id: string) => views.find((v: { id: string }) => v.id === id);
      assert.deepEqual(view(monthly).budget, { usd: 100, period: "month" });
      assert.deepEqual(view(monthly).budget_status, {
        usd: 100,
        period: "month",
        source: "key",
        spent_usd: 12.35,
        remaining_usd: 87.65,
        resets_at: "2026-12-01T00:00:00Z",
      });
      assert.equal(view(total).budget_status.remaining_usd, 0, "overspent: nothing left");
      assert.equal(view(plain).budget_status, null, "no budget and no default");
    });
    await t.step("show", async () => {
      const show = await box.run(["show", monthly]);
      assert.match(show.stdout, /^budget: +\$100\.00 per month \(UTC\)$/m);
      assert.match(show.stdout, /^spent: +\$12\.35 this period, \$87\.65 left$/m);
      assert.match(show.stdout, /^resets: +2026-12-01T00:00:00Z$/m);
      const none = await box.run(["show", plain]);
      assert.match(none.stdout, /^budget: +none$/m);
    });
  });
});

Deno.test("keys list shows ? for a usage database that records no costs", async () => {
  await withBox(async (box) => {
    const id = await created(box, ["--budget-usd", "3"]);
    // A database written before costs were recorded (schema 3, which the CLI does not migrate).
    const db = new DatabaseSync(box.db);
    db.exec(`
      CREATE TABLE requests (id INTEGER PRIMARY KEY, time INTEGER, key_id TEXT);
      CREATE TABLE key_stats (key_id TEXT PRIMARY KEY, last_used_at INTEGER, requests INTEGER);
      PRAGMA user_version = 3;
    `);
    db.close();
    const table = await box.run(["list"]);
    assertExit(table, 0, "list");
    assert.match(table.stdout, new RegExp(`^${id} .* \\?/\\$3\\.00 month`, "m"));
    assert.match(table.stderr, /records no costs: spent is shown as \?/);
  });
});

Deno.test("choreoai keys list reads CHOREOAI_DEFAULT_BUDGET_* (the real process)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai_budget_cli_" });
  try {
    const env = { CHOREOAI_KEYS_FILE: `${dir}/keys.json`, CHOREOAI_DB: `${dir}/usage.db` };
    const create = await runMain(["keys", "create", "--name", "app", "--json"], env);
    assert.equal(create.code, 0, create.stderr);
    const { id } = JSON.parse(create.stdout);
    const list = await runMain(["keys", "list", "--json"], {
      ...env,
      CHOREOAI_DEFAULT_BUDGET_USD: "25",
      CHOREOAI_DEFAULT_BUDGET_PERIOD: "total",
    });
    assert.equal(list.code, 0, list.stderr);
    const [view] = JSON.parse(list.stdout);
    assert.equal(view.id, id);
    assert.deepEqual(
      { ...view.budget_status, spent_usd: 0, remaining_usd: 25 },
      {
        usd: 25,
        period: "total",
        source: "default",
        spent_usd: 0,
        remaining_usd: 25,
        resets_at: null,
      },
    );
    const bad = await runMain(["keys", "list"], { ...env, CHOREOAI_DEFAULT_BUDGET_USD: "lots" });
    assert.equal(bad.code, 0);
    assert.match(bad.stderr, /default budget is ignored here.*CHOREOAI_DEFAULT_BUDGET_USD/s);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
