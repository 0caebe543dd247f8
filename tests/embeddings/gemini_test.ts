import assert from "node:assert/strict";
import { floatsToBase64 } from "../../src/embeddings/encoding.ts";
import { geminiEmbeddings } from "../../src/embeddings/gemini.ts";
import {
  createEmbeddingsContext,
  type EmbeddingsContext,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  parseEmbeddingsRequest,
} from "../../src/embeddings/schema.ts";
import { GatewayError } from "../../src/errors.ts";
import type { ProviderTarget } from "../../src/providers/mod.ts";
import { fakeGeminiValues, GEMINI_KEY, startFakeGemini } from "../_helpers/fake_gemini.ts";
import { ProviderRequest } from "../../src/http/provider_request.ts";
import { sendProviderRequest } from "../_helpers/provider_request.ts";

function embeddingsRequest(body: Record<string, unknown>): EmbeddingsRequest {
  const result = parseEmbeddingsRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function target(overrides: Partial<ProviderTarget> = {}): ProviderTarget {
  return {
    model: "gemini-embedding-001",
    baseUrl: "https://generativelanguage.googleapis.com",
    apiKey: "AIza-provider-key",
    ...overrides,
  };
}

function built(result: ProviderRequest | GatewayError): ProviderRequest {
  assert.ok(
    result instanceof ProviderRequest,
    result instanceof GatewayError ? result.message : "",
  );
  return result;
}

function answer(result: EmbeddingsResponse | GatewayError): EmbeddingsResponse {
  assert.ok(
    !(result instanceof GatewayError),
    result instanceof GatewayError ? result.message : "",
  );
  return result;
}

function ctx(overrides: Partial<EmbeddingsContext> = {}): EmbeddingsContext {
  return {
    model: "gemini/gemini-embedding-001",
    encodingFormat: "float",
    estimatedTokens: 9,
    inputCount: 2,
    ...overrides,
  };
}

Deno.test("geminiEmbeddings.toRequest() builds batchEmbedContents, one request per text", async () => {
  const request = built(geminiEmbeddings.toRequest(
    embeddingsRequest({
      model: "gemini/gemini-embedding-001",
      input: ["What is the meaning of life?", "How does the brain work?"],
      dimensions: 768,
      encoding_format: "base64",
      user: "u-1",
      future_field: true,
    }),
    target({ baseUrl: "https://generativelanguage.googleapis.com/" }),
  ));
  assert.equal(request.method, "POST");
  assert.equal(
    request.url,
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents",
  );
  assert.equal(request.headers.get("x-goog-api-key"), "AIza-provider-key");
  assert.equal(request.headers.has("authorization"), false);
  assert.equal(new URL(request.url).search, "");
  assert.match(request.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await request.json(), {
    requests: [
      {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "What is the meaning of life?" }] },
        outputDimensionality: 768,
      },
      {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "How does the brain work?" }] },
        outputDimensionality: 768,
      },
    ],
  });
});

Deno.test("geminiEmbeddings.toRequest() sends a single text, no dimensions, a models/ name", async () => {
  const request = built(geminiEmbeddings.toRequest(
    embeddingsRequest({ model: "e", input: "hello", dimensions: null }),
    target({ model: "models/text-embedding-004" }),
  ));
  assert.match(request.url, /\/v1beta\/models\/text-embedding-004:batchEmbedContents$/);
  assert.deepEqual(await request.json(), {
    requests: [{ model: "models/text-embedding-004", content: { parts: [{ text: "hello" }] } }],
  });
});

Deno.test("geminiEmbeddings.toRequest() refuses what Gemini cannot take", async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["one token array", { model: "m", input: [1, 2, 3] }, /take text, not token ids/],
    ["token arrays", { model: "m", input: [[1], [2]] }, /take text, not token ids/],
    [
      "more than 100 texts",
      { model: "m", input: Array.from({ length: 101 }, (_, i) => `t${i}`) },
      /at most 100 inputs/,
    ],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, () => {
      const error = geminiEmbeddings.toRequest(embeddingsRequest(body), target());
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_request");
      assert.equal(error.param, "input");
      assert.match(error.message, message);
    });
  }
});

