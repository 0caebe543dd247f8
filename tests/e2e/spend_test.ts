/**
 * The cost of every request, end to end: the official OpenAI client through a real gateway (with
 * `createPricing`, the package's prices as pinned) to fake upstreams that report cached, cache-write
 * and reasoning tokens; each usage record's `cost_usd` and the access log line's must be the cost
 * worked out by hand from the prices per million tokens (a token at $P per Mtok costs P µ$).
 */
import assert from "node:assert/strict";
import { createPricing } from "../../src/spend/create_pricing.ts";
import type { UsageRecord } from "../../src/usage/store.ts";
import { openaiClient, startGateway, type TestGateway, waitFor } from "../_helpers/gateway.ts";
import {
  completionBody,
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import { ANTHROPIC_KEY, messageBody, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { GEMINI_KEY, generateBody, startFakeGemini } from "../_helpers/fake_gemini.ts";

const NOW = Date.UTC(2026, 11, 1);

/** OpenAI's usage with 400 of 1,000 prompt tokens cached and 50 of 200 spent reasoning. */
const OPENAI_USAGE = {
  prompt_tokens: 1000,
  completion_tokens: 200,
  total_tokens: 1200,
  prompt_tokens_details: { cached_tokens: 400, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 50, audio_tokens: 0 },
};
/** gpt-4o at $2.50 input, $1.25 cached input, $10 output per Mtok; reasoning is output. */
const GPT_4O_COST = (600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6;

function recording(): { records: UsageRecord[]; usage: { record(entry: UsageRecord): void } } {
  const records: UsageRecord[] = [];
  return { records, usage: { record: (entry) => records.push(entry) } };
}

/** The access log line of the request recorded last. */
function lastRequestLine(gateway: TestGateway): Record<string, unknown> | undefined {
  return gateway.logs.findLast((line) => line.msg === "request");
}

Deno.test("OpenAI: the cost of cached and reasoning tokens reaches the record and the log", async (t) => {
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      const model = String(body.model);
      if (body.stream !== true) {
        return Response.json({ ...completionBody(model), usage: OPENAI_USAGE });
      }
      const chunks = streamChunks(model, ["Hi", " there"], true);
      chunks[chunks.length - 1] = { ...chunks.at(-1), usage: OPENAI_USAGE };
      return new Response(sseBody(chunks), { headers: SSE_RESPONSE_HEADERS });
    },
  });
  const { records, usage } = recording();
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    usage,
    pricing: createPricing({ now: () => NOW }),
  });
  const client = openaiClient(gateway);
  const messages = [{ role: "user" as const, content: "Hi" }];

  await t.step("non-stream", async () => {
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages });
    assert.equal(completion.usage?.prompt_tokens_details?.cached_tokens, 400);
    await waitFor(() => records.length === 1);
    assert.equal(records[0]?.cost_usd, GPT_4O_COST);
    assert.equal(records[0]?.unpriced, false);
    const line = lastRequestLine(gateway);
    assert.equal(line?.cost_usd, GPT_4O_COST);
    assert.equal(line?.unpriced, undefined);
    assert.equal(line?.target, undefined, "the priced target is not logged");
    assert.deepEqual(line?.usage, {
      prompt_tokens: 1000,
      completion_tokens: 200,
      total_tokens: 1200,
      cache_read_tokens: 400,
      reasoning_tokens: 50,
    });
  });

  for (const includeUsage of [true, false]) {
    await t.step(`stream, include_usage ${includeUsage}`, async () => {
      const before = records.length;
      const stream = await client.chat.completions.create({
        model: "gpt-4o",
        messages,
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      let sawUsage = false;
      for await (const chunk of stream) {
        sawUsage ||= chunk.usage !== null && chunk.usage !== undefined;
      }
      assert.equal(sawUsage, includeUsage);
      await waitFor(() => records.length === before + 1);
      assert.equal(records.at(-1)?.cost_usd, GPT_4O_COST);
      assert.equal(lastRequestLine(gateway)?.cost_usd, GPT_4O_COST);
    });
  }

  await t.step("embeddings cost their input tokens", async () => {
    const before = records.length;
    // The fake counts words: 500 tokens of text-embedding-3-small at $0.02 per Mtok.
    await client.embeddings.create({
      model: "text-embedding-3-small",
      input: Array.from({ length: 500 }, (_, i) => `w${i}`).join(" "),
    });
    await waitFor(() => records.length === before + 1);
    assert.equal(records.at(-1)?.cost_usd, 500 * 0.02 / 1e6);
    assert.equal(lastRequestLine(gateway)?.cost_usd, 500 * 0.02 / 1e6);
  });
});

