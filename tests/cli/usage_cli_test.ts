/**
 * `choreoai usage` end to end: the real main.ts spawned with a controlled environment, reading a
 * database seeded through the recorder: tokens and costs by key and model, and by UTC day.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { openUsageRecorder, type UsageRecord } from "../../src/usage/store.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ISO_REGEXP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function runUsage(args: string[], dbPath: string) {
  const env: Record<string, string> = { NO_COLOR: "1", CHOREOAI_DB: dbPath };
  for (const name of ["HOME", "PATH", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["run", ...PERMISSIONS, MAIN, "usage", ...args],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** Seeds `path` through the recorder with requests at known ages before `now`. */
async function seed(path: string, now: number): Promise<void> {
  const recorder = openUsageRecorder(path, { log: createLogger(() => {}, () => now) });
  const record = (age: number, fields: Partial<UsageRecord>) =>
    recorder.record({
      time: now - age,
      key_id: "key_alpha",
      endpoint: "/v1/chat/completions",
      model: "gpt-4o",
      provider: "openai",
      status: 200,
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      latency_ms: 250,
      ttfb_ms: 40,
      cost_usd: 0.00045,
      unpriced: false,
      ...fields,
    });
  for (const [age, fields] of SEED) record(age, fields);
  await recorder.close();
}

/** The seeded requests: age, and what differs from a priced gpt-4o request of key_alpha. */
const SEED: [number, Partial<UsageRecord>][] = [
  [10 * MINUTE, {}],
  [3 * HOUR, { status: 502, cost_usd: 0 }],
  [2 * DAY, { model: "claude-sonnet-4-5", provider: "anthropic", cost_usd: 0.0006 }],
  [20 * MINUTE, { key_id: "key_beta", model: null, provider: null, status: 400, cost_usd: 0 }],
  [30 * MINUTE, { key_id: "key_beta", model: "choreoai/echo", provider: "choreoai", cost_usd: 0 }],
  [40 * MINUTE, {
    key_id: "key_beta",
    model: "llama",
    provider: "local",
    cost_usd: 0,
    unpriced: true,
  }],
  [10 * DAY, { key_id: "key_beta", model: "gpt-4o" }],
];

interface Row {
  key_id: string;
  model: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  unpriced_requests: number;
}

function row(
  key_id: string,
  model: string,
  requests: number,
  errors: number,
  cost_usd = 0,
  unpriced_requests = 0,
): Row {
  return {
    key_id,
    model,
    requests,
    errors,
    prompt_tokens: 100 * requests,
    completion_tokens: 20 * requests,
    total_tokens: 120 * requests,
    cost_usd,
    unpriced_requests,
  };
}

