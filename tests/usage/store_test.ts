/**
 * The SQLite usage store: batched recording off the request path, exact counts, failures that
 * keep their records, and the read side (`readKeyStats`, `summarizeUsage`).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLogger, type Logger } from "../../src/log.ts";
import { SCHEMA_VERSION } from "../../src/usage/_db.ts";
import {
  openUsageRecorder,
  readKeyStats,
  summarizeUsage,
  summarizeUsageByDay,
  type UsageRecord,
} from "../../src/usage/store.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

/** A logger that keeps its lines, parsed. */
function collectingLogger(): { log: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger((line) => void lines.push(JSON.parse(line)), () => T0);
  return { log, lines };
}

function usageRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    time: T0,
    key_id: "key_a",
    endpoint: "/v1/chat/completions",
    model: "gpt-4o",
    provider: "openai",
    status: 200,
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    latency_ms: 120.5,
    ttfb_ms: 30,
    ...overrides,
  };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-usage-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Reads one value straight from the file, bypassing the code under test. */
function queryOne(path: string, sql: string): Record<string, unknown> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return { ...db.prepare(sql).get() };
  } finally {
    db.close();
  }
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function requestCount(path: string): number {
  return Number(queryOne(path, "SELECT COUNT(*) AS n FROM requests").n);
}

Deno.test("openUsageRecorder() writes only when a flush, a full batch or the timer says so", async (t) => {
  await t.step("nothing is written before flush(), everything after", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/u.db`;
      const { log } = collectingLogger();
      const recorder = openUsageRecorder(path, { log, flushIntervalMs: HOUR, maxBatch: 1_000 });
      try {
        for (let i = 0; i < 10; i++) recorder.record(usageRecord({ time: T0 + i }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(requestCount(path), 0);
        assert.equal(readKeyStats(path).size, 0);
        await recorder.flush();
        assert.equal(requestCount(path), 10);
        assert.deepEqual(readKeyStats(path).get("key_a"), {
          last_used_at: new Date(T0 + 9).toISOString(),
          requests: 10,
        });
      } finally {
        await recorder.close();
      }
    });
  });

  await t.step("a full batch is written without flush()", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/u.db`;
      const { log } = collectingLogger();
      const recorder = openUsageRecorder(path, { log, flushIntervalMs: HOUR, maxBatch: 5 });
      try {
        for (let i = 0; i < 4; i++) recorder.record(usageRecord());
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(requestCount(path), 0);
        recorder.record(usageRecord());
        await waitFor(() => requestCount(path) === 5, "a full batch to be written");
      } finally {
        await recorder.close();
      }
    });
  });

  await t.step("the timer writes what is queued", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/u.db`;
      const { log } = collectingLogger();
      const recorder = openUsageRecorder(path, { log, flushIntervalMs: 10 });
      try {
        recorder.record(usageRecord());
        await waitFor(() => requestCount(path) === 1, "the timer to write a record");
      } finally {
        await recorder.close();
      }
    });
  });

  await t.step("close() writes what is still queued", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/u.db`;
      const { log } = collectingLogger();
      const recorder = openUsageRecorder(path, { log, flushIntervalMs: HOUR });
      recorder.record(usageRecord());
      recorder.record(usageRecord());
      await recorder.close();
      assert.equal(requestCount(path), 2);
    });
  });
});

