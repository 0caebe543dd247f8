import assert from "node:assert/strict";
import fc from "fast-check";
import { headerListOf } from "../../src/http/h1_request.ts";

/** What fetch makes of the same record (Headers sorts by name; the order is not compared). */
function asFetchWould(record: Record<string, string>): [string, string][] {
  return [...new Headers(record)].sort(([a], [b]) => a.localeCompare(b));
}

function sorted(list: [string, string][]): [string, string][] {
  return [...list].sort(([a], [b]) => a.localeCompare(b));
}

Deno.test("headerListOf() reads a header record as fetch does", async (t) => {
  const cases: [string, Record<string, string>][] = [
    ["names lowercased", { "Content-Type": "application/json", "X-Api-Key": "k" }],
    ["edge whitespace stripped", { accept: " \t text/event-stream \r\n" }],
    ["inner whitespace kept", { authorization: "Bearer  sk-1" }],
    ["one name in two cases joined", { "X-A": "1", "x-a": "2" }],
    ["Latin-1 value", { "x-name": "caf\u00e9\u00a0" }],
    ["empty value", { "x-empty": "" }],
  ];
  for (const [name, record] of cases) {
    await t.step(name, () => assert.deepEqual(sorted(headerListOf(record)), asFetchWould(record)));
  }
  await t.step("what fetch refuses is refused", () => {
    for (
      const record of [
        { "bad name": "x" },
        { "": "x" },
        { "x-a": "a\r\nx-injected: 1" },
        { "x-a": "a\nb" },
        { "x-a": "nul\0" },
        { "x-a": "\u20ac" },
      ]
    ) {
      assert.throws(() => new Headers(record), TypeError);
      assert.throws(() => headerListOf(record), TypeError);
    }
  });
  await t.step("any record fetch accepts gives fetch's pairs", () => {
    const name = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
    const value = fc.string({
      unit: fc.integer({ min: 0x20, max: 0xff }).map(String.fromCharCode),
    });
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 6 }), (record) => {
        assert.deepEqual(sorted(headerListOf(record)), asFetchWould(record));
      }),
      { numRuns: 500 },
    );
  });
});
