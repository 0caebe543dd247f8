/**
 * `choreoai/echo` answers the Messages dialect through the canonical form, with nothing special:
 * Messages request → chat request → echo's completion or chunks → Messages answer or events.
 */
import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import type { ChatCompletionRequest } from "../../../src/openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../../../src/providers/echo.ts";
import type { TranslationContext } from "../../../src/providers/mod.ts";
import { toChatRequest } from "../../../src/dialects/messages/request.ts";
import { toMessagesResponse } from "../../../src/dialects/messages/response.ts";
import { parseMessagesRequest } from "../../../src/dialects/messages/schema.ts";
import { createMessagesSseWriter } from "../../../src/dialects/messages/stream.ts";
import { sdkStreamClient } from "./_sdk.ts";

const TRANSLATION: TranslationContext = { id: "chatcmpl-e", created: 1, model: "choreoai/echo" };
const CTX = { id: "msg_echo1", model: "choreoai/echo" };

function chatOf(body: Record<string, unknown>): ChatCompletionRequest {
  const parsed = parseMessagesRequest({ model: "choreoai/echo", max_tokens: 100, ...body });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error.message);
  const out = toChatRequest(parsed.request);
  if (out instanceof GatewayError) assert.fail(out.message);
  return out.chat;
}

const CONVERSATION = {
  system: [{ type: "text", text: "Be brief." }],
  messages: [
    { role: "user", content: "first" },
    { role: "assistant", content: [{ type: "text", text: "ok" }] },
    { role: "user", content: [{ type: "text", text: "Echo this back" }] },
  ],
};

Deno.test("echo answers a Messages request with the last user text", async () => {
  const chat = chatOf(CONVERSATION);
  const reply = await echoReply(chat);
  const answer = toMessagesResponse(echoCompletion(chat, reply, TRANSLATION), CTX);
  if (answer instanceof GatewayError) assert.fail(answer.message);
  assert.deepEqual(answer.content, [{ type: "text", text: "Echo this back" }]);
  assert.equal(answer.stop_reason, "end_turn");
  assert.equal(answer.model, "choreoai/echo");
  assert.equal(answer.usage.input_tokens, reply.usage.prompt_tokens);
  assert.equal(answer.usage.output_tokens, reply.usage.completion_tokens);
});

Deno.test("echo's max_tokens cut is stop_reason max_tokens", async () => {
  const chat = chatOf({
    max_tokens: 2,
    messages: [{ role: "user", content: "one two three four five" }],
  });
  const answer = toMessagesResponse(echoCompletion(chat, await echoReply(chat), TRANSLATION), CTX);
  if (answer instanceof GatewayError) assert.fail(answer.message);
  assert.equal(answer.stop_reason, "max_tokens");
  assert.equal(answer.usage.output_tokens, 2);
});

Deno.test("echo's stream becomes a Messages stream the SDK assembles", async () => {
  const chat = chatOf({ ...CONVERSATION, stream: true });
  const reply = await echoReply(chat);
  const writer = createMessagesSseWriter({ ...CTX, inputTokens: reply.usage.prompt_tokens });
  for (const chunk of echoChunks(chat, reply, TRANSLATION, true)) {
    writer.push({ type: "chunk", chunk });
  }
  writer.push({ type: "done" });
  assert.deepEqual(writer.usage, reply.usage);
  const message = await sdkStreamClient(writer.take()).messages.stream({
    model: "choreoai/echo",
    max_tokens: 100,
    messages: [{ role: "user", content: "Echo this back" }],
  }).finalMessage();
  assert.deepEqual(message.content, [{ type: "text", text: "Echo this back" }]);
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(message.usage.output_tokens, reply.usage.completion_tokens);
  assert.equal(message.usage.input_tokens, reply.usage.prompt_tokens);
});
