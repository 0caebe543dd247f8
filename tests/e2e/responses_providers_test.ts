/**
 * The Responses API on every provider, end to end: the official `openai` client → the gateway →
 * OpenAI or Azure (passed through natively to their Responses API), or Anthropic, Gemini, an
 * OpenAI-compatible server (translated), each a fake answering as the scripted model in its own
 * wire format (`_helpers/fake_model.ts`, `_helpers/fake_responses.ts`), and `choreoai/echo`. The
 * model says what reached it, so each answer shows the translation both ways.
 */
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { ANTHROPIC_KEY, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { AZURE_KEY, startFakeAzure } from "../_helpers/fake_azure.ts";
import { GEMINI_KEY, startFakeGemini } from "../_helpers/fake_gemini.ts";
import {
  anthropicModel,
  FAKE_INPUT_TOKENS,
  geminiModel,
  openAIModel,
} from "../_helpers/fake_model.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { openaiClient, startGateway, type TestGateway } from "../_helpers/gateway.ts";

type Json = Record<string, unknown>;
type Params = Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, "stream">;
type Event = OpenAI.Responses.ResponseStreamEvent;

/** One provider behind the gateway, and what its fake can do. */
interface Setup extends AsyncDisposable {
  readonly gateway: TestGateway;
  /** The model name the client sends. */
  readonly model: string;
  /** The provider name in `x-choreoai-provider`. */
  readonly provider: string;
  /** The bodies the provider received for answers, in its own format. */
  upstream(): Json[];
  /** The request passes through to the provider's own Responses API. */
  readonly native: boolean;
  /** The scripted model answers (echo repeats the last user text instead). */
  readonly scripted: boolean;
  /** The provider returns its reasoning when asked for `reasoning.effort`. */
  readonly reasons: boolean;
  /** The provider sends each tool call whole (Gemini), not its arguments in pieces. */
  readonly wholeCalls?: boolean;
  /** The JSON schema as it reached the provider. */
  schemaSent(body: Json): unknown;
}

interface Provider {
  readonly name: string;
  start(): Setup;
}

function setup(
  gateway: TestGateway,
  upstream: AsyncDisposable & { requests: { path: string; body?: Json | undefined }[] },
  fields: Omit<Setup, "gateway" | "upstream" | "scripted" | typeof Symbol.asyncDispose>,
): Setup {
  return {
    gateway,
    scripted: true,
    ...fields,
    upstream: () =>
      upstream.requests.flatMap((request) => request.body === undefined ? [] : [request.body]),
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await upstream[Symbol.asyncDispose]();
    },
  };
}

const PROVIDERS: readonly Provider[] = [
  {
    name: "OpenAI (passed through)",
    start() {
      const upstream = startFakeOpenAI({ onChat: openAIModel() });
      const gateway = startGateway({
        env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
      });
      return setup(gateway, upstream, {
        model: "gpt-5-mini",
        provider: "openai",
        native: true,
        reasons: true,
        schemaSent: (body) => (body.text as Json | undefined)?.format,
      });
    },
  },
  {
    name: "Azure (passed through)",
    start() {
      const upstream = startFakeAzure({ deployments: ["gpt-5"] });
      const gateway = startGateway({
        env: { AZURE_OPENAI_API_KEY: AZURE_KEY, AZURE_OPENAI_ENDPOINT: upstream.endpoint },
      });
      return setup(gateway, upstream, {
        model: "azure/gpt-5",
        provider: "azure",
        native: true,
        reasons: true,
        schemaSent: (body) => (body.text as Json | undefined)?.format,
      });
    },
  },
  {
    name: "Anthropic",
    start() {
      const upstream = startFakeAnthropic(anthropicModel());
      const gateway = startGateway({
        env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: upstream.baseUrl },
      });
      return setup(gateway, upstream, {
        model: "claude-sonnet-4-5",
        provider: "anthropic",
        native: false,
        reasons: false,
        schemaSent: (body) => (body.output_config as Json | undefined)?.format,
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
        model: "gemini-2.5-flash",
        provider: "gemini",
        native: false,
        reasons: true,
        wholeCalls: true,
        schemaSent: (body) => {
          const config = body.generationConfig as Json | undefined;
          return config?.responseJsonSchema ?? config?.responseSchema;
        },
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
        model: "vllm/qwen3-32b",
        provider: "vllm",
        native: false,
        reasons: true,
        schemaSent: (body) => (body.response_format as Json | undefined)?.json_schema,
      });
    },
  },
  {
    name: "choreoai/echo",
    start() {
      const gateway = startGateway();
      return {
        gateway,
        model: "choreoai/echo",
        provider: "choreoai",
        native: false,
        scripted: false,
        reasons: false,
        upstream: () => [],
        schemaSent: () => undefined,
        [Symbol.asyncDispose]: () => gateway[Symbol.asyncDispose](),
      };
    },
  },
];