Deno.test("Anthropic through chat completions: cache reads and writes priced apart", async () => {
  await using upstream = startFakeAnthropic((body) =>
    Response.json({
      ...messageBody(String(body.model), "Hi"),
      usage: {
        input_tokens: 100,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 200,
        output_tokens: 50,
      },
    })
  );
  const { records, usage } = recording();
  await using gateway = startGateway({
    env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: upstream.baseUrl },
    usage,
    pricing: createPricing({ now: () => NOW }),
  });
  const completion = await openaiClient(gateway).chat.completions.create({
    model: "claude-sonnet-4-5",
    messages: [{ role: "user", content: "Hi" }],
  });
  // The whole prompt, its cache reads (and the writes, OpenRouter's way) as shares of it.
  assert.equal(completion.usage?.prompt_tokens, 1300);
  assert.deepEqual(completion.usage?.prompt_tokens_details, {
    cached_tokens: 1000,
    cache_write_tokens: 200,
  });
  await waitFor(() => records.length === 1);
  // $3 input, $0.30 cache read, $3.75 cache write, $15 output per Mtok.
  const cost = (100 * 3 + 1000 * 0.3 + 200 * 3.75 + 50 * 15) / 1e6;
  assert.equal(records[0]?.cost_usd, cost);
  assert.equal(lastRequestLine(gateway)?.cost_usd, cost);
  assert.deepEqual(lastRequestLine(gateway)?.usage, {
    prompt_tokens: 1300,
    completion_tokens: 50,
    total_tokens: 1350,
    cache_read_tokens: 1000,
    cache_write_tokens: 200,
  });
});

Deno.test("Gemini through chat completions: cached content and thoughts", async () => {
  await using upstream = startFakeGemini(() =>
    Response.json({
      ...generateBody([{ text: "Hi" }]),
      usageMetadata: {
        promptTokenCount: 1000,
        cachedContentTokenCount: 400,
        candidatesTokenCount: 100,
        thoughtsTokenCount: 200,
        totalTokenCount: 1300,
      },
    })
  );
  const { records, usage } = recording();
  await using gateway = startGateway({
    env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: upstream.baseUrl },
    usage,
    pricing: createPricing({ now: () => NOW }),
  });
  await openaiClient(gateway).chat.completions.create({
    model: "gemini-2.5-flash",
    messages: [{ role: "user", content: "Hi" }],
  });
  await waitFor(() => records.length === 1);
  // $0.30 input, $0.03 cached, $2.50 output (thoughts included) per Mtok.
  const cost = (600 * 0.3 + 400 * 0.03 + 300 * 2.5) / 1e6;
  assert.equal(records[0]?.cost_usd, cost);
  assert.equal(lastRequestLine(gateway)?.cost_usd, cost);
});