Deno.test("openUsageRecorder() counts 1,000 concurrent records exactly, across close and reopen", async (t) => {
  const cases = [
    { name: "default batching", options: {} },
    { name: "small batches and a 1 ms timer", options: { maxBatch: 7, flushIntervalMs: 1 } },
  ];
  for (const { name, options } of cases) {
    await t.step(name, async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/u.db`;
        const { log, lines } = collectingLogger();
        const recorder = openUsageRecorder(path, { log, ...options });
        await Promise.all(
          Array.from({ length: 1_000 }, async (_, i) => {
            await new Promise((resolve) => setTimeout(resolve, i % 7));
            recorder.record(usageRecord({ time: T0 + i, status: i % 10 === 0 ? 500 : 200 }));
          }),
        );
        await recorder.close();

        const reopened = openUsageRecorder(path, { log });
        await reopened.close();
        assert.equal(requestCount(path), 1_000);
        assert.deepEqual(
          readKeyStats(path),
          new Map([["key_a", { last_used_at: new Date(T0 + 999).toISOString(), requests: 1_000 }]]),
        );
        assert.deepEqual(
          queryOne(path, "SELECT requests, errors, prompt_tokens, total_tokens FROM key_stats"),
          { requests: 1_000, errors: 100, prompt_tokens: 10_000, total_tokens: 15_000 },
        );
        const summary = summarizeUsage(path, { since: T0, until: T0 + DAY });
        assert.equal(summary.rows.length, 1);
        assert.equal(summary.rows[0]?.requests, 1_000);
        assert.deepEqual(lines.filter((line) => line.level !== "info"), []);
      });
    });
  }
});

Deno.test("key_stats keeps the latest time and counts statuses of 400 and above as errors", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log, flushIntervalMs: HOUR });
    try {
      // Out of order inside a batch, and an older batch after a newer one.
      recorder.record(usageRecord({ time: T0 + 5_000 }));
      recorder.record(usageRecord({ time: T0 + 9_000 }));
      recorder.record(usageRecord({ time: T0 + 1_000 }));
      await recorder.flush();
      recorder.record(usageRecord({ time: T0 - DAY }));
      await recorder.flush();
    } finally {
      await recorder.close();
    }
    assert.deepEqual(readKeyStats(path).get("key_a"), {
      last_used_at: "2026-11-25T12:00:09.000Z",
      requests: 4,
    });
  });

  const cases = [
    { status: 200, error: false },
    { status: 204, error: false },
    { status: 399, error: false },
    { status: 400, error: true },
    { status: 401, error: true },
    { status: 429, error: true },
    { status: 500, error: true },
    { status: 504, error: true },
  ];
  for (const { status, error } of cases) {
    await t.step(`status ${status} ${error ? "is" : "is not"} an error`, async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/u.db`;
        const { log } = collectingLogger();
        const recorder = openUsageRecorder(path, { log });
        recorder.record(usageRecord({ status }));
        recorder.record(usageRecord({ status: 200 }));
        await recorder.close();
        assert.deepEqual(queryOne(path, "SELECT requests, errors FROM key_stats"), {
          requests: 2,
          errors: error ? 1 : 0,
        });
        const [row] = summarizeUsage(path, { since: T0, until: T0 }).rows;
        assert.equal(row?.errors, error ? 1 : 0);
      });
    });
  }
});

Deno.test("summarizeUsage() sums by key and model, filtered by key and time", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log });
    recorder.record(usageRecord({ key_id: "key_b", time: T0 - HOUR, model: "claude-sonnet-4-5" }));
    recorder.record(usageRecord({ key_id: "key_a", time: T0 - HOUR, status: 429 }));
    recorder.record(usageRecord({ key_id: "key_a", time: T0 - 2 * HOUR }));
    recorder.record(usageRecord({ key_id: "key_a", time: T0 - 2 * DAY, model: null }));
    recorder.record(usageRecord({ key_id: "key_b", time: T0 - 10 * DAY }));
    recorder.record(usageRecord({ key_id: "key_a", time: T0 + HOUR }));
    await recorder.close();

    const tokens = (n: number) => ({
      prompt_tokens: 10 * n,
      completion_tokens: 5 * n,
      total_tokens: 15 * n,
      cost_usd: 0,
      unpriced_requests: 0,
    });
    const cases = [
      {
        name: "every key since 7 days",
        query: { since: T0 - 7 * DAY, until: T0 },
        rows: [
          { key_id: "key_a", model: "-", requests: 1, errors: 0, ...tokens(1) },
          { key_id: "key_a", model: "gpt-4o", requests: 2, errors: 1, ...tokens(2) },
          { key_id: "key_b", model: "claude-sonnet-4-5", requests: 1, errors: 0, ...tokens(1) },
        ],
      },
      {
        name: "one key since 7 days",
        query: { keyId: "key_b", since: T0 - 7 * DAY, until: T0 },
        rows: [
          { key_id: "key_b", model: "claude-sonnet-4-5", requests: 1, errors: 0, ...tokens(1) },
        ],
      },
      {
        name: "every key since 90 minutes",
        query: { since: T0 - 90 * 60_000, until: T0 },
        rows: [
          { key_id: "key_a", model: "gpt-4o", requests: 1, errors: 1, ...tokens(1) },
          { key_id: "key_b", model: "claude-sonnet-4-5", requests: 1, errors: 0, ...tokens(1) },
        ],
      },
      {
        name: "every key since 30 days",
        query: { since: T0 - 30 * DAY, until: T0 },
        rows: [
          { key_id: "key_a", model: "-", requests: 1, errors: 0, ...tokens(1) },
          { key_id: "key_a", model: "gpt-4o", requests: 2, errors: 1, ...tokens(2) },
          { key_id: "key_b", model: "claude-sonnet-4-5", requests: 1, errors: 0, ...tokens(1) },
          { key_id: "key_b", model: "gpt-4o", requests: 1, errors: 0, ...tokens(1) },
        ],
      },
      {
        name: "an unknown key",
        query: { keyId: "key_zzz", since: T0 - 30 * DAY, until: T0 },
        rows: [],
      },
    ];
    for (const { name, query, rows } of cases) {
      await t.step(name, () => {
        assert.deepEqual(summarizeUsage(path, query), {
          since: new Date(query.since).toISOString(),
          until: new Date(query.until).toISOString(),
          rows,
        });
      });
    }
  });
});

