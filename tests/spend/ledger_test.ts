import assert from "node:assert/strict";
import type { BudgetAccount } from "../../src/spend/budget.ts";
import { createMemoryLedger, SETTLE_GRACE_MS } from "../../src/spend/ledger.ts";
import { accountFor, LEDGER_CASES, runSteps } from "./_ledger_cases.ts";

const MARCH_15 = Date.UTC(2027, 2, 15);

Deno.test("createMemoryLedger() reserves and settles as the table says", async (t) => {
  for (const c of LEDGER_CASES) {
    await t.step(c.name, async () => {
      const ledger = createMemoryLedger({ recorded: () => c.recorded, now: () => MARCH_15 });
      await runSteps(ledger, accountFor(c.name, c.limit), c.steps);
    });
  }
});

Deno.test("createMemoryLedger() reads the recorded spend once per counter, even for a burst", async () => {
  const reads: [readonly string[], number][] = [];
  const ledger = createMemoryLedger({
    recorded: async (keyIds, since) => {
      reads.push([keyIds, since]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 30;
    },
    now: () => MARCH_15,
  });
  const account = { ...accountFor("burst", 1_000), keyIds: ["key_burst", "key_burst2"] };
  const answers = await Promise.all(
    Array.from({ length: 200 }, () => ledger.reserve(account, 10)),
  );
  assert.equal(answers.filter((a) => a.admitted).length, 97, "(1,000 - 30) / 10, rounded down");
  assert.deepEqual(reads, [[["key_burst", "key_burst2"], Date.UTC(2027, 2, 1)]]);
});

Deno.test("createMemoryLedger() keeps one counter per period: a new period starts from its record", async () => {
  const ledger = createMemoryLedger({
    recorded: (_keyIds, since) => since === Date.UTC(2027, 3, 1) ? 7 : 0,
    now: () => MARCH_15,
  });
  const march = accountFor("periods", 100);
  const april: BudgetAccount = {
    ...march,
    start: Date.UTC(2027, 3, 1),
    resetsAt: Date.UTC(2027, 4, 1),
  };
  assert.deepEqual(await ledger.reserve(march, 100), { admitted: true, spent: 100 });
  assert.deepEqual(await ledger.reserve(april, 10), { admitted: true, spent: 17 });
  // A request reserved in March settles into March, whenever it ends.
  assert.equal(await ledger.settle(march, -40), 60);
  assert.equal(await ledger.peek(april), 17);
});

Deno.test("createMemoryLedger() forgets counters an hour after their period, and beyond maxAccounts", async () => {
  let now = MARCH_15;
  const ledger = createMemoryLedger({ recorded: () => 0, now: () => now, maxAccounts: 3 });
  const day = (name: string, at: number): BudgetAccount => ({
    ...accountFor(name, 100),
    period: "day",
    start: at,
    resetsAt: at + 86_400_000,
  });
  await ledger.reserve(day("a", MARCH_15), 10);
  await ledger.reserve(accountFor("b", 100), 10);
  assert.equal(ledger.size, 2);
  now = MARCH_15 + 86_400_000 + SETTLE_GRACE_MS - 1;
  await ledger.reserve(accountFor("c", 100), 10);
  assert.equal(ledger.size, 3, "still within the grace: a late settlement lands");
  now += 1;
  await ledger.peek(accountFor("b", 100));
  assert.equal(ledger.size, 2, "the day's counter is gone");
  await ledger.reserve(accountFor("d", 100), 10);
  await ledger.reserve(accountFor("e", 100), 10);
  assert.equal(ledger.size, 3, "the least recently used counter went");
  assert.deepEqual(await ledger.reserve(accountFor("c", 100), 0), { admitted: true, spent: 0 });
});

Deno.test("createMemoryLedger() mirrors a shared store and keeps what it adds for it", async () => {
  const ledger = createMemoryLedger({ recorded: () => 0, now: () => MARCH_15 });
  const account = accountFor("mirror", 100);
  ledger.mirror(account, 70);
  assert.equal(ledger.takeUnsynced(account), 0);
  assert.deepEqual(await ledger.reserve(account, 20), { admitted: true, spent: 90 });
  assert.equal(await ledger.settle(account, -5), 85);
  ledger.mirror(account, 72); // the store's answer, without the 15 added here since
  assert.equal(await ledger.peek(account), 87);
  assert.equal(ledger.takeUnsynced(account), 15);
  assert.equal(ledger.takeUnsynced(account), 0);
  ledger.returnUnsynced(account, 15);
  ledger.mirror(account, 72);
  assert.equal(await ledger.peek(account), 87);
});

Deno.test("createMemoryLedger() refuses amounts that are not integers of micro-USD", async (t) => {
  const ledger = createMemoryLedger({ recorded: () => 0, now: () => MARCH_15 });
  const account = accountFor("amounts", 100);
  for (const amount of [-1, 0.5, NaN, 2 ** 60]) {
    await t.step(`reserve ${amount}`, async () => {
      await assert.rejects(ledger.reserve(account, amount), RangeError);
    });
  }
  await t.step("settle 0.5", async () => {
    await assert.rejects(ledger.settle(account, 0.5), RangeError);
  });
  assert.throws(() => createMemoryLedger({ recorded: () => 0, now: Date.now, maxAccounts: 0 }));
});
