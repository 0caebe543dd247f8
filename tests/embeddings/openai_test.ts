import assert from "node:assert/strict";
import { floatsToBase64 } from "../../src/embeddings/encoding.ts";
import { azureEmbeddings, openAIEmbeddings } from "../../src/embeddings/openai.ts";
import {
  createEmbeddingsContext,
  type EmbeddingsContext,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  parseEmbeddingsRequest,
} from "../../src/embeddings/schema.ts";
import { GatewayError } from "../../src/errors.ts";
import type { ProviderTarget } from "../../src/providers/mod.ts";
import { fakeEmbedding, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { ProviderRequest } from "../../src/http/provider_request.ts";
import { sendProviderRequest } from "../_helpers/provider_request.ts";

function embeddingsRequest(body: Record<string, unknown>): EmbeddingsRequest {
  const result = parseEmbeddingsRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function target(overrides: Partial<ProviderTarget> = {}): ProviderTarget {
  return {
    model: "text-embedding-3-small",
    baseUrl: "https://api.example.com/v1",
    apiKey: "sk-provider-key",
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

function ctx(overrides: Partial<EmbeddingsContext> = {}): EmbeddingsContext {
  return {
    model: "embed-alias",
    encodingFormat: "float",
    estimatedTokens: 7,
    inputCount: 2,
    ...overrides,
  };
}

function answer(result: EmbeddingsResponse | GatewayError): EmbeddingsResponse {
  assert.ok(
    !(result instanceof GatewayError),
    result instanceof GatewayError ? result.message : "",
  );
  return result;
}

/** A list as OpenAI answers it. */
function openAIList(data: { index: number; embedding: number[] | string }[]) {
  return {
    object: "list",
    data: data.map((item) => ({ object: "embedding", ...item })),
    model: "text-embedding-3-small",
    usage: { prompt_tokens: 5, total_tokens: 5 },
  };
}

Deno.test("openAIEmbeddings.toRequest() posts the client's body with the upstream model", async () => {
  const request = built(openAIEmbeddings.toRequest(
    embeddingsRequest({
      model: "openai/text-embedding-3-small",
      input: ["a", "b"],
      dimensions: 256,
      encoding_format: "base64",
      user: "u-1",
      future_field: { keep: true },
    }),
    target(),
  ));
  assert.equal(request.method, "POST");
  assert.equal(request.url, "https://api.example.com/v1/embeddings");
  assert.equal(request.headers.get("authorization"), "Bearer sk-provider-key");
  assert.equal(request.headers.get("api-key"), null);
  assert.match(request.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await request.json(), {
    model: "text-embedding-3-small",
    input: ["a", "b"],
    dimensions: 256,
    encoding_format: "base64",
    user: "u-1",
    future_field: { keep: true },
  });
});

Deno.test("openAIEmbeddings.toRequest() sends no Authorization header for an empty key", async () => {
  const request = built(openAIEmbeddings.toRequest(
    embeddingsRequest({ model: "nomic", input: [[1, 2, 3]], dimensions: null }),
    target({ model: "nomic-embed-text", baseUrl: "http://127.0.0.1:11434/v1", apiKey: "" }),
  ));
  assert.equal(request.url, "http://127.0.0.1:11434/v1/embeddings");
  assert.equal(request.headers.has("authorization"), false);
  assert.deepEqual(await request.json(), { model: "nomic-embed-text", input: [[1, 2, 3]] });
});

Deno.test("azureEmbeddings.toRequest() posts to the deployment with api-key", async () => {
  const request = built(azureEmbeddings.toRequest(
    embeddingsRequest({ model: "azure/embed prod", input: "hello", dimensions: 512 }),
    target({
      model: "embed prod/eu",
      baseUrl: "https://eu.example.azure.com",
      apiKey: "azure-key",
      apiVersion: "2024-10-21",
    }),
  ));
  assert.equal(
    request.url,
    "https://eu.example.azure.com/openai/deployments/embed%20prod%2Feu/embeddings" +
      "?api-version=2024-10-21",
  );
  assert.equal(request.headers.get("api-key"), "azure-key");
  assert.equal(request.headers.has("authorization"), false);
  assert.deepEqual(await request.json(), {
    model: "embed prod/eu",
    input: "hello",
    dimensions: 512,
  });
});

Deno.test("openAIEmbeddings.fromResponse() translates OpenAI-format lists", async (t) => {
  const one = [0.25, -0.5, 1];
  const two = [0.125, 0, -1];
  const cases: [string, unknown, Partial<EmbeddingsContext>, EmbeddingsResponse][] = [
    [
      "an OpenAI float list, as is",
      openAIList([{ index: 0, embedding: one }, { index: 1, embedding: two }]),
      {},
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: one },
          { object: "embedding", index: 1, embedding: two },
        ],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
    ],
    [
      "data sorted by index",
      openAIList([{ index: 1, embedding: two }, { index: 0, embedding: one }]),
      {},
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: one },
          { object: "embedding", index: 1, embedding: two },
        ],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
    ],
    [
      "base64 asked, floats answered: encoded",
      openAIList([{ index: 0, embedding: one }, { index: 1, embedding: two }]),
      { encodingFormat: "base64" },
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: floatsToBase64(one) },
          { object: "embedding", index: 1, embedding: floatsToBase64(two) },
        ],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
    ],
    [
      "float asked, base64 answered: decoded",
      openAIList([
        { index: 0, embedding: floatsToBase64(one) },
        { index: 1, embedding: floatsToBase64(two) },
      ]),
      { encodingFormat: "float" },
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: one },
          { object: "embedding", index: 1, embedding: two },
        ],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
    ],
    [
      "base64 asked and answered: passed on",
      openAIList([{ index: 0, embedding: "AACAPw==" }, { index: 1, embedding: "AAAAAA==" }]),
      { encodingFormat: "base64" },
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: "AACAPw==" },
          { object: "embedding", index: 1, embedding: "AAAAAA==" },
        ],
        model: "text-embedding-3-small",
        usage: { prompt_tokens: 5, total_tokens: 5 },
      },
    ],
    [
      "no usage and no model (Ollama-like): estimated usage, the client's model",
      { data: [{ index: 0, embedding: one }, { index: 1, embedding: two }] },
      {},
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: one },
          { object: "embedding", index: 1, embedding: two },
        ],
        model: "embed-alias",
        usage: { prompt_tokens: 7, total_tokens: 7 },
      },
    ],
    [
      "usage of the wrong shape and a non-string model",
      {
        object: "list",
        data: [{ index: 0, embedding: one }, { index: 1, embedding: two }],
        model: null,
        usage: { prompt_tokens: "5", total_tokens: null },
      },
      {},
      {
        object: "list",
        data: [
          { object: "embedding", index: 0, embedding: one },
          { object: "embedding", index: 1, embedding: two },
        ],
        model: "embed-alias",
        usage: { prompt_tokens: 7, total_tokens: 7 },
      },
    ],
  ];
  for (const [name, body, context, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(answer(openAIEmbeddings.fromResponse(body, ctx(context))), expected);
    });
  }
});

