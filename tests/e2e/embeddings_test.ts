/**
 * `POST /v1/embeddings` end to end through the official `openai` client: the echo model, OpenAI,
 * Azure, Gemini (`batchEmbedContents`) and an OpenAI-compatible server of the routing file; key
 * scopes and limits apply as for chat.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { compileKeyIndex } from "../../src/keys/verify.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { CLIENT_KEY, openaiClient, startGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { fakeEmbedding, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { AZURE_KEY, startFakeAzure } from "../_helpers/fake_azure.ts";
import { GEMINI_KEY, startFakeGemini } from "../_helpers/fake_gemini.ts";

/** Decodes OpenAI's base64 embedding (little-endian float32). */
function floats(base64: string): number[] {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return [...new Float32Array(bytes.buffer)];
}

function norm(values: readonly number[]): number {
  return Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
}

Deno.test("choreoai/echo embeddings: deterministic unit vectors, dimensions, base64, usage", async () => {
  await using gateway = startGateway();
  const client = openaiClient(gateway);
  const { data, response } = await client.embeddings
    .create({ model: "choreoai/echo", input: ["hello world", "bye", "hello world"] })
    .withResponse();
  assert.equal(response.headers.get("x-choreoai-provider"), "choreoai");
  assert.equal(data.object, "list");
  assert.deepEqual(data.data.map((d) => d.index), [0, 1, 2]);
  assert.equal(data.data[0]?.embedding.length, 16);
  assert.ok(Math.abs(norm(data.data[0]?.embedding ?? []) - 1) < 1e-5);
  assert.deepEqual(data.data[0]?.embedding, data.data[2]?.embedding);
  assert.notDeepEqual(data.data[0]?.embedding, data.data[1]?.embedding);
  assert.ok(data.usage.prompt_tokens > 0);
  assert.equal(data.usage.total_tokens, data.usage.prompt_tokens);

  const small = await client.embeddings.create({
    model: "choreoai/echo",
    input: "hello world",
    dimensions: 4,
  });
  assert.equal(small.data[0]?.embedding.length, 4);

  // The official client asks for base64 by default and decodes it: compare with a raw request.
  const raw = await fetch(`${gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "choreoai/echo",
      input: "hello world",
      encoding_format: "base64",
    }),
  });
  const body = await raw.json();
  assert.equal(typeof body.data[0].embedding, "string");
  assert.deepEqual(floats(body.data[0].embedding), data.data[0]?.embedding);
});

Deno.test("embeddings reach OpenAI, Azure and Gemini with the server's keys", async (t) => {
  await t.step("OpenAI (family text-embedding-*)", async () => {
    await using openai = startFakeOpenAI();
    await using gateway = startGateway({
      env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: openai.baseUrl },
    });
    const answer = await openaiClient(gateway).embeddings.create({
      model: "text-embedding-3-small",
      input: ["a b", "c"],
      dimensions: 8,
      encoding_format: "float",
    });
    assert.deepEqual(answer.data[1]?.embedding, fakeEmbedding(1, 8));
    assert.equal(answer.usage.prompt_tokens, 3);
    const seen = openai.requests.find((r) => r.path === "/v1/embeddings");
    assert.equal(seen?.headers.get("authorization"), `Bearer ${PROVIDER_KEY}`);
    assert.equal(seen?.body?.model, "text-embedding-3-small");
    assert.equal(seen?.body?.dimensions, 8);
  });

  await t.step("Azure (azure/<deployment>)", async () => {
    await using azure = startFakeAzure();
    await using gateway = startGateway({
      env: { AZURE_OPENAI_API_KEY: AZURE_KEY, AZURE_OPENAI_ENDPOINT: azure.endpoint },
    });
    const { data, response } = await openaiClient(gateway).embeddings
      .create({ model: "azure/text-embedding-3-small", input: "hello", dimensions: 12 })
      .withResponse();
    assert.equal(response.headers.get("x-choreoai-provider"), "azure");
    assert.equal(data.data[0]?.embedding.length, 12);
    const [seen] = azure.requests;
    assert.equal(seen?.path, "/openai/deployments/text-embedding-3-small/embeddings");
    assert.equal(seen?.headers.get("api-key"), AZURE_KEY);
    assert.equal(seen?.headers.get("authorization"), null);
  });

  await t.step("Gemini (batchEmbedContents), base64 made by the gateway", async () => {
    await using gemini = startFakeGemini();
    await using gateway = startGateway({
      env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl },
    });
    const answer = await openaiClient(gateway).embeddings.create({
      model: "gemini/text-embedding-004",
      input: ["one", "two"],
      dimensions: 8,
    });
    assert.equal(answer.data.length, 2);
    assert.equal(answer.data[0]?.embedding.length, 8);
    assert.ok(answer.usage.prompt_tokens > 0, "usage is estimated: Gemini reports none");
    const seen = gemini.requests.find((r) => r.path.endsWith(":batchEmbedContents"));
    assert.equal(seen?.path, "/v1beta/models/text-embedding-004:batchEmbedContents");
    assert.equal(seen?.headers.get("x-goog-api-key"), GEMINI_KEY);
    const requests = seen?.body?.requests as Record<string, unknown>[];
    assert.deepEqual(requests[1], {
      model: "models/text-embedding-004",
      content: { parts: [{ text: "two" }] },
      outputDimensionality: 8,
    });
  });

  await t.step("Gemini: 250 inputs go as batches of 100, joined in order", async () => {
    await using gemini = startFakeGemini(undefined, {
      // Each vector starts with the number its text names, so the order can be checked.
      onEmbed: (body) =>
        Response.json({
          embeddings: (body.requests as { content: { parts: { text: string }[] } }[]).map((r) => ({
            values: [Number(r.content.parts[0]?.text), 0.5],
          })),
        }),
    });
    await using gateway = startGateway({
      env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl },
    });
    const input = Array.from({ length: 250 }, (_, i) => String(i));
    const answer = await openaiClient(gateway).embeddings.create({
      model: "gemini/text-embedding-004",
      input,
      encoding_format: "float",
    });
    const batches = gemini.requests.filter((r) => r.path.endsWith(":batchEmbedContents"));
    assert.deepEqual(batches.map((r) => (r.body?.requests as unknown[]).length), [100, 100, 50]);
    assert.equal(answer.data.length, 250);
    assert.ok(answer.data.every((d, i) => d.index === i && d.embedding[0] === i));
    assert.ok(answer.usage.prompt_tokens >= 250);
  });

  await t.step("Gemini refuses token-id input with a 400 naming input", async () => {
    await using gemini = startFakeGemini();
    await using gateway = startGateway({
      env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: gemini.baseUrl },
    });
    const error = await openaiClient(gateway).embeddings
      .create({ model: "gemini/text-embedding-004", input: [1, 2, 3] })
      .catch((e) => e);
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, "input");
    assert.equal(gemini.requests.length, 0);
  });
});

Deno.test("embeddings through the routing file: an OpenAI-compatible server, with fallback", async () => {
  await using broken = startFakeOpenAI({
    onEmbeddings: () =>
      Response.json({ error: { message: "down", type: "server_error" } }, { status: 500 }),
  });
  await using local = startFakeOpenAI({ apiKey: "" });
  await using gateway = startGateway({
    env: { BROKEN_KEY: PROVIDER_KEY },
    routingFile: {
      providers: {
        broken: { kind: "openai-compatible", base_url: broken.baseUrl, api_key_env: "BROKEN_KEY" },
        ollama: { kind: "openai-compatible", base_url: local.baseUrl },
      },
      models: {
        embed: { targets: [{ provider: "broken", model: "e5" }], fallbacks: ["embed-local"] },
        "embed-local": { targets: [{ provider: "ollama", model: "nomic-embed-text" }] },
      },
    },
  });
  const { data, response } = await openaiClient(gateway).embeddings
    .create({ model: "embed", input: "hello" })
    .withResponse();
  assert.equal(response.headers.get("x-choreoai-provider"), "ollama");
  assert.equal(data.data.length, 1);
  assert.equal(local.requests[0]?.body?.model, "nomic-embed-text");
});

Deno.test("embeddings: bad input, a provider without embeddings, scopes and limits", async (t) => {
  await t.step("a missing input is 400 naming it, nothing sent", async () => {
    await using gateway = startGateway();
    const response = await fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "choreoai/echo" }),
    });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.equal(body.error.param, "input");
    assert.equal(body.error.code, "invalid_request");
  });

  await t.step("Anthropic has no embeddings: 404 model_not_found", async () => {
    await using gateway = startGateway({ env: { ANTHROPIC_API_KEY: "sk-ant-x" } });
    const error = await openaiClient(gateway).embeddings
      .create({ model: "claude-sonnet-4-5", input: "hi" })
      .catch((e) => e);
    assert.ok(error instanceof OpenAI.NotFoundError, String(error));
    assert.equal(error.code, "model_not_found");
    assert.match(error.message, /no embeddings API/);
  });

  await t.step("endpoint and model scopes, and rate-limit headers", async () => {
    const chatOnly = makeKey({ endpoints: ["/v1/chat/completions"] });
    const limited = makeKey({ rpm: 2, models: ["choreoai/echo"] });
    const index = compileKeyIndex(parseKeyFile(keyFileText([chatOnly.record, limited.record])));
    await using gateway = startGateway({
      verifier: createKeyListVerifier(() => index),
      limiter: createMemoryLimiter({ now: () => performance.timeOrigin + performance.now() }),
    });
    const call = (token: string, model = "choreoai/echo") =>
      fetch(`${gateway.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ model, input: "hi" }),
      });
    const denied = await call(chatOnly.token);
    assert.equal(denied.status, 403);
    assert.equal((await denied.json()).error.code, "endpoint_not_allowed");

    const wrongModel = await call(limited.token, "text-embedding-3-small");
    assert.equal(wrongModel.status, 403);
    assert.equal((await wrongModel.json()).error.code, "model_not_allowed");

    const ok = await call(limited.token);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-ratelimit-limit-requests"), "2");
    await ok.body?.cancel();
    const limitedOut = await call(limited.token);
    assert.equal(limitedOut.status, 429);
    assert.ok(Number(limitedOut.headers.get("retry-after")) >= 1);
    await limitedOut.body?.cancel();
  });
});
