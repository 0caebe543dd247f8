import assert from "node:assert/strict";
import { type FitTarget, fitToProvider } from "../../src/dialects/fit.ts";
import type { ChatCompletionRequest } from "../../src/openai/schema.ts";

const CHAT: ChatCompletionRequest = {
  model: "m",
  messages: [{ role: "user", content: "Hi" }],
  top_k: 5,
  reasoning_effort: "medium",
  verbosity: "low",
  prompt_cache_key: "k",
};

const OPENAI: FitTarget = { providerName: "openai", kind: "openai-compatible", model: "gpt-4o" };

Deno.test("fitToProvider() keeps each field only where it is taken", async (t) => {
  const cases: [string, FitTarget, boolean, boolean, boolean, boolean][] = [
    // name, target, keeps top_k, reasoning_effort, verbosity, prompt_cache_key
    ["OpenAI gpt-4o", OPENAI, false, false, false, true],
    ["OpenAI o3-mini", { ...OPENAI, model: "o3-mini" }, false, true, false, true],
    ["OpenAI gpt-5", { ...OPENAI, model: "gpt-5-mini" }, false, true, true, true],
    [
      "Azure deployment gpt-4o",
      { providerName: "azure", kind: "azure", model: "gpt-4o" },
      false,
      false,
      false,
      false,
    ],
    [
      "Azure deployment o4-mini",
      { providerName: "eu", kind: "azure", model: "o4-mini" },
      false,
      true,
      false,
      false,
    ],
    [
      "Azure deployment gpt-5",
      { providerName: "eu", kind: "azure", model: "gpt-5" },
      false,
      true,
      true,
      false,
    ],
    [
      "Gemini",
      { providerName: "gemini", kind: "gemini", model: "gemini-2.5-flash" },
      true,
      true,
      false,
      false,
    ],
    [
      "Anthropic",
      { providerName: "anthropic", kind: "anthropic", model: "claude-sonnet-4-5" },
      false,
      false,
      false,
      false,
    ],
    [
      "an OpenAI-compatible server",
      { providerName: "vllm", kind: "openai-compatible", model: "gpt-5" },
      true,
      true,
      false,
      false,
    ],
  ];
  for (const [name, target, topK, reasoning, verbosity, cacheKey] of cases) {
    await t.step(name, () => {
      const fitted = fitToProvider(CHAT, target, { reasoning_effort: "thinking" });
      assert.equal(fitted.chat.top_k, topK ? 5 : undefined);
      assert.equal(fitted.chat.reasoning_effort, reasoning ? "medium" : undefined);
      assert.equal(fitted.chat.verbosity, verbosity ? "low" : undefined);
      assert.equal(fitted.chat.prompt_cache_key, cacheKey ? "k" : undefined);
      assert.deepEqual(fitted.adjusted, [
        ...(topK ? [] : ["top_k"]),
        ...(reasoning ? [] : ["thinking"]),
        ...(verbosity ? [] : ["verbosity"]),
      ]);
      assert.equal(CHAT.top_k, 5, "the request itself is unchanged");
    });
  }
});

Deno.test("fitToProvider() names fields as the dialect does, and leaves a plain request alone", async (t) => {
  await t.step("Messages' output_config.effort", () => {
    const fitted = fitToProvider(
      { model: "m", messages: [], reasoning_effort: "high" },
      OPENAI,
      { reasoning_effort: "output_config.effort" },
    );
    assert.deepEqual(fitted.adjusted, ["output_config.effort"]);
  });
  await t.step("Responses' reasoning.effort and text.verbosity", () => {
    const fitted = fitToProvider(
      { model: "m", messages: [], reasoning_effort: "high", verbosity: "high" },
      { providerName: "anthropic", kind: "anthropic", model: "claude" },
      { reasoning_effort: "reasoning.effort", verbosity: "text.verbosity" },
    );
    assert.deepEqual(fitted.adjusted, ["reasoning.effort", "text.verbosity"]);
  });
  await t.step("a dropped prompt_cache_key alone is not named", () => {
    const fitted = fitToProvider({ model: "m", messages: [], prompt_cache_key: "k" }, {
      providerName: "gemini",
      kind: "gemini",
      model: "gemini-2.5-flash",
    });
    assert.deepEqual(fitted.adjusted, []);
    assert.equal("prompt_cache_key" in fitted.chat, false);
  });
  await t.step("nothing to fit: the same object", () => {
    const plain: ChatCompletionRequest = { model: "m", messages: [] };
    assert.equal(fitToProvider(plain, OPENAI).chat, plain);
  });
});
