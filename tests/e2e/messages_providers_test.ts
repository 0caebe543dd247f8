/**
 * The Messages API on every provider, end to end: the official `@anthropic-ai/sdk` → the gateway →
 * a fake OpenAI, OpenAI-compatible server, Azure, Gemini or Anthropic that answers as a scripted
 * model in its own wire format (`_helpers/fake_model.ts`), and `choreoai/echo`. The model says what
 * reached it, so each answer shows the translation both ways.
 */
import assert from "node:assert/strict";
import type Anthropic from "@anthropic-ai/sdk";
import { anthropicClient } from "../_helpers/anthropic_client.ts";
import { ANTHROPIC_KEY, fakeTokenCount, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { AZURE_KEY, startFakeAzure } from "../_helpers/fake_azure.ts";
import { GEMINI_KEY, startFakeGemini } from "../_helpers/fake_gemini.ts";
import {
  anthropicModel,
  azureModel,
  FAKE_INPUT_TOKENS,
  geminiModel,
  openAIModel,
} from "../_helpers/fake_model.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { startGateway, type TestGateway, waitFor } from "../_helpers/gateway.ts";
import type { UsageRecord } from "../../src/usage/recorder.ts";
import {
  estimateInputTokens,
  parseMessagesCountTokensRequest,
} from "../../src/dialects/messages/mod.ts";

type Json = Record<string, unknown>;

/** One provider behind the gateway, and what its fake can do. */
interface Setup extends AsyncDisposable {
  readonly gateway: TestGateway;
  /** The model name the client sends. */
  readonly model: string;
  /** The provider name in `x-choreoai-provider`. */
  readonly provider: string;
  /** The bodies the provider received, in its own format. */
  upstream(): Json[];
  /** The fake calls tools (all but echo). */
  readonly tools: boolean;
  /** The provider shows its reasoning as thinking blocks. */
  readonly reasons: boolean;
  /** `thinking` reaches the provider's reasoning setting (else it is named in x-choreoai-adjusted). */
  readonly thinkingSent: boolean;
  /** The provider sends each tool call whole (Gemini), not its arguments in pieces. */
  readonly wholeCalls?: boolean;
  /** The provider says which stop sequence stopped it (else a cut answer reads end_turn). */
  readonly namesStop: boolean;
  /** The answer passes through from Anthropic (its own model name and ids). */
  readonly native: boolean;
  /** How a failed tool result reaches the model's text. */
  errorResult(text: string): string;
  /** Where `top_k` lands upstream (undefined: dropped and named in x-choreoai-adjusted). */
  topK(body: Json): unknown;
}

interface Provider {
  readonly name: string;
  start(): Setup;
}

function setup(
  gateway: TestGateway,
  upstream: AsyncDisposable & { requests: { body?: Json | undefined }[] },
  fields: Omit<Setup, "gateway" | "upstream" | typeof Symbol.asyncDispose>,
): Setup {
  return {
    gateway,
    ...fields,
    upstream: () =>
      upstream.requests.map((request) => request.body).filter((body): body is Json =>
        body !== undefined
      ),
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await upstream[Symbol.asyncDispose]();
    },
  };
}

const translated = { native: false, errorResult: (text: string) => `Error: ${text}` };

