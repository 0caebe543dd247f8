/**
 * Usage as records keep it: OpenAI's counts with the shares billed apart (cache reads and writes,
 * reasoning), read from the usage of every path the gateway records.
 */
import assert from "node:assert/strict";
import { readOpenAIUsage, type RecordedUsage, withBilledDetails } from "../../src/openai/usage.ts";
import { fromAnthropicUsage, recordedAnthropicUsage } from "../../src/providers/anthropic/usage.ts";
import { nativeAnswerUsage } from "../../src/providers/anthropic/native.ts";
import { fromGeminiUsage } from "../../src/providers/gemini/finish_reason.ts";
import { responseUsage } from "../../src/providers/openai/responses.ts";
import { toChatUsage, toResponseUsage } from "../../src/dialects/responses/output.ts";
import { createSseWriter } from "../../src/streaming/client_stream.ts";

Deno.test("readOpenAIUsage() reads the counts and the shares billed apart", async (t) => {
  const cases: [string, unknown, RecordedUsage | undefined][] = [
    [
      "plain usage stays plain",
      { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
      { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
    ],
    [
      "zero details are left out (OpenAI always sends them)",
      {
        prompt_tokens: 9,
        completion_tokens: 6,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
      },
      { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
    ],
    [
      "OpenAI: cached and reasoning tokens",
      {
        prompt_tokens: 2000,
        completion_tokens: 500,
        total_tokens: 2500,
        prompt_tokens_details: { cached_tokens: 1536 },
        completion_tokens_details: { reasoning_tokens: 384 },
      },
      {
        prompt_tokens: 2000,
        completion_tokens: 500,
        total_tokens: 2500,
        cache_read_tokens: 1536,
        reasoning_tokens: 384,
      },
    ],
    [
      "cache writes (the gateway's Anthropic translation, OpenRouter)",
      {
        prompt_tokens: 300,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 150 },
      },
      {
        prompt_tokens: 300,
        completion_tokens: 5,
        total_tokens: 305,
        cache_read_tokens: 100,
        cache_write_tokens: 150,
      },
    ],
    [
      "details past what they are a share of are cut to it",
      {
        prompt_tokens: 100,
        completion_tokens: 10,
        total_tokens: 110,
        prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 80 },
        completion_tokens_details: { reasoning_tokens: 99 },
      },
      {
        prompt_tokens: 100,
        completion_tokens: 10,
        total_tokens: 110,
        cache_read_tokens: 80,
        cache_write_tokens: 20,
        reasoning_tokens: 10,
      },
    ],
    [
      "details that are not counts are ignored",
      {
        prompt_tokens: 10,
        completion_tokens: 1,
        total_tokens: 11,
        prompt_tokens_details: { cached_tokens: "5" },
        completion_tokens_details: null,
      },
      { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 },
    ],
    ["no completion_tokens", { prompt_tokens: 10 }, undefined],
    ["null", null, undefined],
    ["an array", [1, 2], undefined],
  ];
  for (const [name, value, expected] of cases) {
    await t.step(name, () => assert.deepEqual(readOpenAIUsage(value), expected));
  }
});

Deno.test("withBilledDetails() keeps the reads and writes within the prompt", () => {
  const usage = { prompt_tokens: 50, completion_tokens: 0, total_tokens: 50 };
  assert.deepEqual(withBilledDetails(usage, { cacheRead: 40, cacheWrite: 40, reasoning: 3 }), {
    ...usage,
    cache_read_tokens: 40,
    cache_write_tokens: 10,
  });
});

/** The usage each path records, from each provider's own counts. */
Deno.test("every path records the billed shares of its provider's usage", async (t) => {
  const anthropicCounts = {
    input_tokens: 10,
    cache_read_input_tokens: 1_000,
    cache_creation_input_tokens: 100,
    output_tokens: 7,
  };
  const anthropicRecorded = {
    prompt_tokens: 1_110,
    completion_tokens: 7,
    total_tokens: 1_117,
    cache_read_tokens: 1_000,
    cache_write_tokens: 100,
  };
  const cases: [string, () => RecordedUsage | undefined, RecordedUsage][] = [
    [
      "Anthropic, translated (answer and stream usage chunk): input_tokens excludes the cache",
      () => readOpenAIUsage(fromAnthropicUsage(anthropicCounts)),
      anthropicRecorded,
    ],
    [
      "Anthropic, recorded directly",
      () => recordedAnthropicUsage(anthropicCounts),
      anthropicRecorded,
    ],
    [
      "Anthropic Messages passed through",
      () => nativeAnswerUsage({ usage: anthropicCounts }),
      anthropicRecorded,
    ],
    [
      "Gemini: cached content, and thoughts outside candidatesTokenCount",
      () =>
        readOpenAIUsage(fromGeminiUsage({
          promptTokenCount: 1_000,
          cachedContentTokenCount: 400,
          candidatesTokenCount: 100,
          thoughtsTokenCount: 200,
          totalTokenCount: 1_300,
        })),
      {
        prompt_tokens: 1_000,
        completion_tokens: 300,
        total_tokens: 1_300,
        cache_read_tokens: 400,
        reasoning_tokens: 200,
      },
    ],
    [
      "Responses passed through (OpenAI, Azure)",
      () =>
        responseUsage({
          usage: {
            input_tokens: 31,
            input_tokens_details: { cached_tokens: 8 },
            output_tokens: 12,
            output_tokens_details: { reasoning_tokens: 4 },
            total_tokens: 43,
          },
        }),
      {
        prompt_tokens: 31,
        completion_tokens: 12,
        total_tokens: 43,
        cache_read_tokens: 8,
        reasoning_tokens: 4,
      },
    ],
    [
      "Responses usage back to chat usage",
      () =>
        toChatUsage(toResponseUsage({
          prompt_tokens: 20,
          completion_tokens: 6,
          total_tokens: 26,
          prompt_tokens_details: { cached_tokens: 8 },
          completion_tokens_details: { reasoning_tokens: 2 },
        })),
      {
        prompt_tokens: 20,
        completion_tokens: 6,
        total_tokens: 26,
        cache_read_tokens: 8,
        reasoning_tokens: 2,
      },
    ],
    [
      "a chat stream's usage chunk, whether or not the client asked for it",
      () => {
        const writer = createSseWriter(false);
        writer.push({
          type: "chunk",
          chunk: {
            choices: [],
            usage: {
              prompt_tokens: 100,
              completion_tokens: 50,
              total_tokens: 150,
              prompt_tokens_details: { cached_tokens: 64 },
              completion_tokens_details: { reasoning_tokens: 32 },
            },
          },
        });
        assert.equal(writer.take(), "", "the usage chunk itself is not sent");
        return writer.usage;
      },
      {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        cache_read_tokens: 64,
        reasoning_tokens: 32,
      },
    ],
  ];
  for (const [name, read, expected] of cases) {
    await t.step(name, () => assert.deepEqual(read(), expected));
  }
});
