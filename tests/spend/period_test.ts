import assert from "node:assert/strict";
import { describePeriod, periodWindow } from "../../src/spend/period.ts";

Deno.test("periodWindow() gives the UTC day, the UTC month, or all time", async (t) => {
  const cases: [string, Parameters<typeof periodWindow>, number, number | undefined][] = [
    [
      "a day, mid-afternoon",
      ["day", Date.UTC(2027, 2, 15, 13, 5)],
      Date.UTC(2027, 2, 15),
      Date.UTC(2027, 2, 16),
    ],
    [
      "a day's first millisecond",
      ["day", Date.UTC(2027, 2, 15)],
      Date.UTC(2027, 2, 15),
      Date.UTC(2027, 2, 16),
    ],
    [
      "a day's last millisecond",
      ["day", Date.UTC(2027, 2, 16) - 1],
      Date.UTC(2027, 2, 15),
      Date.UTC(2027, 2, 16),
    ],
    [
      "the last day of a year",
      ["day", Date.UTC(2026, 11, 31, 23)],
      Date.UTC(2026, 11, 31),
      Date.UTC(2027, 0, 1),
    ],
    [
      "29 February",
      ["day", Date.UTC(2028, 1, 29, 12)],
      Date.UTC(2028, 1, 29),
      Date.UTC(2028, 2, 1),
    ],
    ["a month", ["month", Date.UTC(2027, 2, 15, 13)], Date.UTC(2027, 2, 1), Date.UTC(2027, 3, 1)],
    [
      "a month's first millisecond",
      ["month", Date.UTC(2027, 2, 1)],
      Date.UTC(2027, 2, 1),
      Date.UTC(2027, 3, 1),
    ],
    [
      "a month's last millisecond",
      ["month", Date.UTC(2027, 3, 1) - 1],
      Date.UTC(2027, 2, 1),
      Date.UTC(2027, 3, 1),
    ],
    [
      "December rolls into January",
      ["month", Date.UTC(2026, 11, 25)],
      Date.UTC(2026, 11, 1),
      Date.UTC(2027, 0, 1),
    ],
    [
      "February of a leap year",
      ["month", Date.UTC(2028, 1, 29)],
      Date.UTC(2028, 1, 1),
      Date.UTC(2028, 2, 1),
    ],
    ["total", ["total", Date.UTC(2027, 2, 15)], 0, undefined],
  ];
  for (const [name, args, start, resetsAt] of cases) {
    await t.step(name, () => assert.deepEqual(periodWindow(...args), { start, resetsAt }));
  }
});

Deno.test("periodWindow() is in UTC whatever the local time zone says", () => {
  // 23:30 UTC on 31 January is already 1 February east of Greenwich: still January here.
  const window = periodWindow("month", Date.parse("2027-02-01T00:30:00+01:00"));
  assert.deepEqual(window, { start: Date.UTC(2027, 0, 1), resetsAt: Date.UTC(2027, 1, 1) });
});

Deno.test("describePeriod() says the period in a message", () => {
  assert.equal(describePeriod("day"), "per day (UTC)");
  assert.equal(describePeriod("month"), "per month (UTC)");
  assert.equal(describePeriod("total"), "in total");
});