const PROVIDERS: readonly Provider[] = [
  {
    name: "OpenAI",
    start() {
      const upstream = startFakeOpenAI({ onChat: openAIModel() });
      const gateway = startGateway({
        env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
      });
      return setup(gateway, upstream, {
        ...translated,
        model: "gpt-4o",
        provider: "openai",
        tools: true,
        reasons: false,
        thinkingSent: false,
        namesStop: false,
        topK: () => undefined,
      });
    },
  },
  {
    name: "an OpenAI-compatible server that reasons",
    start() {
      const upstream = startFakeOpenAI({ onChat: openAIModel({ compatible: true }) });
      const gateway = startGateway({
        env: { VLLM_KEY: PROVIDER_KEY },
        routingFile: {
          providers: {
            vllm: {
              kind: "openai-compatible",
              base_url: upstream.baseUrl,
              api_key_env: "VLLM_KEY",
            },
          },
          models: {},
        },
      });
      return setup(gateway, upstream, {
        ...translated,
        model: "vllm/qwen3-32b",
        provider: "vllm",
        tools: true,
        reasons: true,
        thinkingSent: true,
        namesStop: true,
        topK: (body) => body.top_k,
      });
    },
  },
  {
    name: "Azure",
    start() {
      const upstream = startFakeAzure({ onChat: azureModel() });
      const gateway = startGateway({
        env: { AZURE_OPENAI_API_KEY: AZURE_KEY, AZURE_OPENAI_ENDPOINT: upstream.endpoint },
      });
      return setup(gateway, upstream, {
        ...translated,
        model: "azure/gpt-4o",
        provider: "azure",
        tools: true,
        reasons: false,
        thinkingSent: false,
        namesStop: false,
        topK: () => undefined,
      });
    },
  },
  {
    name: "Gemini",
    start() {
      const upstream = startFakeGemini(geminiModel());
      const gateway = startGateway({
        env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: upstream.baseUrl },
      });
      return setup(gateway, upstream, {
        ...translated,
        model: "gemini-2.5-flash",
        provider: "gemini",
        tools: true,
        wholeCalls: true,
        reasons: true,
        thinkingSent: true,
        namesStop: false,
        topK: (body) => (body.generationConfig as Json | undefined)?.topK,
      });
    },
  },
  {
    name: "Anthropic (passed through)",
    start() {
      const upstream = startFakeAnthropic(anthropicModel());
      const gateway = startGateway({
        env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: upstream.baseUrl },
      });
      return setup(gateway, upstream, {
        model: "claude-sonnet-4-5",
        provider: "anthropic",
        tools: true,
        reasons: true,
        thinkingSent: true,
        namesStop: true,
        native: true,
        errorResult: (text) => `${text} (error)`,
        topK: (body) => body.top_k,
      });
    },
  },
];

/** The text of an answer's text blocks. */
function textOf(content: readonly Anthropic.ContentBlock[]): string {
  return content.map((block) => block.type === "text" ? block.text : "").join("");
}

/** Reads a whole stream through the SDK: its events, and the message they make. */
async function streamed(
  client: Anthropic,
  params: Anthropic.MessageCreateParamsNonStreaming,
): Promise<{ events: Anthropic.RawMessageStreamEvent[]; message: Anthropic.Message }> {
  const stream = client.messages.stream(params);
  const events: Anthropic.RawMessageStreamEvent[] = [];
  stream.on("streamEvent", (event) => events.push(event));
  const message = await stream.finalMessage();
  return { events, message };
}

/** What Vercel AI SDK's anthropic provider needs: usage in message_start and message_delta. */
function assertStreamUsage(events: readonly Anthropic.RawMessageStreamEvent[]): void {
  const start = events.find((event) => event.type === "message_start");
  const delta = events.find((event) => event.type === "message_delta");
  assert.ok(start?.type === "message_start", "message_start comes first");
  assert.equal(events[0]?.type, "message_start");
  assert.ok(start.message.usage.input_tokens > 0, "message_start carries input_tokens");
  assert.ok(delta?.type === "message_delta", "message_delta comes");
  assert.ok(delta.usage.output_tokens > 0, "message_delta carries output_tokens");
  assert.equal(events.at(-1)?.type, "message_stop");
}