Deno.test("routing-file prices win; an OpenAI-compatible server without them is unpriced, warned once", async (t) => {
  await using openai = startFakeOpenAI({
    onChat: (body) => Response.json({ ...completionBody(String(body.model)), usage: OPENAI_USAGE }),
  });
  await using local = startFakeOpenAI({
    apiKey: "",
    onChat: (body) => Response.json({ ...completionBody(String(body.model)), usage: OPENAI_USAGE }),
  });
  const { records, usage } = recording();
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: openai.baseUrl },
    routingFile: {
      providers: { local: { kind: "openai-compatible", base_url: local.baseUrl } },
      models: {
        "cheap-gpt": {
          targets: [{ provider: "openai", model: "gpt-4o" }],
          prices: { input_per_mtok: 1, output_per_mtok: 2, cache_read_per_mtok: 0.5 },
        },
        "priced-llama": {
          prices: { input_per_mtok: 9, output_per_mtok: 9 },
          targets: [{
            provider: "local",
            model: "llama3",
            prices: { input_per_mtok: 0.05, output_per_mtok: 0.1 },
          }],
        },
        llama: { targets: [{ provider: "local", model: "llama3" }] },
      },
    },
    usage,
    pricing: createPricing({ now: () => NOW }),
  });
  const client = openaiClient(gateway);
  const ask = async (model: string) => {
    const before = records.length;
    await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] });
    await waitFor(() => records.length === before + 1);
    return { record: records.at(-1), line: lastRequestLine(gateway) };
  };
  const warnings = () => gateway.logs.filter((line) => /no price known/.test(String(line.msg)));

  await t.step("a model's prices win over the package's", async () => {
    const { record, line } = await ask("cheap-gpt");
    const cost = (600 * 1 + 400 * 0.5 + 200 * 2) / 1e6;
    assert.equal(record?.cost_usd, cost);
    assert.equal(line?.cost_usd, cost);
  });
  await t.step("a target's prices win over its model's", async () => {
    const { record } = await ask("priced-llama");
    assert.equal(record?.cost_usd, (1000 * 0.05 + 200 * 0.1) / 1e6);
  });
  await t.step("without prices: cost 0, unpriced, one warning for the model", async () => {
    for (let i = 0; i < 2; i++) {
      const { record, line } = await ask("llama");
      assert.equal(record?.cost_usd, 0);
      assert.equal(record?.unpriced, true);
      assert.equal(line?.cost_usd, 0);
      assert.equal(line?.unpriced, true);
    }
    assert.equal(warnings().length, 1);
    assert.equal(warnings()[0]?.upstream_model, "llama3");
    assert.equal(warnings()[0]?.provider, "local");
    // The same server under its own name is the same model: still one warning.
    await ask("local/llama3");
    assert.equal(warnings().length, 1);
  });
});

Deno.test("the echo model is free, not unpriced; an error before any provider costs nothing", async () => {
  const { records, usage } = recording();
  await using gateway = startGateway({ usage, pricing: createPricing({ now: () => NOW }) });
  const client = openaiClient(gateway);
  await client.chat.completions.create({
    model: "choreoai/echo",
    messages: [{ role: "user", content: "Hi" }],
  });
  await waitFor(() => records.length === 1);
  assert.equal(records[0]?.cost_usd, 0);
  assert.equal(records[0]?.unpriced, false);
  assert.equal(lastRequestLine(gateway)?.cost_usd, 0);
  await assert.rejects(
    client.chat.completions.create({
      model: "no-such-model",
      messages: [{ role: "user", content: "Hi" }],
    }),
  );
  await waitFor(() => records.length === 2);
  assert.equal(records[1]?.cost_usd, 0);
  assert.equal(records[1]?.unpriced, false);
  assert.equal(lastRequestLine(gateway)?.cost_usd, undefined, "nothing was served");
});

Deno.test("without pricing, records carry no cost", async () => {
  const { records, usage } = recording();
  await using gateway = startGateway({ usage });
  await openaiClient(gateway).chat.completions.create({
    model: "choreoai/echo",
    messages: [{ role: "user", content: "Hi" }],
  });
  await waitFor(() => records.length === 1);
  assert.equal(records[0]?.cost_usd, null);
  assert.equal(lastRequestLine(gateway)?.cost_usd, undefined);
});
