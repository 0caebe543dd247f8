import assert from "node:assert/strict";
import fc from "fast-check";
import {
  createEmbeddingsContext,
  embeddingInputs,
  embeddingInputTexts,
  type EmbeddingsRequest,
  estimateEmbeddingTokens,
  parseEmbeddingsRequest,
} from "../../src/embeddings/schema.ts";
import { estimateTokens } from "../../src/tokens/mod.ts";

function accepted(body: unknown): EmbeddingsRequest {
  const result = parseEmbeddingsRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function rejected(body: unknown): { param: string | null; message: string; status: number } {
  const result = parseEmbeddingsRequest(body);
  assert.ok(!result.ok, "expected a 400");
  assert.equal(result.error.code, "invalid_request");
  assert.equal(result.error.type, "invalid_request_error");
  return { param: result.error.param, message: result.error.message, status: result.error.status };
}

Deno.test("parseEmbeddingsRequest() accepts every input form OpenAI takes", async (t) => {
  const cases: [string, unknown][] = [
    ["a text", "The food was delicious"],
    ["several texts", ["first", "second", "third"]],
    ["one token array", [1212, 318, 257, 1332, 13]],
    ["token id 0", [0]],
    ["several token arrays", [[1212, 318], [257], [0, 13]]],
    ["2048 texts", Array.from({ length: 2048 }, (_, i) => `text ${i}`)],
    ["a token array longer than 2048", Array.from({ length: 3000 }, (_, i) => i)],
  ];
  for (const [name, input] of cases) {
    await t.step(name, () => {
      const request = accepted({ model: "text-embedding-3-small", input });
      assert.deepEqual(request.input, input);
    });
  }
});

Deno.test("parseEmbeddingsRequest() accepts the optional fields", async (t) => {
  const cases: [string, Record<string, unknown>, Partial<EmbeddingsRequest>][] = [
    ["dimensions", { dimensions: 256 }, { dimensions: 256 }],
    ["dimensions null is absent", { dimensions: null }, { dimensions: undefined }],
    ["encoding_format float", { encoding_format: "float" }, { encoding_format: "float" }],
    ["encoding_format base64", { encoding_format: "base64" }, { encoding_format: "base64" }],
    ["user", { user: "user-1234" }, { user: "user-1234" }],
  ];
  for (const [name, extra, expected] of cases) {
    await t.step(name, () => {
      const request = accepted({ model: "m", input: "x", ...extra });
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(request[key], value, key);
      }
    });
  }
});

Deno.test("parseEmbeddingsRequest() rejects bad fields with a 400 naming them", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ["missing model", { input: "x" }, "model", /required/],
    ["empty model", { model: "", input: "x" }, "model", /empty/],
    ["model not a string", { model: 3, input: "x" }, "model", /string/],
    ["missing input", { model: "m" }, "input", /required/],
    ["null input", { model: "m", input: null }, "input", /must be a string/],
    ["input a number", { model: "m", input: 42 }, "input", /must be a string/],
    ["input an object", { model: "m", input: { text: "x" } }, "input", /must be a string/],
    ["empty text", { model: "m", input: "" }, "input", /empty/],
    ["empty array", { model: "m", input: [] }, "input", /empty/],
    ["empty text in a list", { model: "m", input: ["a", "b", "c", ""] }, "input[3]", /empty/],
    ["a number among texts", { model: "m", input: ["a", 7] }, "input[1]", /string/],
    [
      "2049 texts",
      { model: "m", input: Array.from({ length: 2049 }, () => "x") },
      "input",
      /at most 2048/,
    ],
    ["negative token id", { model: "m", input: [1, -1] }, "input[1]", /non-negative integer/],
    ["fractional token id", { model: "m", input: [1.5] }, "input[0]", /non-negative integer/],
    ["a text among token ids", { model: "m", input: [1, "a"] }, "input[1]", /token id/],
    ["empty token array", { model: "m", input: [[1], []] }, "input[1]", /empty/],
    ["bad id in a token array", { model: "m", input: [[1], [2, -3]] }, "input[1][1]", /token id/],
    ["a text among token arrays", { model: "m", input: [[1], "a"] }, "input[1]", /token ids/],
    [
      "2049 token arrays",
      { model: "m", input: Array.from({ length: 2049 }, () => [1]) },
      "input",
      /at most 2048/,
    ],
    ["an object in a list", { model: "m", input: [{ a: 1 }] }, "input[0]", /must be a string/],
    ["dimensions 0", { model: "m", input: "x", dimensions: 0 }, "dimensions", /positive/],
    ["dimensions 1.5", { model: "m", input: "x", dimensions: 1.5 }, "dimensions", /positive/],
    ["dimensions a string", { model: "m", input: "x", dimensions: "8" }, "dimensions", /positive/],
    [
      "unknown encoding_format",
      { model: "m", input: "x", encoding_format: "int8" },
      "encoding_format",
      /float, base64/,
    ],
    ["user not a string", { model: "m", input: "x", user: 5 }, "user", /string/],
  ];
  for (const [name, body, param, message] of cases) {
    await t.step(name, () => {
      const error = rejected(body);
      assert.equal(error.status, 400);
      assert.equal(error.param, param);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(`Invalid value for '${param}': `), error.message);
    });
  }
});

