import assert from "node:assert/strict";
import { developmentPrincipal, type Principal } from "../../src/auth/verifier.ts";
import {
  budgetFor,
  type RequestBudget,
  setBudgetHeaders,
  settledCost,
} from "../../src/routes/budgets.ts";

const MARCH_15 = Date.UTC(2027, 2, 15, 13);

function principal(budget: Principal["budget"]): Principal {
  return {
    ...developmentPrincipal("sk-…"),
    id: "key_Next000002",
    budget,
    spender: { id: "key_Root000001", keyIds: ["key_Root000001", "key_Next000002"] },
  };
}

function reserved(amount: number, spent: number | undefined = amount): RequestBudget {
  const budget = budgetFor(principal({ usd: 10, period: "month" }), undefined, MARCH_15);
  assert.ok(budget !== undefined);
  return { ...budget, state: "reserved", reserved: amount, spent };
}

Deno.test("budgetFor() takes the key's own budget, else the default, else none", async (t) => {
  await t.step("its own wins over the default", () => {
    const budget = budgetFor(principal({ usd: 5, period: "day" }), {
      usd: 100,
      period: "month",
    }, MARCH_15);
    assert.deepEqual(budget, {
      account: {
        id: "key_Root000001",
        keyIds: ["key_Root000001", "key_Next000002"],
        limit: 5_000_000,
        period: "day",
        start: Date.UTC(2027, 2, 15),
        resetsAt: Date.UTC(2027, 2, 16),
      },
      keyId: "key_Next000002",
      state: "open",
      reserved: 0,
      spent: undefined,
      cost: undefined,
    });
  });
  await t.step("the default", () => {
    const budget = budgetFor(principal(null), { usd: 100, period: "total" }, MARCH_15);
    assert.equal(budget?.account.limit, 100_000_000);
    assert.equal(budget?.account.resetsAt, undefined);
  });
  await t.step("development mode takes the default", () => {
    const budget = budgetFor(developmentPrincipal("sk-…"), { usd: 1, period: "day" }, MARCH_15);
    assert.equal(budget?.account.id, "dev");
  });
  await t.step(
    "none",
    () => assert.equal(budgetFor(principal(null), undefined, MARCH_15), undefined),
  );
});

Deno.test("settledCost() is the priced usage; without usage, 0 after an error, else the reservation", async (t) => {
  const cases: [string, { status: number; hasUsage: boolean; priced: number }, number][] = [
    ["a whole answer with usage", { status: 200, hasUsage: true, priced: 1_234 }, 1_234],
    ["a stream that reported usage", { status: 200, hasUsage: true, priced: 40_000 }, 40_000],
    ["an unpriced model", { status: 200, hasUsage: true, priced: 0 }, 0],
    ["an error before any output", { status: 502, hasUsage: false, priced: 0 }, 0],
    ["a 4xx from the provider", { status: 400, hasUsage: false, priced: 0 }, 0],
    ["a cut stream without usage", { status: 200, hasUsage: false, priced: 0 }, 5_000],
    ["an error that reported usage", { status: 502, hasUsage: true, priced: 300 }, 300],
  ];
  for (const [name, outcome, cost] of cases) {
    await t.step(name, () => assert.equal(settledCost(reserved(5_000), outcome), cost));
  }
});

Deno.test("setBudgetHeaders() says what is left, and what a whole answer cost", async (t) => {
  await t.step("a whole answer", () => {
    const headers = new Headers();
    setBudgetHeaders(headers, { ...reserved(20_000, 2_520_000), cost: 12_500 }, { whole: true });
    assert.equal(headers.get("x-choreoai-budget-remaining-usd"), "7.48");
    assert.equal(headers.get("x-choreoai-cost-usd"), "0.0125");
  });
  await t.step("a stream: no cost yet", () => {
    const headers = new Headers();
    setBudgetHeaders(headers, reserved(20_000, 2_520_000), { whole: false });
    assert.equal(headers.get("x-choreoai-budget-remaining-usd"), "7.48");
    assert.equal(headers.get("x-choreoai-cost-usd"), null);
  });
  await t.step("overspent: nothing left, never negative", () => {
    const headers = new Headers();
    setBudgetHeaders(headers, reserved(0, 10_400_000), { whole: true });
    assert.equal(headers.get("x-choreoai-budget-remaining-usd"), "0.00");
    assert.equal(headers.get("x-choreoai-cost-usd"), "0.00");
  });
  await t.step("unknown spend (the ledger failed): no remaining header", () => {
    const headers = new Headers();
    setBudgetHeaders(headers, { ...reserved(0), spent: undefined }, { whole: false });
    assert.equal(headers.has("x-choreoai-budget-remaining-usd"), false);
  });
});