Deno.test("readKeyStats() and summarizeUsage() read a missing database as empty, without creating it", async (t) => {
  await withTempDir(async (dir) => {
    for (const path of [`${dir}/missing.db`, `${dir}/no/such/dir/u.db`]) {
      await t.step(path.slice(dir.length), async () => {
        assert.deepEqual(readKeyStats(path), new Map());
        assert.deepEqual(summarizeUsage(path, { since: 0, until: T0 }), {
          since: "1970-01-01T00:00:00.000Z",
          until: "2026-11-25T12:00:00.000Z",
          rows: [],
        });
        assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
      });
    }
  });
});

Deno.test("readKeyStats() reads an empty file as no usage", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/empty.db`;
    await Deno.writeFile(path, new Uint8Array());
    assert.deepEqual(readKeyStats(path), new Map());
    assert.deepEqual(summarizeUsage(path, { since: 0, until: T0 }).rows, []);
  });
});

Deno.test("a failed write keeps its batch for the next flush", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log, lines } = collectingLogger();
    const recorder = openUsageRecorder(path, { log, flushIntervalMs: HOUR, busyTimeoutMs: 10 });
    // Another writer holds the write lock (chmod would not stop a test running as root).
    const blocker = new DatabaseSync(path);
    try {
      blocker.exec("BEGIN IMMEDIATE");
      recorder.record(usageRecord({ time: T0 + 1 }));
      recorder.record(usageRecord({ time: T0 + 2 }));
      await recorder.flush();
      assert.equal(requestCount(path), 0);
      const failures = lines.filter((line) => line.level === "error");
      assert.equal(failures.length, 1);
      assert.match(failures[0]?.msg ?? "", /cannot write usage records: keeping them/);
      assert.match(JSON.stringify(failures[0]), /locked|busy/i);

      recorder.record(usageRecord({ time: T0 + 3 }));
      blocker.exec("ROLLBACK");
      await recorder.flush();
      assert.equal(requestCount(path), 3);
      assert.deepEqual(readKeyStats(path).get("key_a"), {
        last_used_at: new Date(T0 + 3).toISOString(),
        requests: 3,
      });
      assert.deepEqual(
        queryOne(
          path,
          `SELECT group_concat(d) AS times FROM (SELECT time - ${T0} AS d FROM requests ORDER BY id)`,
        ),
        { times: "1,2,3" },
      );
    } finally {
      blocker.close();
      await recorder.close();
    }
  });
});

Deno.test("openUsageRecorder() drops the oldest records past its bound, and says how many", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log, lines } = collectingLogger();
    const recorder = openUsageRecorder(path, {
      log,
      flushIntervalMs: HOUR,
      maxBatch: 100,
      maxQueued: 100,
    });
    try {
      for (let i = 0; i < 150; i++) recorder.record(usageRecord({ time: T0 + i }));
      await recorder.flush();
    } finally {
      await recorder.close();
    }
    assert.deepEqual(
      queryOne(path, `SELECT COUNT(*) AS n, MIN(time) - ${T0} AS first FROM requests`),
      {
        n: 100,
        first: 50,
      },
    );
    const dropped = lines.filter((line) => line.msg.startsWith("usage queue full"));
    assert.equal(dropped.length, 1);
    assert.equal((dropped[0] as { dropped?: number } | undefined)?.dropped, 50);
  });
});

Deno.test("record() after close() drops the record and logs once", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log, lines } = collectingLogger();
    const recorder = openUsageRecorder(path, { log });
    recorder.record(usageRecord());
    await recorder.close();
    recorder.record(usageRecord());
    recorder.record(usageRecord());
    await recorder.flush();
    await recorder.close();
    assert.equal(requestCount(path), 1);
    assert.deepEqual(lines.map((line) => line.msg), [
      "usage recorder is closed: dropping usage records",
    ]);
  });
});

Deno.test("openUsageRecorder() refuses a database written by a newer schema", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/u.db`;
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    const { log } = collectingLogger();
    assert.throws(
      () => openUsageRecorder(path, { log }),
      new RegExp(`schema version 99 is newer than ${SCHEMA_VERSION}`),
    );
  });
});

