import assert from "node:assert/strict";
import { mergeTurns } from "../../src/providers/_turns.ts";

type Turn = { role: "user" | "assistant"; items: string[] };
const isResult = (item: string) => item.startsWith("result:");

Deno.test("mergeTurns() merges runs of one role and puts a user turn's tool results first", async (t) => {
  const cases: [string, Turn[], Turn[]][] = [
    ["alternating turns stay", [
      { role: "user", items: ["a"] },
      { role: "assistant", items: ["b"] },
    ], [{ role: "user", items: ["a"] }, { role: "assistant", items: ["b"] }]],
    ["a run of user turns becomes one, in order", [
      { role: "user", items: ["a"] },
      { role: "user", items: ["b", "c"] },
    ], [{ role: "user", items: ["a", "b", "c"] }]],
    ["results move ahead of text in a merged user turn", [
      { role: "assistant", items: ["call"] },
      { role: "user", items: ["result:1"] },
      { role: "user", items: ["note"] },
      { role: "user", items: ["result:2"] },
    ], [
      { role: "assistant", items: ["call"] },
      { role: "user", items: ["result:1", "result:2", "note"] },
    ]],
    ["assistant turns are never reordered", [
      { role: "assistant", items: ["result:x", "text"] },
      { role: "assistant", items: ["more"] },
    ], [{ role: "assistant", items: ["result:x", "text", "more"] }]],
    ["nothing in, nothing out", [], []],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => {
      const before = structuredClone(input);
      assert.deepEqual(mergeTurns(input, "user", isResult), expected);
      assert.deepEqual(input, before, "the turns given are not changed");
    });
  }
});
