import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { readSpend } from "../../src/usage/spend.ts";
import { writeSpendRows } from "../_helpers/spend_db.ts";

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai_spend_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MARCH = Date.UTC(2027, 2, 1);

Deno.test("readSpend() sums the recorded cost of the keys since a time, in micro-USD", async (t) => {
  await withDir(async (dir) => {
    const db = `${dir}/usage.db`;
    writeSpendRows(db, [
      { key_id: "key_A", time: MARCH - 1, cost_usd: 100 }, // February
      { key_id: "key_A", time: MARCH, cost_usd: 0.1 },
      { key_id: "key_A", time: MARCH + 5_000, cost_usd: 0.2 },
      { key_id: "key_B", time: MARCH + 5_000, cost_usd: 1.000001 },
      { key_id: "key_C", time: MARCH + 5_000, cost_usd: 7 },
    ]);
    const cases: [string, string[], number, number][] = [
      ["one key from its period's first millisecond", ["key_A"], MARCH, 300_000],
      ["a rotation chain", ["key_A", "key_B"], MARCH, 1_300_001],
      ["all time", ["key_A"], 0, 100_300_000],
      ["a key with no records", ["key_Z"], 0, 0],
      ["no keys", [], 0, 0],
    ];
    for (const [name, keyIds, since, spent] of cases) {
      await t.step(name, () => assert.equal(readSpend(db, keyIds, since), spent));
    }
  });
});

Deno.test("readSpend() reads a missing file as nothing spent, without creating it", async () => {
  await withDir((dir) => {
    assert.equal(readSpend(`${dir}/none.db`, ["key_A"], 0), 0);
    assert.throws(() => Deno.statSync(`${dir}/none.db`), Deno.errors.NotFound);
  });
});

Deno.test("readSpend() reads a database that records no costs as unknown", async () => {
  await withDir((dir) => {
    const path = `${dir}/usage.db`;
    // Schema 3: requests without cost_usd.
    const db = new DatabaseSync(path);
    db.exec(`
      CREATE TABLE requests (id INTEGER PRIMARY KEY, time INTEGER, key_id TEXT);
      PRAGMA user_version = 3;
    `);
    db.close();
    assert.equal(readSpend(path, ["key_A"], 0), undefined);
  });
});
