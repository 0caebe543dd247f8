import assert from "node:assert/strict";
import { toCsv } from "../../src/admin/api/csv.ts";

Deno.test("toCsv() quotes what needs it and defuses spreadsheet formulas", () => {
  const csv = toCsv(["model", "requests", "note"], [
    { model: "gpt-4o", requests: 3, note: null },
    { model: 'a "quoted", name', requests: 0, note: "line\nbreak" },
    { model: '=HYPERLINK("x")', requests: 1, note: "+1" },
    { model: "-", requests: 2, note: "-cmd" },
  ]);
  assert.equal(
    csv,
    "model,requests,note\r\n" +
      "gpt-4o,3,\r\n" +
      '"a ""quoted"", name",0,"line\nbreak"\r\n' +
      `"'=HYPERLINK(""x"")",1,'+1\r\n` +
      "-,2,'-cmd\r\n",
  );
});
