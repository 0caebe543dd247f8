import assert from "node:assert/strict";
import { toChatRequest } from "../../src/dialects/messages/request.ts";
import { parseMessagesRequest } from "../../src/dialects/messages/schema.ts";
import { GatewayError } from "../../src/errors.ts";
import { messagesReservation } from "../../src/routes/messages.ts";
import { tokenReservation } from "../../src/routes/chat_completions.ts";
import { estimateTokens } from "../../src/tokens/mod.ts";

function request(body: Record<string, unknown>) {
  const parsed = parseMessagesRequest({
    model: "gpt-4o",
    max_tokens: 300,
    messages: [{ role: "user", content: "How many tokens is this?" }],
    ...body,
  });
  assert.ok(parsed.ok);
  return parsed.request;
}

Deno.test("messagesReservation() reserves the chat route's prompt estimate plus max_tokens", async (t) => {
  await t.step("a request that translates", () => {
    const messages = request({ system: "Be brief" });
    const canonical = toChatRequest(messages);
    assert.ok(!(canonical instanceof GatewayError));
    assert.deepEqual(messagesReservation(messages, canonical), {
      prompt: tokenReservation(canonical.chat).prompt,
      completion: { perChoice: 300, choices: 1, setBy: "max_tokens" },
    });
  });
  await t.step("a request only Anthropic can serve: its JSON estimated", () => {
    const tools = [{ type: "web_search_20250305", name: "web_search" }];
    const messages = request({ tools });
    const canonical = toChatRequest(messages);
    assert.ok(canonical instanceof GatewayError);
    const reservation = messagesReservation(messages, canonical);
    assert.equal(
      reservation.prompt,
      estimateTokens(JSON.stringify([undefined, messages.messages, tools])),
    );
    assert.equal(reservation.completion?.perChoice, 300);
  });
});
