import assert from "node:assert/strict";
import {
  type BudgetAccount,
  budgetAccount,
  budgetRefusal,
  BudgetSchema,
  fits,
  formatResetTime,
  formatUsd,
} from "../../src/spend/budget.ts";

const MARCH_15 = Date.UTC(2027, 2, 15, 13);

function account(overrides: Partial<BudgetAccount> = {}): BudgetAccount {
  return {
    id: "key_Root000001",
    keyIds: ["key_Root000001"],
    limit: 10_000_000,
    period: "month",
    start: Date.UTC(2027, 2, 1),
    resetsAt: Date.UTC(2027, 3, 1),
    ...overrides,
  };
}

Deno.test("fits() admits what fits in what is left, and nothing once the budget is used up", async (t) => {
  const cases: [string, [number, number, number], boolean][] = [
    ["nothing spent, a small amount", [100, 0, 1], true],
    ["exactly what is left", [100, 60, 40], true],
    ["one micro-dollar too many", [100, 60, 41], false],
    ["the whole budget at once", [100, 0, 100], true],
    ["more than the whole budget", [100, 0, 101], false],
    ["a free request under the budget", [100, 99, 0], true],
    ["a free request once the budget is used up", [100, 100, 0], false],
    ["a free request after an overspend", [100, 130, 0], false],
  ];
  for (const [name, [limit, spent, amount], expected] of cases) {
    await t.step(name, () => assert.equal(fits(limit, spent, amount), expected));
  }
});

Deno.test("formatUsd() writes micro-USD as dollars: two to six decimals, no exponent", async (t) => {
  const cases: [number, string][] = [
    [0, "0.00"],
    [100_000_000, "100.00"],
    [10_000, "0.01"],
    [1_234_500, "1.2345"],
    [100_000, "0.10"],
    [7, "0.000007"],
    [123_456_789, "123.456789"],
    [1_000_000_000_000_000, "1000000000.00"],
    [-2_500_000, "-2.50"],
  ];
  for (const [micro, text] of cases) await t.step(text, () => assert.equal(formatUsd(micro), text));
});

Deno.test("formatResetTime() is ISO 8601 in UTC without milliseconds", () => {
  assert.equal(formatResetTime(Date.UTC(2027, 3, 1)), "2027-04-01T00:00:00Z");
  assert.equal(formatResetTime(Date.UTC(2027, 3, 1) + 250), "2027-04-01T00:00:00.250Z");
});

Deno.test("budgetAccount() counts a budget for its spender in the current period", async (t) => {
  const spender = { id: "key_Root000001", keyIds: ["key_Root000001", "key_Next000002"] };
  await t.step("month", () => {
    assert.deepEqual(budgetAccount(spender, { usd: 10.5, period: "month" }, MARCH_15), {
      id: "key_Root000001",
      keyIds: ["key_Root000001", "key_Next000002"],
      limit: 10_500_000,
      period: "month",
      start: Date.UTC(2027, 2, 1),
      resetsAt: Date.UTC(2027, 3, 1),
    });
  });
  await t.step("total", () => {
    const total = budgetAccount(spender, { usd: 0.000001, period: "total" }, MARCH_15);
    assert.equal(total.limit, 1);
    assert.equal(total.start, 0);
    assert.equal(total.resetsAt, undefined);
  });
});

Deno.test("BudgetSchema accepts dollars above 0 with a day, month or total period", async (t) => {
  const cases: [string, unknown, boolean][] = [
    ["a monthly budget", { usd: 100, period: "month" }, true],
    ["a daily budget in cents", { usd: 0.25, period: "day" }, true],
    ["one micro-dollar in total", { usd: 0.000001, period: "total" }, true],
    ["zero", { usd: 0, period: "month" }, false],
    ["below a micro-dollar", { usd: 0.0000004, period: "month" }, false],
    ["negative", { usd: -1, period: "month" }, false],
    ["a string amount", { usd: "100", period: "month" }, false],
    ["infinite", { usd: Infinity, period: "month" }, false],
    ["an unknown period", { usd: 1, period: "week" }, false],
    ["no period", { usd: 1 }, false],
    ["an unknown field", { usd: 1, period: "day", currency: "EUR" }, false],
  ];
  for (const [name, value, ok] of cases) {
    await t.step(name, () => assert.equal(BudgetSchema.safeParse(value).success, ok));
  }
});

Deno.test("budgetRefusal() names the budget, period, spend and reset; Retry-After within the hour", async (t) => {
  const cases: {
    name: string;
    account: BudgetAccount;
    now: number;
    message: string;
    retryAfter: string | undefined;
  }[] = [
    {
      name: "a monthly budget mid-month",
      account: account(),
      now: MARCH_15,
      message: "Budget exceeded for key key_Next000002: its budget is $10.00 per month (UTC), " +
        "of which $9.99 is spent or reserved, and this request may cost up to $0.02. It resets " +
        "at 2027-04-01T00:00:00Z.",
      retryAfter: undefined,
    },
    {
      name: "a daily budget 61 minutes before midnight",
      account: account({
        period: "day",
        start: Date.UTC(2027, 2, 15),
        resetsAt: Date.UTC(2027, 2, 16),
      }),
      now: Date.UTC(2027, 2, 15, 22, 59),
      message: "Budget exceeded for key key_Next000002: its budget is $10.00 per day (UTC), of " +
        "which $9.99 is spent or reserved, and this request may cost up to $0.02. It resets at " +
        "2027-03-16T00:00:00Z.",
      retryAfter: undefined,
    },
    {
      name: "a daily budget 90 seconds before midnight",
      account: account({
        period: "day",
        start: Date.UTC(2027, 2, 15),
        resetsAt: Date.UTC(2027, 2, 16),
      }),
      now: Date.UTC(2027, 2, 16) - 89_500,
      message: "Budget exceeded for key key_Next000002: its budget is $10.00 per day (UTC), of " +
        "which $9.99 is spent or reserved, and this request may cost up to $0.02. It resets at " +
        "2027-03-16T00:00:00Z.",
      retryAfter: "90",
    },
    {
      name: "a total budget",
      account: account({ period: "total", start: 0, resetsAt: undefined }),
      now: MARCH_15,
      message: "Budget exceeded for key key_Next000002: its budget is $10.00 in total, of which " +
        "$9.99 is spent or reserved, and this request may cost up to $0.02. It is a total " +
        "budget and does not reset: ask for a larger budget.",
      retryAfter: undefined,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const error = budgetRefusal(c.account, {
        keyId: "key_Next000002",
        spent: 9_990_000,
        requested: 20_000,
        now: c.now,
      });
      assert.equal(error.status, 429);
      assert.equal(error.type, "insufficient_quota");
      assert.equal(error.code, "insufficient_quota");
      assert.equal(error.message, c.message);
      assert.equal(error.headers["x-should-retry"], "false");
      assert.equal(error.headers["retry-after"], c.retryAfter);
    });
  }
});

Deno.test("the README's refusal example is the message the gateway writes", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const example = /`(Budget exceeded for key[^`]+)`/.exec(readme.replaceAll(/\n\s*/g, " "))?.[1];
  assert.ok(example !== undefined, "the README shows a refusal");
  const error = budgetRefusal(
    account({
      id: "key_7Hq2xM9aLp",
      limit: 100_000_000,
      start: Date.UTC(2026, 11, 1),
      resetsAt: Date.UTC(2027, 0, 1),
    }),
    { keyId: "key_7Hq2xM9aLp", spent: 99_990_000, requested: 30_000, now: Date.UTC(2026, 11, 2) },
  );
  assert.equal(error.message, example);
});
