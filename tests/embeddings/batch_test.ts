import assert from "node:assert/strict";
import { joinEmbeddings, splitEmbeddingsRequest } from "../../src/embeddings/batch.ts";
import type { EmbeddingsResponse } from "../../src/embeddings/schema.ts";

Deno.test("splitEmbeddingsRequest() cuts only lists longer than the limit, in order", async (t) => {
  const texts = Array.from({ length: 250 }, (_, i) => `text ${i}`);
  const cases: [string, unknown, number[]][] = [
    ["one string", "hello", [1]],
    ["one token array", [1, 2, 3, 4, 5], [1]],
    ["a list that fits", texts.slice(0, 100), [100]],
    ["250 texts by 100", texts, [100, 100, 50]],
    ["token arrays by 100", Array.from({ length: 101 }, () => [1, 2]), [100, 1]],
  ];
  for (const [name, input, sizes] of cases) {
    await t.step(name, () => {
      const parts = splitEmbeddingsRequest(
        { model: "m", input: input as string[], dimensions: 8 },
        100,
      );
      assert.deepEqual(
        parts.map((
          p,
        ) => (Array.isArray(p.input) && typeof p.input[0] !== "number" ? p.input.length : 1)),
        sizes,
      );
      assert.ok(parts.every((p) => p.dimensions === 8 && p.model === "m"), "other fields kept");
      if (Array.isArray(input) && typeof input[0] !== "number") {
        assert.deepEqual(parts.flatMap((p) => p.input as unknown[]), input);
      }
    });
  }
});

Deno.test("joinEmbeddings() continues the indexes and adds up the usage", () => {
  const part = (values: number[], tokens: number): EmbeddingsResponse => ({
    object: "list",
    data: values.map((v, index) => ({ object: "embedding", index, embedding: [v] })),
    model: "text-embedding-004",
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
  const joined = joinEmbeddings([part([0, 1], 4), part([2], 3), part([3, 4], 5)]);
  assert.deepEqual(joined.data.map((d) => [d.index, d.embedding]), [
    [0, [0]],
    [1, [1]],
    [2, [2]],
    [3, [3]],
    [4, [4]],
  ]);
  assert.deepEqual(joined.usage, { prompt_tokens: 12, total_tokens: 12 });
  assert.equal(joined.model, "text-embedding-004");
  const single = part([7], 1);
  assert.equal(joinEmbeddings([single]), single);
});