Deno.test("openAIEmbeddings.fromResponse() answers 502 for bodies that are not a list", async (t) => {
  const cases: [string, unknown, Partial<EmbeddingsContext>][] = [
    ["null", null, {}],
    ["a chat completion", { object: "chat.completion", choices: [] }, {}],
    ["data not an array", { data: "x" }, {}],
    ["an item without index", { data: [{ embedding: [1] }, { index: 1, embedding: [1] }] }, {}],
    [
      "a negative index",
      { data: [{ index: -1, embedding: [1] }, { index: 1, embedding: [1] }] },
      {},
    ],
    [
      "an embedding that is an object",
      { data: [{ index: 0, embedding: { values: [1] } }, { index: 1, embedding: [1] }] },
      {},
    ],
    ["an embedding with a string value", { data: [{ index: 0, embedding: ["1"] }] }, {
      inputCount: 1,
    }],
    ["fewer embeddings than inputs", { data: [{ index: 0, embedding: [1] }] }, { inputCount: 2 }],
    [
      "an undecodable base64 embedding when floats were asked",
      { data: [{ index: 0, embedding: "not base64!" }] },
      { inputCount: 1 },
    ],
  ];
  for (const [name, body, context] of cases) {
    await t.step(name, () => {
      const error = openAIEmbeddings.fromResponse(body, ctx(context));
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_error");
      assert.match(error.message, /^openai /);
    });
  }
  await t.step("azure names itself", () => {
    const error = azureEmbeddings.fromResponse({}, ctx());
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 502);
    assert.match(error.message, /^azure /);
  });
});

