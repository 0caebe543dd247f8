import assert from "node:assert/strict";
import type { StreamItem } from "../../src/providers/mod.ts";
import { openAIStream } from "../../src/providers/openai/stream.ts";
import { withEstimatedUsage } from "../../src/streaming/estimated_usage.ts";
import { estimateTokens } from "../../src/tokens/mod.ts";

/** Runs SSE data lines through the wrapped OpenAI translator and collects the items. */
function run(data: readonly string[], promptTokens = 12): StreamItem[] {
  const items: StreamItem[] = [];
  const translator = withEstimatedUsage(openAIStream("local"), promptTokens);
  for (const line of data) translator.event({ data: line }, (item) => items.push(item));
  translator.end((item) => items.push(item));
  return items;
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "chatcmpl-local",
    object: "chat.completion.chunk",
    created: 1_764_000_000,
    model: "llama",
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  });

Deno.test("withEstimatedUsage() adds one estimated usage chunk before [DONE] when the server sent none", async (t) => {
  await t.step("text", () => {
    const items = run([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hello" }),
      chunk({ content: " world" }),
      "[DONE]",
    ]);
    assert.deepEqual(items.map((i) => i.type), ["raw", "raw", "raw", "chunk", "done"]);
    const usage = items[3]?.type === "chunk" ? items[3].chunk : undefined;
    const completion = estimateTokens("Hello world");
    assert.deepEqual(usage, {
      id: "chatcmpl-local",
      object: "chat.completion.chunk",
      created: 1_764_000_000,
      model: "llama",
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: completion, total_tokens: 12 + completion },
    });
  });

  await t.step("tool-call names and arguments count too", () => {
    const items = run([
      chunk({
        tool_calls: [{
          index: 0,
          id: "c1",
          type: "function",
          function: { name: "get_weather", arguments: "" },
        }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
      "[DONE]",
    ], 5);
    const usage = items.find((i) => i.type === "chunk");
    const expected = estimateTokens('get_weather{"city":"Paris"}');
    assert.ok(usage?.type === "chunk");
    assert.equal((usage.chunk.usage as { completion_tokens: number }).completion_tokens, expected);
  });
});

Deno.test("withEstimatedUsage() adds nothing when the server reported usage, or the stream failed", async (t) => {
  await t.step("a usage chunk of the server's own", () => {
    const items = run([
      chunk({ content: "Hi" }),
      JSON.stringify({
        id: "x",
        object: "chat.completion.chunk",
        choices: [],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      }),
      "[DONE]",
    ]);
    assert.equal(
      items.filter((i) => i.type === "chunk").length,
      1,
      "only the server's usage chunk",
    );
  });
  await t.step("an error ends the stream without usage", () => {
    const items = run([chunk({ content: "Hi" }), '{"error":{"message":"boom"}}']);
    assert.deepEqual(items.map((i) => i.type), ["raw", "error"]);
  });
});