const WEATHER: Anthropic.Tool = {
  name: "weather",
  description: "The weather in a city",
  input_schema: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

/** A 1×1 PNG. */
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

for (const provider of PROVIDERS) {
  Deno.test(`Messages → ${provider.name}: text, tools, images, stops, limits, thinking, count_tokens`, async (t) => {
    await using s = provider.start();
    const client = anthropicClient(s.gateway);
    const conversation: Anthropic.MessageParam[] = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: [{ type: "text", text: "How are you?" }] },
    ];
    const expected = "[Be brief] turns=3 images=0: How are you?";

    await t.step("system and a multi-turn conversation, non-stream", async () => {
      const { data, response } = await client.messages.create({
        model: s.model,
        max_tokens: 100,
        system: [{ type: "text", text: "Be brief" }],
        messages: conversation,
      }).withResponse();
      assert.equal(textOf(data.content), expected);
      assert.equal(data.stop_reason, "end_turn");
      assert.equal(data.type, "message");
      assert.match(data.id, /^msg_/);
      assert.equal(data.model, s.native ? "claude-sonnet-4-5" : s.model);
      assert.equal(data.usage.input_tokens, FAKE_INPUT_TOKENS);
      assert.equal(data.usage.output_tokens, 7);
      assert.equal(response.headers.get("x-choreoai-provider"), s.provider);
    });

    await t.step("the same, streamed, with usage in message_start and message_delta", async () => {
      const { events, message } = await streamed(client, {
        model: s.model,
        max_tokens: 100,
        system: "Be brief",
        messages: conversation,
      });
      assert.equal(textOf(message.content), expected);
      assert.equal(message.stop_reason, "end_turn");
      assert.equal(message.usage.output_tokens, 7);
      assertStreamUsage(events);
      const deltas = events.filter((event) => event.type === "content_block_delta");
      assert.ok(deltas.length > 1, "the text arrives in pieces");
    });

    await t.step("a tool round trip: parallel calls streamed, then their results", async () => {
      const question: Anthropic.MessageParam = {
        role: "user",
        content: "Weather in Paris and Rome?",
      };
      const { events, message } = await streamed(client, {
        model: s.model,
        max_tokens: 200,
        tools: [WEATHER],
        messages: [question],
      });
      assertStreamUsage(events);
      assert.equal(message.stop_reason, "tool_use");
      const calls = message.content.filter((block) => block.type === "tool_use");
      assert.deepEqual(calls.map((call) => [call.name, call.input]), [
        ["weather", { city: "Paris" }],
        ["weather", { city: "Rome" }],
      ]);
      assert.equal(new Set(calls.map((call) => call.id)).size, 2, "distinct ids");
      assert.equal(textOf(message.content), "Let me check.");
      const starts = events.flatMap((event) =>
        event.type === "content_block_start" ? [[event.index, event.content_block.type]] : []
      );
      assert.deepEqual(starts, [[0, "text"], [1, "tool_use"], [2, "tool_use"]]);
      const pieces = new Map<number, string[]>();
      for (const event of events) {
        if (event.type !== "content_block_delta" || event.delta.type !== "input_json_delta") {
          continue;
        }
        pieces.set(event.index, [...pieces.get(event.index) ?? [], event.delta.partial_json]);
      }
      assert.deepEqual([...pieces.keys()], [1, 2]);
      for (const [index, json] of pieces) {
        assert.deepEqual(JSON.parse(json.join("")), calls[index - 1]?.input);
        assert.ok(s.wholeCalls === true || json.length > 1, "arguments arrive as they come");
      }
      const [paris, rome] = calls;
      const answer = await client.messages.create({
        model: s.model,
        max_tokens: 200,
        tools: [WEATHER],
        messages: [
          question,
          { role: "assistant", content: message.content },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: paris?.id ?? "", content: "18°C" },
              {
                type: "tool_result",
                tool_use_id: rome?.id ?? "",
                content: [{ type: "text", text: "no station" }],
                is_error: true,
              },
            ],
          },
        ],
      });
      assert.equal(textOf(answer.content), `Results: 18°C; ${s.errorResult("no station")}`);
      assert.equal(answer.stop_reason, "end_turn");
    });

    await t.step("images, inline and by URL", async () => {
      const answer = await client.messages.create({
        model: s.model,
        max_tokens: 100,
        messages: [{
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
            { type: "text", text: "What are these?" },
          ],
        }],
      });
      assert.equal(textOf(answer.content), "turns=1 images=2: What are these?");
    });

    await t.step("stop sequences", async () => {
      const answer = await client.messages.create({
        model: s.model,
        max_tokens: 100,
        stop_sequences: ["STOP", "images="],
        messages: [{ role: "user", content: "Say something" }],
      });
      assert.equal(textOf(answer.content), "turns=1 ");
      assert.equal(answer.stop_reason, s.namesStop ? "stop_sequence" : "end_turn");
      assert.equal(answer.stop_sequence, s.namesStop ? "images=" : null);
    });

    await t.step("max_tokens cuts the answer, stream and non-stream", async () => {
      const params = {
        model: s.model,
        max_tokens: 3,
        messages: [{ role: "user" as const, content: "Tell me a long story" }],
      };
      const answer = await client.messages.create(params);
      assert.equal(textOf(answer.content), "turns=1 images=0: Tell ");
      assert.equal(answer.stop_reason, "max_tokens");
      assert.equal(answer.usage.output_tokens, 3);
      const { message } = await streamed(client, params);
      assert.equal(textOf(message.content), "turns=1 images=0: Tell ");
      assert.equal(message.stop_reason, "max_tokens");
    });

    await t.step("thinking", async () => {
      const params = {
        model: s.model,
        max_tokens: 3_000,
        thinking: { type: "enabled" as const, budget_tokens: 2_000 },
        messages: [{ role: "user" as const, content: "Why is the sky blue?" }],
      };
      const { data, response } = await client.messages.create(params).withResponse();
      const adjusted = response.headers.get("x-choreoai-adjusted") ?? "";
      assert.equal(adjusted.split(", ").includes("thinking"), !s.thinkingSent, adjusted);
      assert.equal(textOf(data.content), "turns=1 images=0: Why is the sky blue?");
      const thinking = data.content.filter((block) => block.type === "thinking");
      assert.deepEqual(
        thinking.map((block) => block.thinking),
        s.reasons ? ['Thinking about "Why is the sky blue?"'] : [],
      );
      const { events, message } = await streamed(client, params);
      assert.deepEqual(
        message.content.map((block) => block.type),
        s.reasons ? ["thinking", "text"] : ["text"],
      );
      const thinkingDeltas = events.filter((event) =>
        event.type === "content_block_delta" && event.delta.type === "thinking_delta"
      );
      assert.equal(thinkingDeltas.length > 0, s.reasons);
    });

    await t.step("top_k reaches providers that take it, and is named where dropped", async () => {
      // The SDK's types no longer list top_k; the API still takes it.
      const params = {
        model: s.model,
        max_tokens: 100,
        top_k: 5,
        messages: [{ role: "user" as const, content: "Hi" }],
      };
      const { response } = await client.messages.create(params).withResponse();
      const sent = s.topK(s.upstream().at(-1) ?? {});
      const adjusted = response.headers.get("x-choreoai-adjusted");
      if (sent === undefined) assert.equal(adjusted, "top_k");
      else {
        assert.equal(sent, 5);
        assert.equal(adjusted, null);
      }
    });

    await t.step("count_tokens: Anthropic's own count, else the gateway's estimate", async () => {
      const params = {
        model: s.model,
        system: "Be brief",
        tools: [WEATHER],
        messages: conversation,
      };
      const before = s.upstream().length;
      const { data, response } = await client.messages.countTokens(params).withResponse();
      if (s.native) {
        assert.equal(data.input_tokens, fakeTokenCount({ messages: conversation }));
        assert.equal(s.upstream().length, before + 1);
        assert.equal(response.headers.get("x-choreoai-provider"), "anthropic");
      } else {
        const parsed = parseMessagesCountTokensRequest(params);
        assert.ok(parsed.ok);
        assert.equal(data.input_tokens, estimateInputTokens(parsed.request));
        assert.equal(s.upstream().length, before, "no upstream call");
        assert.equal(response.headers.get("x-choreoai-provider"), "choreoai");
      }
    });
  });
}

