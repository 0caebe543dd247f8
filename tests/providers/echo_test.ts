import assert from "node:assert/strict";
import fc from "fast-check";
import { type ChatCompletionRequest, parseChatCompletionRequest } from "../../src/openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../../src/providers/echo.ts";
import type { TranslationContext } from "../../src/providers/mod.ts";
import { loadTokenizer } from "../../src/tokens/o200k.ts";

function chat(body: Record<string, unknown>): ChatCompletionRequest {
  const result = parseChatCompletionRequest({ model: "choreoai/echo", ...body });
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function context(): TranslationContext {
  return { id: "chatcmpl-test1", created: 1_760_000_000, model: "choreoai/echo" };
}

interface Choice {
  index: number;
  delta: { role?: string; content?: string };
  finish_reason: string | null;
}

function choicesOf(chunk: Record<string, unknown>): Choice[] {
  assert.ok(Array.isArray(chunk.choices));
  return chunk.choices as Choice[];
}

/** The content of one choice, as a client would assemble it from the stream. */
function joined(chunks: Record<string, unknown>[], index: number): string {
  return chunks
    .flatMap(choicesOf)
    .filter((c) => c.index === index)
    .map((c) => c.delta.content ?? "")
    .join("");
}

const LONG_TEXT = "one two three four five six seven eight nine ten eleven twelve";

Deno.test("echoReply() answers with the last user message", async (t) => {
  const cases: [string, unknown[], string][] = [
    ["a single string", [{ role: "user", content: "Hello world" }], "Hello world"],
    ["the last of several user messages", [
      { role: "system", content: "Be brief." },
      { role: "user", content: "first" },
      { role: "assistant", content: "reply" },
      { role: "user", content: "second" },
      { role: "assistant", content: "not this" },
    ], "second"],
    ["the text parts of an array", [{
      role: "user",
      content: [
        { type: "text", text: "Hello " },
        { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        { type: "text", text: "world" },
      ],
    }], "Hello world"],
    ["whitespace kept exactly", [{ role: "user", content: "  a\n\n b\t " }], "  a\n\n b\t "],
    ["no user message", [{ role: "system", content: "Only a system prompt" }], ""],
  ];
  for (const [name, messages, expected] of cases) {
    await t.step(name, async () => {
      const reply = await echoReply(chat({ messages }));
      assert.equal(reply.text, expected);
      assert.equal(reply.finishReason, "stop");
      const completion = echoCompletion(chat({ messages }), reply, context());
      assert.deepEqual(completion.choices, [{
        index: 0,
        message: { role: "assistant", content: expected, refusal: null },
        logprobs: null,
        finish_reason: "stop",
      }]);
    });
  }
});

Deno.test("echoReply() reports consistent usage", async (t) => {
  const cases: [string, Record<string, unknown>, number][] = [
    ["Hello world is 2 tokens", { messages: [{ role: "user", content: "Hello world" }] }, 2],
    ["empty reply is 0 tokens", { messages: [{ role: "system", content: "x" }] }, 0],
    ["n=3 counts every choice", { n: 3, messages: [{ role: "user", content: "Hello world" }] }, 6],
  ];
  for (const [name, body, completionTokens] of cases) {
    await t.step(name, async () => {
      const { usage } = await echoReply(chat(body));
      assert.equal(usage.completion_tokens, completionTokens);
      assert.ok(usage.prompt_tokens > 0);
      assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
    });
  }
  await t.step("a longer prompt counts more prompt tokens", async () => {
    const short = await echoReply(chat({ messages: [{ role: "user", content: "hi" }] }));
    const long = await echoReply(chat({ messages: [{ role: "user", content: LONG_TEXT }] }));
    assert.ok(long.usage.prompt_tokens > short.usage.prompt_tokens);
  });
});

Deno.test("echoReply() truncates at the token limit with finish_reason length", async (t) => {
  const cases: [string, Record<string, unknown>, number][] = [
    ["max_tokens 3", { max_tokens: 3 }, 3],
    ["max_tokens 1", { max_tokens: 1 }, 1],
    ["max_completion_tokens wins over max_tokens", { max_completion_tokens: 2, max_tokens: 5 }, 2],
  ];
  for (const [name, limits, expected] of cases) {
    await t.step(name, async () => {
      const request = chat({ ...limits, messages: [{ role: "user", content: LONG_TEXT }] });
      const reply = await echoReply(request);
      assert.equal(reply.finishReason, "length");
      assert.equal(reply.usage.completion_tokens, expected);
      assert.equal((await loadTokenizer()).encode(reply.text).length, expected);
      assert.ok(LONG_TEXT.startsWith(reply.text), reply.text);
      assert.ok(reply.text.length < LONG_TEXT.length);
      const completion = echoCompletion(request, reply, context());
      assert.deepEqual(completion.usage, reply.usage);
      assert.equal((completion.choices[0] as Choice).finish_reason, "length");
    });
  }
  await t.step("a limit at or above the length keeps the text and stop", async () => {
    const tokens = (await loadTokenizer()).encode(LONG_TEXT).length;
    for (const max_tokens of [tokens, tokens + 10]) {
      const reply = await echoReply(
        chat({ max_tokens, messages: [{ role: "user", content: LONG_TEXT }] }),
      );
      assert.equal(reply.text, LONG_TEXT);
      assert.equal(reply.finishReason, "stop");
      assert.equal(reply.usage.completion_tokens, tokens);
    }
  });
});

Deno.test("echoCompletion() builds a chat.completion with n choices", async () => {
  const request = chat({ n: 2, messages: [{ role: "user", content: "Hello world" }] });
  const reply = await echoReply(request);
  const completion = echoCompletion(request, reply, context());
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.id, "chatcmpl-test1");
  assert.equal(completion.created, 1_760_000_000);
  assert.equal(completion.model, "choreoai/echo");
  assert.deepEqual(
    completion.choices.map((c) => [(c as Choice).index, (c as Choice).finish_reason]),
    [[0, "stop"], [1, "stop"]],
  );
  for (const choice of completion.choices) {
    assert.deepEqual((choice as { message: unknown }).message, {
      role: "assistant",
      content: "Hello world",
      refusal: null,
    });
  }
  assert.deepEqual(completion.usage, reply.usage);
});

Deno.test("echoChunks() streams the reply so that it joins back exactly", async (t) => {
  const texts = [
    "Hello world",
    "  leading, inner   and trailing  ",
    "line\n\nbreaks\n",
    "   ",
    "x",
    "",
  ];
  for (const text of texts) {
    await t.step(JSON.stringify(text), async () => {
      const request = chat({ messages: [{ role: "user", content: text }] });
      const chunks = echoChunks(request, await echoReply(request), context(), false);
      assert.equal(joined(chunks, 0), text);
    });
  }
});

Deno.test("echoChunks() streams any text so that it joins back exactly", async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 200 }), async (text) => {
      const request = chat({ messages: [{ role: "user", content: text }] });
      const chunks = echoChunks(request, await echoReply(request), context(), false);
      assert.equal(joined(chunks, 0), text);
    }),
    { numRuns: 200 },
  );
});

