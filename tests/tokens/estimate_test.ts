import assert from "node:assert/strict";
import fc from "fast-check";
import { decode } from "gpt-tokenizer";
import { COMMON_PAIRS, estimateTokens } from "../../src/tokens/estimate.ts";
import { corpus } from "./corpus.ts";
import { errorTable, formatErrorTable, measure } from "./error_table.ts";

const measured = measure(corpus());
const table = errorTable(measured);
const shown = `\n${formatErrorTable(table)}`;

Deno.test("estimateTokens() is close to o200k_base, a little over, on every kind of text", async (t) => {
  const all = table.at(-1);
  assert.ok(all !== undefined);
  await t.step("overall: 5–20% over in total and at the median, under on few samples", () => {
    assert.ok(all.total >= 1.05 && all.total <= 1.2, shown);
    assert.ok(all.median >= 1.05 && all.median <= 1.2, shown);
    assert.ok(all.under <= 0.15, shown);
  });
  for (const row of table.slice(0, -1)) {
    await t.step(`${row.category}: never under in total, at most 30% over`, () => {
      assert.ok(row.total >= 1 && row.total <= 1.3, shown);
      assert.ok(row.median >= 0.95 && row.median <= 1.3, shown);
    });
  }
  await t.step("each sample of 10 tokens or more: within 0.7–2.0× the exact count", () => {
    for (const m of measured.filter((m) => m.exact >= 10)) {
      assert.ok(
        m.ratio >= 0.7 && m.ratio <= 2,
        `${m.category} ${m.ratio}: ${JSON.stringify(m.text)}`,
      );
    }
  });
  await t.step("each shorter sample: at most 2 under, at most 2× + 2 over", () => {
    for (const m of measured.filter((m) => m.exact < 10)) {
      const ok = m.estimate >= m.exact - 2 && m.estimate <= 2 * m.exact + 2;
      assert.ok(ok, `${m.category} ${m.estimate} vs ${m.exact}: ${JSON.stringify(m.text)}`);
    }
  });
});

Deno.test("estimateTokens() counts typical texts", async (t) => {
  // text, estimate (exact o200k_base count in the comment)
  const cases: [string, number][] = [
    ["", 0],
    ["hi", 1], // 1
    ["assistant", 1], // 1
    ["Hello, world!", 4], // 4
    ["The quick brown fox jumps over the lazy dog.", 11], // 10
    ["const x = await fetch(url);", 8], // 7
    ['{"role":"user","content":"What is the weather in Paris?"}', 15], // 15
    ["1234567", 3], // 3
    ["你好，世界", 3], // 3
    ["😀", 2], // 1
  ];
  for (const [text, expected] of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(estimateTokens(text), expected));
  }
});

/** Texts of every kind: any code points, graphemes, and the pieces words and code are made of. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.array(
    fc.constantFrom(
      ...["Hello", " world", "xqzj", "IDs", "QK", "'s", "é", "Straße", "привет", "中文", "한국어"],
      ...[
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        ".",
        '"',
        "(",
        "});",
        "--",
        "|",
        "123",
        "4",
        "😀",
        "\u200d",
      ],
    ),
    { maxLength: 16 },
  ).map((parts) => parts.join("")),
);

Deno.test("estimateTokens() is a count: 0 for nothing, a positive integer for any text", () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const estimate = estimateTokens(text);
      assert.ok(Number.isInteger(estimate));
      assert.equal(estimate === 0, text === "");
    }),
    { numRuns: 2000 },
  );
});

Deno.test("estimateTokens() of a concatenation is about the sum of its parts", async (t) => {
  await t.step("never more than the parts' estimates + 3", () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        assert.ok(estimateTokens(a + b) <= estimateTokens(a) + estimateTokens(b) + 3);
      }),
      { numRuns: 2000 },
    );
  });
  await t.step("never less than either part's estimate - 2 (ASCII: - 0)", () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        const most = Math.max(estimateTokens(a), estimateTokens(b));
        assert.ok(estimateTokens(a + b) >= most - 2);
      }),
      { numRuns: 2000 },
    );
    const ascii = fc.string({ unit: "grapheme-ascii", maxLength: 40 });
    fc.assert(
      fc.property(ascii, ascii, (a, b) => {
        const most = Math.max(estimateTokens(a), estimateTokens(b));
        assert.ok(estimateTokens(a + b) >= most);
        assert.ok(estimateTokens(a + b) <= estimateTokens(a) + estimateTokens(b) + 2);
      }),
      { numRuns: 2000 },
    );
  });
  await t.step("at most 1.7 tokens per UTF-16 code unit, + 1", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        assert.ok(estimateTokens(text) <= 1.7 * text.length + 1);
      }),
      { numRuns: 2000 },
    );
  });
});

Deno.test("COMMON_PAIRS are the letter pairs inside o200k_base's first 5,000 tokens", () => {
  const pairs = Array.from({ length: 26 }, () => new Set<string>());
  for (let id = 0; id < 5000; id++) {
    const token = decode([id]).replace(/^ /, "").toLowerCase();
    if (!/^[a-z]{2,}$/.test(token)) continue;
    for (let i = 1; i < token.length; i++) {
      pairs[token.charCodeAt(i - 1) - 97]?.add(token[i] as string);
    }
  }
  assert.deepEqual(COMMON_PAIRS, pairs.map((next) => [...next].sort().join("")));
});
