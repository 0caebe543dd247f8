import assert from "node:assert/strict";
import { type FitTarget, fitToProvider } from "../../../src/dialects/messages/fit.ts";
import type { ChatCompletionRequest } from "../../../src/openai/schema.ts";

const CHAT: ChatCompletionRequest = {
  model: "m",
  messages: [{ role: "user", content: "Hi" }],
  top_k: 5,
  reasoning_effort: "medium",
};

const OPENAI: FitTarget = { providerName: "openai", kind: "openai-compatible", model: "gpt-4o" };

Deno.test("fitToProvider() keeps top_k and reasoning_effort only where they are taken", async (t) => {
  const cases: [string, FitTarget, boolean, boolean][] = [
    // name, target, keeps top_k, keeps reasoning_effort
    ["OpenAI gpt-4o", OPENAI, false, false],
    ["OpenAI o3-mini", { ...OPENAI, model: "o3-mini" }, false, true],
    ["OpenAI gpt-5", { ...OPENAI, model: "gpt-5-mini" }, false, true],
    [
      "Azure deployment gpt-4o",
      { providerName: "azure", kind: "azure", model: "gpt-4o" },
      false,
      false,
    ],
    [
      "Azure deployment o4-mini",
      { providerName: "eu", kind: "azure", model: "o4-mini" },
      false,
      true,
    ],
    ["Gemini", { providerName: "gemini", kind: "gemini", model: "gemini-2.5-flash" }, true, true],
    [
      "an OpenAI-compatible server",
      { providerName: "vllm", kind: "openai-compatible", model: "qwen3" },
      true,
      true,
    ],
  ];
  for (const [name, target, topK, reasoning] of cases) {
    await t.step(name, () => {
      const fitted = fitToProvider(CHAT, target, "thinking");
      assert.equal(fitted.chat.top_k, topK ? 5 : undefined);
      assert.equal(fitted.chat.reasoning_effort, reasoning ? "medium" : undefined);
      assert.deepEqual(fitted.adjusted, [
        ...(topK ? [] : ["top_k"]),
        ...(reasoning ? [] : ["thinking"]),
      ]);
      assert.equal(CHAT.top_k, 5, "the request itself is unchanged");
    });
  }
});

Deno.test("fitToProvider() names the field that set the reasoning, and leaves a plain request alone", async (t) => {
  await t.step("output_config.effort", () => {
    const { reasoning_effort } = CHAT;
    const fitted = fitToProvider(
      { ...CHAT, top_k: undefined, reasoning_effort },
      OPENAI,
      "output_config.effort",
    );
    assert.deepEqual(fitted.adjusted, ["output_config.effort"]);
  });
  await t.step("nothing to fit: the same object", () => {
    const plain: ChatCompletionRequest = { model: "m", messages: [] };
    assert.equal(fitToProvider(plain, OPENAI).chat, plain);
  });
});