Deno.test("choreoai usage", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-usage-cli-" });
  try {
    const dbPath = `${dir}/u.db`;
    await seed(dbPath, Date.now());

    const cases = [
      {
        name: "--json: every key over the last 7 days",
        args: ["--json"],
        window: 7 * DAY,
        rows: [
          row("key_alpha", "claude-sonnet-4-5", 1, 0, 0.0006),
          row("key_alpha", "gpt-4o", 2, 1, 0.00045),
          row("key_beta", "-", 1, 1),
          row("key_beta", "choreoai/echo", 1, 0),
          row("key_beta", "llama", 1, 0, 0, 1),
        ],
      },
      {
        name: "--key keeps one key",
        args: ["--json", "--key", "key_beta"],
        window: 7 * DAY,
        rows: [
          row("key_beta", "-", 1, 1),
          row("key_beta", "choreoai/echo", 1, 0),
          row("key_beta", "llama", 1, 0, 0, 1),
        ],
      },
      {
        name: "--since 1h",
        args: ["--since", "1h", "--json"],
        window: HOUR,
        rows: [
          row("key_alpha", "gpt-4o", 1, 0, 0.00045),
          row("key_beta", "-", 1, 1),
          row("key_beta", "choreoai/echo", 1, 0),
          row("key_beta", "llama", 1, 0, 0, 1),
        ],
      },
      {
        name: "--since=30d with --key",
        args: ["--since=30d", "--key=key_beta", "--json"],
        window: 30 * DAY,
        rows: [
          row("key_beta", "-", 1, 1),
          row("key_beta", "choreoai/echo", 1, 0),
          row("key_beta", "gpt-4o", 1, 0, 0.00045),
          row("key_beta", "llama", 1, 0, 0, 1),
        ],
      },
      {
        name: "--by key is the default grouping",
        args: ["--json", "--by", "key", "--since", "1h", "--key", "key_alpha"],
        window: HOUR,
        rows: [row("key_alpha", "gpt-4o", 1, 0, 0.00045)],
      },
      {
        name: "an unknown key has no rows",
        args: ["--json", "--key", "key_nobody"],
        window: 7 * DAY,
        rows: [],
      },
    ];
    for (const { name, args, window, rows } of cases) {
      await t.step(name, async () => {
        const result = await runUsage(args, dbPath);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stderr, "");
        assert.ok(result.stdout.endsWith("}\n"));
        const parsed = JSON.parse(result.stdout);
        assert.deepEqual(Object.keys(parsed), ["since", "until", "rows"]);
        assert.match(parsed.since, ISO_REGEXP);
        assert.match(parsed.until, ISO_REGEXP);
        assert.equal(Date.parse(parsed.until) - Date.parse(parsed.since), window);
        assert.ok(Math.abs(Date.parse(parsed.until) - Date.now()) < MINUTE);
        for (const r of parsed.rows) {
          assert.deepEqual(Object.keys(r), [
            "key_id",
            "model",
            "requests",
            "errors",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cost_usd",
            "unpriced_requests",
          ]);
        }
        assert.deepEqual(parsed.rows, rows);
      });
    }

    await t.step("the table lists each key and model with its cost, and totals", async () => {
      const result = await runUsage([], dbPath);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^Usage from \S+Z to \S+Z$/);
      assert.match(lines[2] ?? "", /^KEY +MODEL +REQUESTS +ERRORS +PROMPT TOKENS.* +COST USD $/);
      assert.match(
        lines[3] ?? "",
        /^key_alpha +claude-sonnet-4-5 +1 +0 +100 +20 +120 +0\.000600 $/,
      );
      assert.match(lines[4] ?? "", /^key_alpha +gpt-4o +2 +1 +200 +40 +240 +0\.000450 $/);
      assert.match(lines[5] ?? "", /^key_beta +- +1 +1 +100 +20 +120 +0\.000000 $/);
      assert.match(lines[6] ?? "", /^key_beta +choreoai\/echo +1 +0 +100 +20 +120 +0\.000000 $/);
      assert.match(lines[7] ?? "", /^key_beta +llama +1 +0 +100 +20 +120 +0\.000000\*$/);
      assert.match(lines[8] ?? "", /^-+ +-+/);
      assert.match(lines[9] ?? "", /^TOTAL \(2 keys\) +6 +2 +600 +120 +720 +0\.001050\*$/);
      assert.equal(lines[10], "");
      assert.match(lines[11] ?? "", /^\* includes 1 request of models with no known price/);
      assert.equal(lines.length, 12);
      // Aligned: every row as long as the header once padded (numbers end in one column).
      const ends = lines.slice(2, 10).map((line) => line.length);
      assert.equal(new Set(ends).size, 1);
    });

    await t.step("without unpriced requests, no marks and no note", async () => {
      const result = await runUsage(["--key", "key_alpha"], dbPath);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split("\n");
      assert.match(lines[3] ?? "", /^key_alpha +claude-sonnet-4-5 +1 +0 +100 +20 +120 +0\.000600$/);
      assert.match(lines.at(-1) ?? "", /^TOTAL \(1 key\) +3 +1 +300 +60 +360 +0\.001050$/);
      assert.doesNotMatch(result.stdout, /\*/);
    });

    await t.step("--by day --json: one row per UTC day of the window", async () => {
      const seeded = Date.now();
      const result = await runUsage(["--by", "day", "--since", "3d", "--json"], dbPath);
      assert.equal(result.code, 0, result.stderr);
      const parsed = JSON.parse(result.stdout);
      assert.deepEqual(Object.keys(parsed), ["since", "until", "by", "rows"]);
      assert.equal(parsed.by, "day");
      assert.equal(Date.parse(parsed.until) - Date.parse(parsed.since), 3 * DAY);
      const days: string[] = parsed.rows.map((r: { day: string }) => r.day);
      assert.equal(days.length, 4, "3 days back to now touch 4 UTC days");
      assert.equal(days[0], parsed.since.slice(0, 10));
      assert.equal(days.at(-1), parsed.until.slice(0, 10));
      for (const r of parsed.rows) {
        assert.deepEqual(Object.keys(r), [
          "day",
          "requests",
          "errors",
          "prompt_tokens",
          "completion_tokens",
          "total_tokens",
          "cost_usd",
          "unpriced_requests",
        ]);
      }
      // Each seeded request of the window on its UTC day (the 10-day-old one is outside).
      const expected = new Map(days.map((day) => [day, { requests: 0, cost: 0, unpriced: 0 }]));
      for (const [age, fields] of SEED.filter(([age]) => age < 3 * DAY)) {
        const day = expected.get(new Date(seeded - age).toISOString().slice(0, 10));
        assert.ok(day !== undefined);
        day.requests++;
        day.cost = Math.round((day.cost + (fields.cost_usd ?? 0.00045)) * 1e6) / 1e6;
        if (fields.unpriced === true) day.unpriced++;
      }
      assert.deepEqual(
        parsed.rows.map((r: Record<string, number>) => ({
          requests: r.requests,
          cost: r.cost_usd,
          unpriced: r.unpriced_requests,
        })),
        [...expected.values()],
      );
    });

    await t.step("--by day: the table has a line per day and a total", async () => {
      const result = await runUsage(["--by", "day", "--since", "2d"], dbPath);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split("\n");
      assert.match(lines[0] ?? "", /^Usage by day from \S+Z to \S+Z$/);
      assert.match(lines[2] ?? "", /^DAY \(UTC\) +REQUESTS +ERRORS .* +COST USD $/);
      for (const line of lines.slice(3, 6)) assert.match(line, /^\d{4}-\d{2}-\d{2} +\d+ +\d+ /);
      assert.match(lines[6] ?? "", /^-+ +-+/);
      assert.match(lines[7] ?? "", /^TOTAL \(3 days\) +\d+ +2 .* +0\.00(0450|1050)\*$/);
      assert.match(lines.at(-1) ?? "", /^\* includes 1 request of models with no known price/);
    });

    await t.step("--help", async () => {
      const result = await runUsage(["--help"], dbPath);
      assert.equal(result.code, 0);
      assert.match(
        result.stdout,
        /^Usage: choreoai usage \[--key ID\] \[--since DURATION\] \[--by key\|day\] \[--json\]/,
      );
    });

    const bad = [
      { args: ["--bogus"], message: /Unknown option '--bogus'/ },
      { args: ["--by", "week"], message: /Cannot group --by "week": expected key or day/ },
      { args: ["--by"], message: /--by/ },
      { args: ["--since", "1w"], message: /Cannot parse --since "1w"/ },
      { args: ["--since", "1.5h"], message: /Cannot parse --since "1.5h"/ },
      { args: ["--since", "-3d"], message: /--since/ },
      { args: ["--since"], message: /--since/ },
      { args: ["--key"], message: /--key/ },
      { args: ["--key", ""], message: /empty --key/ },
      { args: ["--json=yes"], message: /--json/ },
      { args: ["list"], message: /Unexpected argument 'list'/ },
    ];
    for (const { args, message } of bad) {
      await t.step(`usage ${JSON.stringify(args)} exits 2`, async () => {
        const result = await runUsage(args, dbPath);
        assert.equal(result.code, 2, result.stdout);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, message);
        assert.match(result.stderr, /choreoai usage --help/);
      });
    }

    await t.step("a missing database reads as no usage and is not created", async () => {
      const missing = `${dir}/missing.db`;
      const json = await runUsage(["--json"], missing);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout).rows, []);
      const table = await runUsage([], missing);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^No usage recorded from \S+Z to \S+Z\.\n$/);
      await assert.rejects(Deno.stat(missing), Deno.errors.NotFound);
    });

    await t.step("a file that is not a database exits 1", async () => {
      const broken = `${dir}/broken.db`;
      await Deno.writeTextFile(broken, "this is not a SQLite database, not even close to one");
      const result = await runUsage([], broken);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Cannot read usage database/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