/** Reads a whole stream through the SDK: its events, and the response they make. */
async function streamed(
  client: OpenAI,
  params: Params,
): Promise<{ events: Event[]; response: OpenAI.Responses.Response }> {
  const stream = client.responses.stream(params);
  const events: Event[] = [];
  for await (const event of stream) events.push(event);
  return { events, response: await stream.finalResponse() };
}

/** Events come with increasing sequence numbers, from response.created to the end. */
function assertSequence(events: readonly Event[], last: string): void {
  assert.deepEqual(events.map((event) => event.sequence_number), events.map((_, i) => i));
  assert.deepEqual(events.slice(0, 2).map((event) => event.type), [
    "response.created",
    "response.in_progress",
  ]);
  assert.equal(events.at(-1)?.type, last);
}

const WEATHER: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "weather",
  description: "The weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};

/** A 1×1 PNG. */
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const PERSON = {
  type: "object",
  properties: { name: { type: "string" } },
  required: ["name"],
  additionalProperties: false,
};

for (const provider of PROVIDERS) {
  Deno.test(`Responses → ${provider.name}: text, turns, tools, images, JSON, limits, reasoning`, async (t) => {
    await using s = provider.start();
    const client = openaiClient(s.gateway);
    /** What the model answers to `input` after `turns` turns. */
    const said = (input: string, turns = 1, extra = "") =>
      s.scripted ? `${extra}turns=${turns} images=0: ${input}` : input;

    await t.step("instructions and text, non-stream", async () => {
      const { data, response } = await client.responses.create({
        model: s.model,
        instructions: "Be brief.",
        input: "Hi",
      }).withResponse();
      assert.equal(data.output_text, said("Hi", 1, "[Be brief.] "));
      assert.equal(data.status, "completed");
      assert.equal(data.object, "response");
      assert.match(data.id, /^resp_/);
      assert.equal(response.headers.get("x-choreoai-provider"), s.provider);
      assert.ok(data.usage !== undefined && data.usage !== null);
      if (s.scripted) assert.equal(data.usage.input_tokens, FAKE_INPUT_TOKENS);
      assert.ok(data.usage.output_tokens > 0);
      assert.equal(data.usage.total_tokens, data.usage.input_tokens + data.usage.output_tokens);
      if (!s.native) {
        assert.equal(data.model, s.model);
        assert.equal(data.instructions, "Be brief.");
      }
    });

    await t.step("the same, streamed: typed events in order", async () => {
      const { events, response } = await streamed(client, {
        model: s.model,
        instructions: "Be brief.",
        input: "Hi",
      });
      assert.equal(response.output_text, said("Hi", 1, "[Be brief.] "));
      assertSequence(events, "response.completed");
      const deltas = events.filter((event) => event.type === "response.output_text.delta");
      assert.ok(deltas.length > (s.scripted ? 1 : 0), "the text arrives in pieces");
      const types: string[] = events.map((event) => event.type);
      for (
        const type of [
          "response.output_item.added",
          "response.content_part.added",
          "response.output_text.done",
          "response.content_part.done",
          "response.output_item.done",
        ]
      ) assert.ok(types.includes(type), type);
      assert.ok((response.usage?.output_tokens ?? 0) > 0, "usage in response.completed");
    });

    await t.step(
      "multi-turn by previous_response_id, by replayed items, by item_reference",
      async () => {
        const first = await client.responses.create({ model: s.model, input: "My name is Ada." });
        const expected = said("What is my name?", 3);
        const byId = await client.responses.create({
          model: s.model,
          previous_response_id: first.id,
          input: "What is my name?",
        });
        assert.equal(byId.output_text, expected);
        assert.equal(byId.previous_response_id, first.id);
        const question = { role: "user" as const, content: "What is my name?" };
        const replayed = await client.responses.create({
          model: s.model,
          input: [
            { role: "user", content: "My name is Ada." },
            ...first.output as OpenAI.Responses.ResponseInputItem[],
            question,
          ],
        });
        assert.equal(replayed.output_text, expected);
        const answer = first.output.find((item) => item.type === "message");
        assert.ok(answer?.id !== undefined);
        const referenced = await client.responses.create({
          model: s.model,
          input: [
            { role: "user", content: "My name is Ada." },
            { type: "item_reference", id: answer.id },
            question,
          ],
        });
        assert.equal(referenced.output_text, expected);
      },
    );

    await t.step(
      "max_output_tokens cuts the answer: incomplete, stream and non-stream",
      async () => {
        const params = {
          model: s.model,
          max_output_tokens: s.scripted ? 3 : 2,
          input: "Tell me a long story",
        };
        const cut = s.scripted ? "turns=1 images=0: Tell " : "Tell me";
        const answer = await client.responses.create(params);
        assert.equal(answer.output_text, cut);
        assert.equal(answer.status, "incomplete");
        assert.deepEqual(answer.incomplete_details, { reason: "max_output_tokens" });
        const { events, response } = await streamed(client, params);
        assert.equal(response.output_text, cut);
        assert.equal(response.status, "incomplete");
        assertSequence(events, "response.incomplete");
      },
    );

    if (!s.scripted) return;

    await t.step("a tool round trip: parallel calls streamed, then their outputs", async () => {
      const { events, response } = await streamed(client, {
        model: s.model,
        tools: [WEATHER],
        input: "Weather in Paris and Rome?",
      });
      assertSequence(events, "response.completed");
      assert.equal(response.output_text, "Let me check.");
      const calls = response.output.filter((item) => item.type === "function_call");
      assert.deepEqual(calls.map((call) => [call.name, JSON.parse(call.arguments)]), [
        ["weather", { city: "Paris" }],
        ["weather", { city: "Rome" }],
      ]);
      assert.equal(new Set(calls.map((call) => call.call_id)).size, 2, "distinct call ids");
      const added = events.flatMap((event) =>
        event.type === "response.output_item.added" ? [event.item.type] : []
      );
      assert.deepEqual(added, ["message", "function_call", "function_call"]);
      const pieces = new Map<number, string[]>();
      for (const event of events) {
        if (event.type !== "response.function_call_arguments.delta") continue;
        pieces.set(event.output_index, [...pieces.get(event.output_index) ?? [], event.delta]);
      }
      assert.equal(pieces.size, 2);
      for (const json of pieces.values()) {
        assert.ok(s.wholeCalls === true || json.length > 1, "arguments arrive as they come");
      }
      const done = events.filter((event) => event.type === "response.function_call_arguments.done");
      assert.equal(done.length, 2);
      const [paris, rome] = calls;
      const answer = await client.responses.create({
        model: s.model,
        tools: [WEATHER],
        previous_response_id: response.id,
        input: [
          { type: "function_call_output", call_id: paris?.call_id ?? "", output: "18°C" },
          { type: "function_call_output", call_id: rome?.call_id ?? "", output: "no station" },
        ],
      });
      assert.equal(answer.output_text, "Results: 18°C; no station");
    });

    // To OpenAI and Azure a namespace tool passes through as it is; the fakes do not run it.
    if (!s.native) {
      await t.step(
        "a namespace tool (as Codex sends its sub-agent tools): calls named back, replayed",
        async () => {
          const tools: OpenAI.Responses.Tool[] = [{
            type: "namespace",
            name: "forecasts",
            description: "Weather tools",
            tools: [{ ...WEATHER, type: "function" }],
          }];
          const input: OpenAI.Responses.ResponseInputItem[] = [
            { role: "user", content: "Weather in Paris and Rome?" },
          ];
          const { events, response } = await streamed(client, {
            model: s.model,
            tools,
            input,
            store: false,
          });
          assertSequence(events, "response.completed");
          const calls = response.output.filter((item) => item.type === "function_call");
          assert.deepEqual(calls.map((call) => [call.namespace, call.name]), [
            ["forecasts", "weather"],
            ["forecasts", "weather"],
          ]);
          const sent = JSON.stringify(s.upstream().at(-1)?.tools ?? s.upstream().at(-1));
          assert.match(sent, /"weather"/);
          assert.doesNotMatch(sent, /forecasts/);
          // Replayed as Codex does: the call items (with their namespace) and the outputs.
          const answer = await client.responses.create({
            model: s.model,
            tools,
            store: false,
            input: [
              ...input,
              ...response.output as OpenAI.Responses.ResponseInputItem[],
              ...calls.map((call, i) => ({
                type: "function_call_output" as const,
                call_id: call.call_id,
                output: ["18°C", "no station"][i] ?? "",
              })),
            ],
          });
          assert.equal(answer.output_text, "Results: 18°C; no station");
          const nonStream = await client.responses.create({ model: s.model, tools, input });
          assert.deepEqual(
            nonStream.output.flatMap((item) =>
              item.type === "function_call" ? [[item.namespace, item.name]] : []
            ),
            [["forecasts", "weather"], ["forecasts", "weather"]],
          );
        },
      );
    }

    await t.step("images, inline and by URL", async () => {
      const answer = await client.responses.create({
        model: s.model,
        input: [{
          role: "user",
          content: [
            { type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "auto" },
            { type: "input_image", image_url: "https://example.com/cat.png", detail: "low" },
            { type: "input_text", text: "What are these?" },
          ],
        }],
      });
      assert.equal(answer.output_text, "turns=1 images=2: What are these?");
    });

    await t.step("JSON schema output reaches the provider and is echoed", async () => {
      const format = {
        type: "json_schema" as const,
        name: "person",
        schema: PERSON,
        strict: true,
      };
      const answer = await client.responses.create({
        model: s.model,
        text: { format },
        input: "Who wrote Emma?",
      });
      assert.equal(answer.text?.format?.type, "json_schema");
      const sent = s.schemaSent(s.upstream().at(-1) ?? {});
      assert.ok(sent !== undefined && sent !== null, "the schema reached the provider");
      assert.match(JSON.stringify(sent), /"name"/);
    });

    await t.step("reasoning.effort: the provider's reasoning comes back as a summary", async () => {
      const params = {
        model: s.model,
        reasoning: { effort: "low" as const },
        input: "Why is the sky blue?",
      };
      const { data, response } = await client.responses.create(params).withResponse();
      const adjusted = response.headers.get("x-choreoai-adjusted") ?? "";
      assert.equal(adjusted.split(", ").includes("reasoning.effort"), !s.reasons, adjusted);
      assert.equal(data.output_text, "turns=1 images=0: Why is the sky blue?");
      const summaries = data.output.flatMap((item) =>
        item.type === "reasoning" ? item.summary.map((part) => part.text) : []
      );
      assert.deepEqual(summaries, s.reasons ? ['Thinking about "Why is the sky blue?"'] : []);
      const { events, response: final } = await streamed(client, params);
      assert.deepEqual(
        final.output.map((item) => item.type),
        s.reasons ? ["reasoning", "message"] : ["message"],
      );
      const thoughts = events.filter((event) =>
        event.type === "response.reasoning_summary_text.delta"
      );
      assert.equal(thoughts.length > 0, s.reasons);
    });
  });
}