Deno.test("openAIEmbeddings round trip through the fake OpenAI", async (t) => {
  await using upstream = startFakeOpenAI();
  const cases: [string, Record<string, unknown>][] = [
    ["floats", { model: "alias", input: ["hello world", "second text"] }],
    ["base64 and dimensions", {
      model: "alias",
      input: [[1, 2, 3]],
      encoding_format: "base64",
      dimensions: 4,
    }],
  ];
  for (const [name, body] of cases) {
    await t.step(name, async () => {
      const request = embeddingsRequest(body);
      const context = createEmbeddingsContext(request);
      const response = await sendProviderRequest(
        built(
          openAIEmbeddings.toRequest(
            request,
            target({ baseUrl: upstream.baseUrl, apiKey: PROVIDER_KEY }),
          ),
        ),
      );
      assert.equal(response.status, 200);
      const result = answer(openAIEmbeddings.fromResponse(await response.json(), context));
      assert.equal(result.data.length, context.inputCount);
      assert.equal(result.model, "text-embedding-3-small");
      const length = typeof body.dimensions === "number" ? body.dimensions : undefined;
      result.data.forEach((item, index) => {
        const expected = fakeEmbedding(index, length);
        assert.deepEqual(
          item.embedding,
          context.encodingFormat === "base64" ? floatsToBase64(expected) : expected,
        );
      });
    });
  }
  assert.equal(upstream.requests.at(-1)?.path, "/v1/embeddings");
  assert.equal(upstream.requests.at(-1)?.body?.model, "text-embedding-3-small");
});

Deno.test("the fake OpenAI refuses embeddings bodies the real API refuses", async (t) => {
  await using upstream = startFakeOpenAI();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["no model", { input: "x" }, /model/],
    ["no input", { model: "text-embedding-3-small" }, /'input' is a required property/],
    ["empty input", { model: "text-embedding-3-small", input: "" }, /input/],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, async () => {
      const response = await fetch(`${upstream.baseUrl}/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${PROVIDER_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 400);
      const error = (await response.json()).error;
      assert.equal(error.type, "invalid_request_error");
      assert.match(error.message, message);
    });
  }
  await t.step("a wrong key", async () => {
    const response = await fetch(`${upstream.baseUrl}/embeddings`, {
      method: "POST",
      headers: { authorization: "Bearer sk-wrong", "content-type": "application/json" },
      body: JSON.stringify({ model: "m", input: "x" }),
    });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });
});

Deno.test("the fake OpenAI's onEmbeddings hook scripts the answer", async () => {
  await using upstream = startFakeOpenAI({
    onEmbeddings: (body) =>
      Response.json({ data: [{ index: 0, embedding: [1] }], model: body.model }),
  });
  const request = embeddingsRequest({ model: "alias", input: "x" });
  const response = await sendProviderRequest(
    built(
      openAIEmbeddings.toRequest(
        request,
        target({ baseUrl: upstream.baseUrl, apiKey: PROVIDER_KEY }),
      ),
    ),
  );
  const result = answer(
    openAIEmbeddings.fromResponse(await response.json(), createEmbeddingsContext(request)),
  );
  assert.deepEqual(result.data, [{ object: "embedding", index: 0, embedding: [1] }]);
  assert.equal(result.usage.prompt_tokens, createEmbeddingsContext(request).estimatedTokens);
});
