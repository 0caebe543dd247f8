import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ECHO_DEFAULT_DIMENSIONS,
  ECHO_MAX_DIMENSIONS,
  echoEmbeddings,
} from "../../src/embeddings/echo.ts";
import { base64ToFloats } from "../../src/embeddings/encoding.ts";
import {
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  estimateEmbeddingTokens,
} from "../../src/embeddings/schema.ts";
import { GatewayError } from "../../src/errors.ts";

const MODEL = "choreoai/echo";

interface EchoInput {
  readonly input: EmbeddingsRequest["input"];
  readonly dimensions?: number;
  readonly encoding_format?: "float" | "base64";
}

function echo(request: EchoInput): EmbeddingsResponse {
  const result = echoEmbeddings({ model: MODEL, ...request }, MODEL);
  assert.ok(
    !(result instanceof GatewayError),
    result instanceof GatewayError ? result.message : "",
  );
  return result;
}

function vectors(response: EmbeddingsResponse): number[][] {
  return response.data.map((item) => {
    assert.ok(Array.isArray(item.embedding));
    return [...item.embedding];
  });
}

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

Deno.test("echoEmbeddings() answers one unit vector per input", async (t) => {
  const cases: [string, EmbeddingsRequest["input"], number][] = [
    ["a text", "hello", 1],
    ["texts", ["a", "b", "c"], 3],
    ["one token array", [1, 2, 3], 1],
    ["token arrays", [[1], [2, 3]], 2],
  ];
  for (const [name, input, count] of cases) {
    await t.step(name, () => {
      const response = echo({ input });
      assert.equal(response.object, "list");
      assert.equal(response.model, MODEL);
      assert.deepEqual(response.data.map((item) => item.index), [...Array(count).keys()]);
      for (const item of response.data) assert.equal(item.object, "embedding");
      for (const vector of vectors(response)) {
        assert.equal(vector.length, ECHO_DEFAULT_DIMENSIONS);
        assert.ok(Math.abs(norm(vector) - 1) < 1e-6, `norm ${norm(vector)}`);
        for (const value of vector) assert.equal(value, Math.fround(value));
      }
    });
  }
});

Deno.test("echoEmbeddings() is deterministic, and different inputs differ", () => {
  const first = vectors(echo({ input: ["same", "other", "same"] }));
  assert.deepEqual(first[0], first[2]);
  assert.notDeepEqual(first[0], first[1]);
  assert.deepEqual(vectors(echo({ input: "same" }))[0], first[0]);
  // A text and the token array of the same characters are different inputs.
  assert.notDeepEqual(vectors(echo({ input: "1" }))[0], vectors(echo({ input: [1] }))[0]);
  assert.notDeepEqual(
    vectors(echo({ input: [[1, 23]] }))[0],
    vectors(echo({ input: [[12, 3]] }))[0],
  );
});

Deno.test("echoEmbeddings() gives distinct vectors for distinct texts", () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
      fc.pre(a !== b);
      const [va, vb] = vectors(echo({ input: [a, b] }));
      assert.notDeepEqual(va, vb);
    }),
    { numRuns: 50 },
  );
});

Deno.test("echoEmbeddings() obeys dimensions, beyond one hash block too", async (t) => {
  for (const dimensions of [1, 7, 8, 9, 1536, ECHO_MAX_DIMENSIONS]) {
    await t.step(String(dimensions), () => {
      const [vector] = vectors(echo({ input: "x", dimensions }));
      assert.equal(vector?.length, dimensions);
      assert.ok(Math.abs(norm(vector ?? []) - 1) < 1e-6);
      if (dimensions >= 16) assert.ok(new Set(vector).size > dimensions / 2, "values repeat");
    });
  }
});

Deno.test("echoEmbeddings() refuses more than the maximum dimensions", () => {
  const error = echoEmbeddings(
    { model: MODEL, input: "x", dimensions: ECHO_MAX_DIMENSIONS + 1 },
    MODEL,
  );
  assert.ok(error instanceof GatewayError);
  assert.equal(error.status, 400);
  assert.equal(error.param, "dimensions");
  assert.equal(error.code, "invalid_request");
});

Deno.test("echoEmbeddings() answers base64 of the same float32 values", () => {
  const floats = vectors(echo({ input: ["a", "b"], dimensions: 24 }));
  const encoded = echo({ input: ["a", "b"], dimensions: 24, encoding_format: "base64" });
  assert.deepEqual(
    encoded.data.map((item) => {
      assert.equal(typeof item.embedding, "string");
      return base64ToFloats(item.embedding as string);
    }),
    floats,
  );
});

Deno.test("echoEmbeddings() reports the token estimate as usage", async (t) => {
  const inputs: EmbeddingsRequest["input"][] = ["The quick brown fox", ["a b", "c"], [[1, 2], [3]]];
  for (const input of inputs) {
    await t.step(JSON.stringify(input), () => {
      const tokens = estimateEmbeddingTokens({ model: MODEL, input });
      assert.deepEqual(echo({ input }).usage, { prompt_tokens: tokens, total_tokens: tokens });
    });
  }
});