Deno.test("Messages → Gemini: thinking becomes thinkingConfig, thoughts a thinking block then text", async (t) => {
  await using upstream = startFakeGemini(geminiModel());
  await using gateway = startGateway({
    env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: upstream.baseUrl },
  });
  const client = anthropicClient(gateway);
  const thinkingConfig = () =>
    (upstream.requests.at(-1)?.body?.generationConfig as Json | undefined)?.thinkingConfig;
  // model, budget_tokens, the thinkingConfig Gemini receives
  const cases: [string, number, Json][] = [
    ["gemini-3-flash-preview", 10_000, { thinkingLevel: "medium", includeThoughts: true }],
    ["gemini-2.5-pro", 31_999, { thinkingBudget: 32_768, includeThoughts: true }],
  ];
  for (const [model, budget, sent] of cases) {
    const params = {
      model,
      max_tokens: 32_000,
      thinking: { type: "enabled" as const, budget_tokens: budget },
      messages: [{ role: "user" as const, content: "Why is the sky blue?" }],
    };
    await t.step(`${model}, non-stream`, async () => {
      // Claude Code's largest budget needs max_tokens 32,000, which the SDK sends without
      // streaming only with a timeout of the caller's.
      const { data, response } = await client.messages.create(params, { timeout: 60_000 })
        .withResponse();
      assert.deepEqual(thinkingConfig(), sent);
      assert.deepEqual(data.content, [
        { type: "thinking", thinking: 'Thinking about "Why is the sky blue?"', signature: "" },
        { type: "text", text: "turns=1 images=0: Why is the sky blue?" },
      ]);
      assert.equal(response.headers.get("x-choreoai-adjusted"), null);
    });
    await t.step(`${model}, stream`, async () => {
      const { events, message } = await streamed(client, params);
      assert.deepEqual(thinkingConfig(), sent);
      assert.deepEqual(message.content.map((block) => block.type), ["thinking", "text"]);
      const thinking = message.content[0];
      assert.equal(
        thinking?.type === "thinking" ? thinking.thinking : "",
        'Thinking about "Why is the sky blue?"',
      );
      assert.ok(
        events.some((event) =>
          event.type === "content_block_delta" && event.delta.type === "thinking_delta"
        ),
      );
    });
  }
  await t.step("without thinking: no thinkingConfig, no thinking block", async () => {
    const { thinking: _, ...plain } = {
      model: "gemini-2.5-flash",
      max_tokens: 100,
      thinking: undefined,
      messages: [{ role: "user" as const, content: "Hi" }],
    };
    const data = await client.messages.create(plain);
    assert.equal(thinkingConfig(), undefined);
    assert.deepEqual(data.content.map((block) => block.type), ["text"]);
  });
});