/** A database as schema version 3 left it, with one request of 2026-11-24 (no cost). */
function createVersion3(path: string): void {
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE requests (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,
    key_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT, provider TEXT,
    status INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL, latency_ms REAL NOT NULL, ttfb_ms REAL,
    gateway_ms REAL, upstream_ms REAL);
    CREATE TABLE key_stats (key_id TEXT PRIMARY KEY, last_used_at INTEGER NOT NULL,
    requests INTEGER NOT NULL, errors INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO requests VALUES (1, ${T0 - DAY}, 'key_a', '/v1/chat/completions', 'gpt-4o',
      'openai', 200, 10, 5, 15, 100, 10, 1, 99);
    INSERT INTO key_stats VALUES ('key_a', ${T0 - DAY}, 1, 0, 10, 5, 15);
    PRAGMA user_version = 3;`);
  db.close();
}

Deno.test("schema version 4 records each request's cost and whether it was unpriced", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log });
    recorder.record(usageRecord({ cost_usd: 0.002875, unpriced: false }));
    recorder.record(usageRecord({ model: "llama", cost_usd: 0, unpriced: true }));
    recorder.record(usageRecord({ cost_usd: 0.1234564 })); // rounded to the micro-dollar
    recorder.record(usageRecord({ cost_usd: null })); // not priced (no pricing)
    recorder.record(usageRecord({})); // written by code that does not price
    await recorder.close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      assert.deepEqual(
        db.prepare("SELECT cost_usd, unpriced FROM requests ORDER BY id").all().map((row) => ({
          ...row,
        })),
        [
          { cost_usd: 0.002875, unpriced: 0 },
          { cost_usd: 0, unpriced: 1 },
          { cost_usd: 0.123456, unpriced: 0 },
          { cost_usd: null, unpriced: null },
          { cost_usd: null, unpriced: null },
        ],
      );
      assert.deepEqual({ ...db.prepare("SELECT cost_usd FROM key_stats").get() }, {
        cost_usd: 0.126331,
      });
    } finally {
      db.close();
    }
  });
});

Deno.test("key_stats sums costs exactly, to the micro-dollar, over many batches", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log, maxBatch: 7 });
    // 0.1 + 0.2 is not 0.3 in floating point; 1,000 × $0.000123 must be $0.123 exactly.
    for (let i = 0; i < 1_000; i++) recorder.record(usageRecord({ cost_usd: 0.000123 }));
    await recorder.close();
    assert.equal(queryOne(path, "SELECT cost_usd FROM key_stats").cost_usd, 0.123);
    const [row] = summarizeUsage(path, { since: T0, until: T0 }).rows;
    assert.equal(row?.cost_usd, 0.123);
  });
});

Deno.test("a version 3 database is migrated to version 4; its old requests cost 0", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    createVersion3(path);
    // Read before any migration: the read side never writes, and reads no cost.
    const before = summarizeUsage(path, { since: T0 - 2 * DAY, until: T0 });
    assert.deepEqual(before.rows.map((r) => [r.requests, r.cost_usd, r.unpriced_requests]), [
      [1, 0, 0],
    ]);
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log });
    recorder.record(usageRecord({ cost_usd: 0.5 }));
    await recorder.close();
    assert.equal(queryOne(path, "PRAGMA user_version").user_version, SCHEMA_VERSION);
    assert.deepEqual(queryOne(path, "SELECT requests, cost_usd FROM key_stats"), {
      requests: 2,
      cost_usd: 0.5,
    });
    const after = summarizeUsage(path, { since: T0 - 2 * DAY, until: T0 });
    assert.deepEqual(after.rows.map((r) => [r.requests, r.cost_usd, r.unpriced_requests]), [
      [2, 0.5, 0],
    ]);
  });
});

Deno.test("summarizeUsage() sums costs and unpriced requests by key and model", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log });
    recorder.record(usageRecord({ cost_usd: 0.000001 }));
    recorder.record(usageRecord({ cost_usd: 0.25 }));
    recorder.record(usageRecord({ model: "llama", cost_usd: 0, unpriced: true }));
    recorder.record(usageRecord({ model: "llama", cost_usd: 0, unpriced: true }));
    recorder.record(usageRecord({ model: "choreoai/echo", cost_usd: 0 }));
    await recorder.close();
    const rows = summarizeUsage(path, { since: T0, until: T0 }).rows;
    assert.deepEqual(rows.map((r) => [r.model, r.requests, r.cost_usd, r.unpriced_requests]), [
      ["choreoai/echo", 1, 0, 0],
      ["gpt-4o", 2, 0.250001, 0],
      ["llama", 2, 0, 2],
    ]);
  });
});

Deno.test("summarizeUsageByDay() gives one row per UTC day of the window, empty days too", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/u.db`;
    const { log } = collectingLogger();
    const recorder = openUsageRecorder(path, { log });
    const midnight = Date.UTC(2026, 10, 25); // T0 is 12:00 UTC that day
    recorder.record(usageRecord({ time: midnight, cost_usd: 0.01 }));
    recorder.record(usageRecord({ time: T0, cost_usd: 0.02, status: 500 }));
    recorder.record(usageRecord({ time: midnight - 1, cost_usd: 0.04 })); // 23:59:59.999 the day before
    recorder.record(
      usageRecord({ time: T0 - 3 * DAY, key_id: "key_b", unpriced: true, cost_usd: 0 }),
    );
    recorder.record(usageRecord({ time: T0 - 10 * DAY, cost_usd: 9 })); // outside the window
    await recorder.close();
    const day = (date: string, requests: number, errors: number, cost: number, unpriced = 0) => ({
      day: date,
      requests,
      errors,
      prompt_tokens: 10 * requests,
      completion_tokens: 5 * requests,
      total_tokens: 15 * requests,
      cost_usd: cost,
      unpriced_requests: unpriced,
    });
    await t.step("every key over 4 days", () => {
      assert.deepEqual(summarizeUsageByDay(path, { since: T0 - 4 * DAY, until: T0 }), {
        since: "2026-11-21T12:00:00.000Z",
        until: "2026-11-25T12:00:00.000Z",
        rows: [
          day("2026-11-21", 0, 0, 0),
          day("2026-11-22", 1, 0, 0, 1),
          day("2026-11-23", 0, 0, 0),
          day("2026-11-24", 1, 0, 0.04),
          day("2026-11-25", 2, 1, 0.03),
        ],
      });
    });
    await t.step("one key", () => {
      const series = summarizeUsageByDay(path, { keyId: "key_b", since: T0 - 4 * DAY, until: T0 });
      assert.deepEqual(series.rows.map((r) => [r.day, r.requests]), [
        ["2026-11-21", 0],
        ["2026-11-22", 1],
        ["2026-11-23", 0],
        ["2026-11-24", 0],
        ["2026-11-25", 0],
      ]);
    });
    await t.step("a missing database: zero rows, and it is not created", () => {
      const missing = `${dir}/missing.db`;
      const series = summarizeUsageByDay(missing, { since: T0 - DAY, until: T0 });
      assert.deepEqual(series.rows.map((r) => [r.day, r.requests]), [
        ["2026-11-24", 0],
        ["2026-11-25", 0],
      ]);
      assert.throws(() => Deno.statSync(missing), Deno.errors.NotFound);
    });
  });
});