Deno.test("geminiEmbeddings.fromResponse() gives OpenAI's list in input order", async (t) => {
  const one = [0.25, -0.5];
  const two = [1, 0.125];
  const body = { embeddings: [{ values: one }, { values: two }] };
  await t.step("floats, estimated usage, the client's model", () => {
    assert.deepEqual(answer(geminiEmbeddings.fromResponse(body, ctx())), {
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: one },
        { object: "embedding", index: 1, embedding: two },
      ],
      model: "gemini/gemini-embedding-001",
      usage: { prompt_tokens: 9, total_tokens: 9 },
    });
  });
  await t.step("base64", () => {
    const result = answer(geminiEmbeddings.fromResponse(body, ctx({ encodingFormat: "base64" })));
    assert.deepEqual(
      result.data.map((item) => item.embedding),
      [floatsToBase64(one), floatsToBase64(two)],
    );
  });
});

Deno.test("geminiEmbeddings.fromResponse() answers 502 for a bad body", async (t) => {
  const cases: [string, unknown][] = [
    ["null", null],
    ["an embedContent answer", { embedding: { values: [1] } }],
    ["values missing", { embeddings: [{}, { values: [1] }] }],
    ["values not numbers", { embeddings: [{ values: ["1"] }, { values: [1] }] }],
    ["fewer embeddings than inputs", { embeddings: [{ values: [1] }] }],
    ["more embeddings than inputs", {
      embeddings: [{ values: [1] }, { values: [1] }, { values: [1] }],
    }],
  ];
  for (const [name, body] of cases) {
    await t.step(name, () => {
      const error = geminiEmbeddings.fromResponse(body, ctx());
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_error");
    });
  }
});

Deno.test("geminiEmbeddings round trip through the fake Gemini", async () => {
  await using upstream = startFakeGemini();
  const request = embeddingsRequest({
    model: "gemini/gemini-embedding-001",
    input: ["first", "second", "third"],
    dimensions: 4,
    encoding_format: "base64",
    user: "dropped",
  });
  const context = createEmbeddingsContext(request);
  const response = await sendProviderRequest(
    built(
      geminiEmbeddings.toRequest(
        request,
        target({ baseUrl: upstream.baseUrl, apiKey: GEMINI_KEY }),
      ),
    ),
  );
  assert.equal(response.status, 200);
  const result = answer(geminiEmbeddings.fromResponse(await response.json(), context));
  assert.deepEqual(
    result.data.map((item) => item.embedding),
    [0, 1, 2].map((index) => floatsToBase64(fakeGeminiValues(index, 4))),
  );
  assert.equal(upstream.requests.length, 1);
  assert.equal(
    upstream.requests[0]?.path,
    "/v1beta/models/gemini-embedding-001:batchEmbedContents",
  );
});

Deno.test("the fake Gemini refuses batchEmbedContents bodies the real API refuses", async (t) => {
  await using upstream = startFakeGemini();
  const url = `${upstream.baseUrl}/v1beta/models/gemini-embedding-001:batchEmbedContents`;
  const valid = {
    model: "models/gemini-embedding-001",
    content: { parts: [{ text: "x" }] },
  };
  const cases: [string, unknown, RegExp][] = [
    ["an unknown top-level field", { requests: [valid], model: "m" }, /Unknown name "model"/],
    [
      "an unknown request field",
      { requests: [{ ...valid, encoding_format: "float" }] },
      /Unknown name "encoding_format" at 'requests\[0\]'/,
    ],
    ["another model", { requests: [{ ...valid, model: "models/other" }] }, /must match/],
    [
      "101 requests",
      { requests: Array.from({ length: 101 }, () => valid) },
      /at most 100 requests can be in one batch/,
    ],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "x-goog-api-key": GEMINI_KEY, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400);
      const error = (await response.json()).error;
      assert.equal(error.status, "INVALID_ARGUMENT");
      assert.match(error.message, message);
    });
  }
  await t.step("a wrong key", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "x-goog-api-key": "AIza-wrong", "content-type": "application/json" },
      body: JSON.stringify({ requests: [valid] }),
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error.message, /API key not valid/);
  });
});

Deno.test("the fake Gemini's onEmbed hook scripts the answer", async () => {
  await using upstream = startFakeGemini(undefined, {
    onEmbed: () => Response.json({ embeddings: [] }),
  });
  const request = embeddingsRequest({ model: "e", input: "x" });
  const response = await sendProviderRequest(
    built(
      geminiEmbeddings.toRequest(
        request,
        target({ baseUrl: upstream.baseUrl, apiKey: GEMINI_KEY }),
      ),
    ),
  );
  const error = geminiEmbeddings.fromResponse(
    await response.json(),
    createEmbeddingsContext(request),
  );
  assert.ok(error instanceof GatewayError);
  assert.equal(error.status, 502);
  assert.match(error.message, /0 embeddings for 1 inputs/);
});