Deno.test("Messages → choreoai/echo: text, system, turns, stream, max_tokens, count_tokens", async (t) => {
  await using gateway = startGateway();
  const client = anthropicClient(gateway);
  const params = {
    model: "choreoai/echo",
    max_tokens: 100,
    system: "Be brief",
    messages: [
      { role: "user" as const, content: "Hi" },
      { role: "assistant" as const, content: "Hello!" },
      { role: "user" as const, content: "Echo this back" },
    ],
  };
  await t.step("non-stream", async () => {
    const { data, response } = await client.messages.create(params).withResponse();
    assert.deepEqual(data.content, [{ type: "text", text: "Echo this back" }]);
    assert.equal(data.stop_reason, "end_turn");
    assert.equal(data.model, "choreoai/echo");
    assert.ok(data.usage.input_tokens > 0);
    assert.equal(data.usage.output_tokens, 3);
    assert.equal(response.headers.get("x-choreoai-provider"), "choreoai");
  });
  await t.step("stream, with usage in message_start and message_delta", async () => {
    const { events, message } = await streamed(client, params);
    assert.equal(textOf(message.content), "Echo this back");
    assertStreamUsage(events);
  });
  await t.step("max_tokens", async () => {
    const answer = await client.messages.create({ ...params, max_tokens: 2 });
    assert.equal(textOf(answer.content), "Echo this");
    assert.equal(answer.stop_reason, "max_tokens");
  });
  await t.step("count_tokens is the same estimate as the answer's input_tokens", async () => {
    const { max_tokens: _, ...counted } = params;
    const [count, answer] = await Promise.all([
      client.messages.countTokens(counted),
      client.messages.create(params),
    ]);
    assert.equal(count.input_tokens, answer.usage.input_tokens);
  });
});

Deno.test("translated Messages requests reach usage records and the access log, stream and not", async (t) => {
  await using upstream = startFakeOpenAI({ onChat: openAIModel() });
  const records: UsageRecord[] = [];
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    usage: { record: (entry) => records.push(entry) },
  });
  const client = anthropicClient(gateway);
  const params = {
    model: "openai/gpt-4o",
    max_tokens: 100,
    messages: [{ role: "user" as const, content: "Hi there" }],
  };
  for (const stream of [false, true]) {
    await t.step(stream ? "stream" : "non-stream", async () => {
      if (stream) await client.messages.stream(params).finalMessage();
      else await client.messages.create(params);
      await waitFor(() => records.length === (stream ? 2 : 1));
      const record = records.at(-1);
      assert.equal(record?.endpoint, "/v1/messages");
      assert.equal(record?.model, "openai/gpt-4o");
      assert.equal(record?.provider, "openai");
      assert.equal(record?.status, 200);
      assert.deepEqual(
        [record?.prompt_tokens, record?.completion_tokens],
        [FAKE_INPUT_TOKENS, 4],
      );
      const line = gateway.logs.findLast((entry) => entry.msg === "request");
      assert.equal(line?.path, "/v1/messages");
      assert.equal(line?.upstream_model, "gpt-4o");
      assert.equal(line?.stream, stream);
      assert.deepEqual(line?.usage, {
        prompt_tokens: FAKE_INPUT_TOKENS,
        completion_tokens: 4,
        total_tokens: FAKE_INPUT_TOKENS + 4,
      });
    });
  }
});