Deno.test("echoChunks() frames the stream like OpenAI", async (t) => {
  const request = chat({ messages: [{ role: "user", content: "one two three" }] });
  const reply = await echoReply(request);

  await t.step("every chunk is a chat.completion.chunk of the context", () => {
    for (const chunk of echoChunks(request, reply, context(), true)) {
      assert.equal(chunk.object, "chat.completion.chunk");
      assert.equal(chunk.id, "chatcmpl-test1");
      assert.equal(chunk.created, 1_760_000_000);
      assert.equal(chunk.model, "choreoai/echo");
    }
  });
  await t.step("the first chunk has role assistant", () => {
    const [first] = echoChunks(request, reply, context(), false);
    assert.ok(first !== undefined);
    assert.equal(choicesOf(first)[0]?.delta.role, "assistant");
  });
  await t.step("only the last choice chunk has a finish_reason", () => {
    const reasons = echoChunks(request, reply, context(), false)
      .flatMap(choicesOf)
      .map((c) => c.finish_reason);
    assert.equal(reasons.at(-1), "stop");
    assert.ok(reasons.slice(0, -1).every((r) => r === null), JSON.stringify(reasons));
  });
  await t.step("the finish_reason is length after truncation", async () => {
    const limited = chat({ max_tokens: 1, messages: [{ role: "user", content: "one two three" }] });
    const reasons = echoChunks(limited, await echoReply(limited), context(), false)
      .flatMap(choicesOf)
      .map((c) => c.finish_reason);
    assert.equal(reasons.at(-1), "length");
  });
  await t.step("with usage: a last chunk with choices [] and the usage", () => {
    const chunks = echoChunks(request, reply, context(), true);
    const last = chunks.at(-1);
    assert.ok(last !== undefined);
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, reply.usage);
    assert.equal(chunks.filter((c) => choicesOf(c).length === 0).length, 1);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
  });
  await t.step("without usage: no usage chunk and no usage key", () => {
    const chunks = echoChunks(request, reply, context(), false);
    for (const chunk of chunks) {
      assert.ok(choicesOf(chunk).length > 0);
      assert.ok(!("usage" in chunk));
    }
  });
});

Deno.test("echoChunks() with n=2 streams two complete choices", async () => {
  const request = chat({ n: 2, messages: [{ role: "user", content: "Hello there world" }] });
  const chunks = echoChunks(request, await echoReply(request), context(), true);
  for (const index of [0, 1]) {
    const choices = chunks.flatMap(choicesOf).filter((c) => c.index === index);
    assert.equal(choices[0]?.delta.role, "assistant");
    assert.equal(choices.at(-1)?.finish_reason, "stop");
    assert.equal(joined(chunks, index), "Hello there world");
  }
  assert.deepEqual(
    [...new Set(chunks.flatMap(choicesOf).map((c) => c.index))].sort(),
    [0, 1],
  );
});
