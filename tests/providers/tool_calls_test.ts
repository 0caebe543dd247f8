/** Both translating adapters refuse a tool result that answers no earlier call, the same way. */
import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.ts";
import { parseChatCompletionRequest } from "../../src/openai/schema.ts";
import { toAnthropicRequest } from "../../src/providers/anthropic/request.ts";
import { toGeminiRequest } from "../../src/providers/gemini/request.ts";
import type { ProviderTarget, UpstreamRequest } from "../../src/providers/mod.ts";

type Translate = (
  body: ReturnType<typeof chat>,
  target: ProviderTarget,
) => UpstreamRequest | GatewayError;

const ADAPTERS: [string, Translate][] = [
  ["Anthropic", toAnthropicRequest],
  ["Gemini", toGeminiRequest],
];

function chat(messages: unknown[]) {
  const parsed = parseChatCompletionRequest({ model: "m", messages });
  if (!parsed.ok) throw parsed.error;
  return parsed.request;
}

const CALL = {
  role: "assistant",
  content: null,
  tool_calls: [{ id: "call_a", type: "function", function: { name: "f", arguments: "{}" } }],
};

Deno.test("toAnthropicRequest() and toGeminiRequest() refuse a tool result that answers no earlier call", async (t) => {
  const cases: [string, unknown[], string, string][] = [
    [
      "no assistant call at all",
      [
        { role: "user", content: "Hi" },
        { role: "tool", tool_call_id: "call_x", content: "1" },
      ],
      "messages[1].tool_call_id",
      "call_x",
    ],
    [
      "an id no call has",
      [
        { role: "user", content: "Hi" },
        CALL,
        { role: "tool", tool_call_id: "call_a", content: "1" },
        { role: "tool", tool_call_id: "call_zzz", content: "2" },
      ],
      "messages[3].tool_call_id",
      "call_zzz",
    ],
    [
      "a result before its call",
      [
        { role: "user", content: "Hi" },
        { role: "tool", tool_call_id: "call_a", content: "1" },
        CALL,
      ],
      "messages[1].tool_call_id",
      "call_a",
    ],
  ];
  for (const [provider, translate] of ADAPTERS) {
    for (const [name, messages, param, id] of cases) {
      await t.step(`${provider}: ${name}`, () => {
        const built = translate(chat(messages), {
          model: "m",
          baseUrl: "https://upstream.example",
          apiKey: "k",
        });
        assert.ok(built instanceof GatewayError, "expected a 400");
        assert.equal(built.status, 400);
        assert.equal(built.type, "invalid_request_error");
        assert.equal(built.code, "invalid_request");
        assert.equal(built.param, param);
        assert.ok(built.message.includes(`"${id}"`), built.message);
        assert.ok(built.message.includes(param), built.message);
      });
    }
  }
});
