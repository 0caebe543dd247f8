/**
 * `CHOREOAI_MAX_RESPONSE_BYTES` end to end: a non-streamed upstream answer (chat, embeddings, or
 * an error body) larger than the limit is a 502 `upstream_error` naming the limit, and the
 * gateway stops reading it; streams are not limited.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { openaiClient, startGateway, waitFor } from "../_helpers/gateway.ts";
import {
  completionBody,
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";

const LIMIT = 4096;

function gatewayFor(baseUrl: string) {
  return startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: baseUrl,
      CHOREOAI_MAX_RESPONSE_BYTES: String(LIMIT),
    },
  });
}

function assertTooLarge(error: unknown): void {
  assert.ok(error instanceof OpenAI.InternalServerError, String(error));
  assert.equal(error.status, 502);
  assert.equal(error.type, "api_error");
  assert.equal(error.code, "upstream_error");
  assert.match(error.message, new RegExp(`limit of ${LIMIT} bytes`));
  assert.match(error.message, /CHOREOAI_MAX_RESPONSE_BYTES/);
}

const BIG = "x".repeat(2 * LIMIT);

Deno.test("an upstream answer larger than CHOREOAI_MAX_RESPONSE_BYTES is a 502 naming the limit", async (t) => {
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      if (body.stream === true) {
        const words = Array.from({ length: 500 }, () => "many words ");
        return new Response(sseBody(streamChunks(String(body.model), words, false)), {
          headers: SSE_RESPONSE_HEADERS,
        });
      }
      const text = JSON.stringify(body.messages);
      if (text.includes("small")) return undefined;
      if (text.includes("error")) {
        const error = { message: BIG, type: "invalid_request_error", param: null, code: null };
        return Response.json({ error }, { status: 400 });
      }
      return Response.json(completionBody(String(body.model), BIG));
    },
    onEmbeddings: (body) =>
      Response.json({
        object: "list",
        data: [{ object: "embedding", index: 0, embedding: Array(2000).fill(0.125) }],
        model: body.model,
        usage: { prompt_tokens: 1, total_tokens: 1 },
      }),
  });
  await using gateway = gatewayFor(upstream.baseUrl);
  const client = openaiClient(gateway);
  const ask = (content: string) =>
    client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content }] });

  await t.step("an answer within the limit passes", async () => {
    const completion = await ask("small please");
    assert.equal(completion.choices[0]?.message.content, "Hello from the fake upstream");
  });
  await t.step("a chat answer past it", async () => {
    assertTooLarge(await ask("big please").then(() => undefined, (e: unknown) => e));
  });
  await t.step("an error body past it", async () => {
    assertTooLarge(await ask("error please").then(() => undefined, (e: unknown) => e));
  });
  await t.step("an embeddings answer past it", async () => {
    const error = await client.embeddings
      .create({ model: "text-embedding-3-small", input: "hi" })
      .then(() => undefined, (e: unknown) => e);
    assertTooLarge(error);
  });
  await t.step("a stream is not limited", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      stream: true,
      messages: [{ role: "user", content: "big please" }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.ok(text.length > LIMIT, `only ${text.length} characters`);
  });
});

Deno.test("the gateway stops reading an endless upstream answer at the limit", async () => {
  const seen = { pulled: 0, cancelled: false };
  const total = 100_000; // 100 MiB at most: a bound on the test, never reached
  await using upstream = startFakeOpenAI({
    onChat: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"id":"chatcmpl-x","choices":["'));
          },
          pull(controller) {
            if (seen.pulled === total) return controller.close();
            seen.pulled++;
            controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
          },
          cancel() {
            seen.cancelled = true;
          },
        }),
        { headers: { "content-type": "application/json" } },
      ),
  });
  await using gateway = gatewayFor(upstream.baseUrl);
  const error = await openaiClient(gateway).chat.completions
    .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
    .then(() => undefined, (e: unknown) => e);
  assertTooLarge(error);
  await waitFor(() => seen.cancelled, 5_000);
  assert.ok(seen.pulled < total, "the upstream body was read to its end");
});
