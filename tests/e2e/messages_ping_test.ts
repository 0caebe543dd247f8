/**
 * Translated Messages streams send Anthropic's `ping` event while the provider is silent, once
 * the stream has started (it is held until the provider's first event), as Anthropic does.
 */
import assert from "node:assert/strict";
import { anthropicClient } from "../_helpers/anthropic_client.ts";
import {
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import { CLIENT_KEY, delay, startGateway } from "../_helpers/gateway.ts";

/** A provider stream that is silent for `before` ms, sends one chunk, then is silent `during` ms. */
function slowStream(model: string, before: number, during: number): Response {
  const chunks = streamChunks(model, ["Hello", " there"], true);
  const encoder = new TextEncoder();
  const event = (chunk: unknown) => encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`);
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      await delay(before);
      controller.enqueue(event(chunks[0]));
      controller.enqueue(event(chunks[1]));
      await delay(during);
      for (const chunk of chunks.slice(2)) controller.enqueue(event(chunk));
      controller.enqueue(encoder.encode("data: [DONE]\n\n"));
      controller.close();
    },
  });
  return new Response(body, { headers: SSE_RESPONSE_HEADERS });
}

Deno.test("a translated Messages stream pings while the provider is silent, not before it starts", async () => {
  await using upstream = startFakeOpenAI({
    onChat: (body) => slowStream(String(body.model), 200, 500),
  });
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    pingIntervalMs: 50,
  });
  const params = {
    model: "gpt-4o",
    max_tokens: 100,
    stream: true,
    messages: [{ role: "user", content: "Hi" }],
  };
  const response = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": CLIENT_KEY },
    body: JSON.stringify(params),
  });
  const names = (await response.text()).trim().split("\n\n").map((event) =>
    event.split("\n")[0]?.replace("event: ", "")
  );
  assert.equal(names[0], "message_start", "held until the provider's first event");
  const pings = names.filter((name) => name === "ping").length;
  assert.ok(pings >= 2, `${pings} pings during 500 ms of silence at one per 50 ms`);
  const firstPing = names.indexOf("ping");
  const lastText = names.lastIndexOf("content_block_delta");
  assert.ok(firstPing > 0 && firstPing < lastText, names.join(","));
  assert.equal(names.at(-1), "message_stop");
  const { max_tokens, messages, model } = params;
  const message = await anthropicClient(gateway).messages.stream({
    model,
    max_tokens,
    messages: [{ role: "user", content: messages[0]?.content ?? "" }],
  }).finalMessage();
  assert.deepEqual(message.content, [{ type: "text", text: "Hello there" }]);
});