Deno.test("parseEmbeddingsRequest() rejects a body that is not an object", async (t) => {
  for (const body of [null, "text", 42, [{ model: "m", input: "x" }]]) {
    await t.step(JSON.stringify(body), () => {
      const error = rejected(body);
      assert.equal(error.param, null);
      assert.equal(error.message, "Request body must be a JSON object");
    });
  }
});

Deno.test("parseEmbeddingsRequest() keeps unknown fields", () => {
  const body = {
    model: "m",
    input: ["a"],
    truncate_prompt_tokens: 512,
    extra_body: { nested: [1, 2] },
  };
  assert.deepEqual(accepted(body), body);
});

Deno.test("parseEmbeddingsRequest() never throws and keeps unknown fields of what it accepts", () => {
  const known = new Set(["model", "input", "dimensions", "encoding_format", "user"]);
  const unknownFields = fc.dictionary(
    fc.string().filter((key) => !known.has(key) && key !== "__proto__"),
    fc.jsonValue(),
  );
  // Mostly valid values, so that most bodies are accepted, and some of anything.
  const text = fc.string({ minLength: 1 });
  const input = fc.oneof(
    { weight: 2, arbitrary: text },
    { weight: 2, arbitrary: fc.array(text, { minLength: 1, maxLength: 5 }) },
    { weight: 2, arbitrary: fc.array(fc.nat(), { minLength: 1 }) },
    { weight: 2, arbitrary: fc.array(fc.array(fc.nat(), { minLength: 1 }), { minLength: 1 }) },
    fc.array(fc.integer({ min: -2, max: 100 })),
    fc.jsonValue(),
  );
  const body = fc.record(
    {
      model: fc.oneof({ weight: 4, arbitrary: text }, fc.jsonValue()),
      input,
      dimensions: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 4096 }) },
        fc.constant(null),
        fc.integer({ min: -1, max: 0 }),
        fc.double(),
      ),
      encoding_format: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom("float", "base64") },
        fc.string(),
      ),
      user: fc.oneof({ weight: 4, arbitrary: fc.string() }, fc.jsonValue()),
    },
    { requiredKeys: ["model", "input"] },
  );
  let acceptedCount = 0;
  fc.assert(
    fc.property(body, unknownFields, (fields, extra) => {
      const candidate = { ...extra, ...fields };
      const result = parseEmbeddingsRequest(candidate);
      if (!result.ok) return;
      acceptedCount++;
      for (const [key, value] of Object.entries(extra)) {
        assert.deepEqual(result.request[key], value);
      }
    }),
    { numRuns: 300 },
  );
  // Most bodies must be accepted, or the property says little.
  assert.ok(acceptedCount >= 60, `only ${acceptedCount} of 300 bodies were accepted`);
  fc.assert(
    fc.property(fc.anything(), (value) => {
      parseEmbeddingsRequest(value);
    }),
  );
});

Deno.test("embeddingInputs() lists one item per text or token array", async (t) => {
  const cases: [string, EmbeddingsRequest["input"], (string | readonly number[])[]][] = [
    ["a text", "hello", ["hello"]],
    ["texts", ["a", "b"], ["a", "b"]],
    ["one token array is one input", [1, 2, 3], [[1, 2, 3]]],
    ["token arrays", [[1], [2, 3]], [[1], [2, 3]]],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(embeddingInputs({ model: "m", input }), expected);
    });
  }
});

Deno.test("embeddingInputTexts() gives the texts, or undefined for token ids", () => {
  assert.deepEqual(embeddingInputTexts({ model: "m", input: "hello" }), ["hello"]);
  assert.deepEqual(embeddingInputTexts({ model: "m", input: ["a", "b"] }), ["a", "b"]);
  assert.equal(embeddingInputTexts({ model: "m", input: [1, 2] }), undefined);
  assert.equal(embeddingInputTexts({ model: "m", input: [[1], [2]] }), undefined);
});

Deno.test("estimateEmbeddingTokens() counts text tokens or token ids", async (t) => {
  const sentence = "The quick brown fox jumps over the lazy dog";
  const cases: [string, EmbeddingsRequest["input"], number][] = [
    ["a text", sentence, estimateTokens(sentence)],
    ["texts", [sentence, "hi"], estimateTokens(sentence) + estimateTokens("hi")],
    ["one token array", [1, 2, 3, 4], 4],
    ["token arrays", [[1, 2], [3], [4, 5, 6]], 6],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => {
      assert.equal(estimateEmbeddingTokens({ model: "m", input }), expected);
    });
  }
  assert.ok(estimateTokens(sentence) > 5);
});

Deno.test("createEmbeddingsContext() derives the translation context", () => {
  assert.deepEqual(
    createEmbeddingsContext({ model: "alias", input: [[1, 2], [3]], encoding_format: "base64" }),
    { model: "alias", encodingFormat: "base64", estimatedTokens: 3, inputCount: 2 },
  );
  assert.equal(createEmbeddingsContext({ model: "m", input: "x" }).encodingFormat, "float");
});
