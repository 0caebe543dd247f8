/**
 * The OpenAI Agents SDK (npm `@openai/agents`) runs an agent with one function tool,
 * `get_weather(city)`, whose model is served by a real gateway through `/v1/responses` and routes
 * to the fake Anthropic: the model calls the tool for two cities in parallel, the SDK runs it and
 * sends the results back, and the model answers from them. Run, streamed, and continued by
 * `previousResponseId` (the conversation then comes from the gateway's store).
 *
 * The SDK is set up as the README says: `setDefaultOpenAIClient` with an `openai` client whose
 * `baseURL` is the gateway, tracing off. While it runs, every `fetch` of the test process is
 * recorded, and refused unless it is for the gateway: once the SDK's traces are flushed, nothing
 * may have gone anywhere else (the gateway's own calls to the fake Anthropic use the `fetch` it
 * was given before). Skipped, saying why, if the package cannot be loaded.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { z } from "zod";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { ANTHROPIC_KEY, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { anthropicModel, viewOfMessages } from "../_helpers/fake_model.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";

const AGENTS = await import("@openai/agents").then(
  (sdk) => ({ sdk }),
  (error) => ({ skipped: `cannot load @openai/agents: ${String(error).split("\n")[0]}` }),
);

const PUBLIC_MODEL = "assistant";
const CLAUDE_MODEL = "claude-sonnet-4-5";
const ANSWER = "Results: sunny in Paris; sunny in Rome";

type Block = { type: string; [key: string]: unknown };
type Turn = { role: string; content: string | Block[] };

/** A Responses request body as the SDK sent it (the fields the test reads). */
interface SentBody {
  readonly previous_response_id?: string;
  readonly input?: { type?: string }[];
}

/**
 * Replaces `globalThis.fetch`, until disposed, with one that records each URL (and JSON body)
 * and lets through only those of `origin`: anything else is answered 403 without leaving the
 * process.
 */
function guardFetch(origin: string) {
  const original = globalThis.fetch;
  const urls: string[] = [];
  const bodies: SentBody[] = [];
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    urls.push(url);
    if (typeof init?.body === "string") bodies.push(JSON.parse(init.body));
    if (new URL(url).origin !== origin) return Promise.resolve(new Response(null, { status: 403 }));
    return original(input, init);
  };
  return {
    urls,
    bodies,
    [Symbol.dispose]() {
      globalThis.fetch = original;
    },
  };
}

const NAME = "the OpenAI Agents SDK runs an agent with a function tool through /v1/responses " +
  "to Anthropic: run, streamed and continued by previousResponseId";

Deno.test({
  name: "sdk" in AGENTS ? NAME : `${NAME} (SKIPPED: ${AGENTS.skipped})`,
  ignore: !("sdk" in AGENTS),
  async fn(t) {
    if (!("sdk" in AGENTS)) return;
    const {
      Agent,
      getGlobalTraceProvider,
      run,
      setDefaultOpenAIClient,
      setTracingDisabled,
      tool,
    } = AGENTS.sdk;

    await using anthropic = startFakeAnthropic(anthropicModel());
    const key = makeKey({ models: [PUBLIC_MODEL] });
    await using gateway = startGateway({
      env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.baseUrl },
      routingFile: {
        models: { [PUBLIC_MODEL]: { targets: [{ provider: "anthropic", model: CLAUDE_MODEL }] } },
      },
      verifier: createKeyListVerifier(() => compileKeyIndex({ version: 1, keys: [key.record] })),
    });
    using fetches = guardFetch(gateway.url);

    setTracingDisabled(true);
    setDefaultOpenAIClient(
      new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key.token, maxRetries: 0 }),
    );
    const calls: string[] = [];
    const getWeather = tool({
      name: "get_weather",
      description: "The weather in a city",
      parameters: z.object({ city: z.string() }),
      execute: ({ city }) => {
        calls.push(city);
        return `sunny in ${city}`;
      },
    });
    const agent = new Agent({
      name: "Weather",
      instructions: "Answer with the weather.",
      model: PUBLIC_MODEL,
      tools: [getWeather],
    });
    const prompt = "What is the weather in Paris and in Rome?";

    /** What reached Anthropic in the two calls of one run: the tool's definition and results. */
    function checkUpstream(requests: typeof anthropic.requests, stream: boolean) {
      assert.equal(requests.length, 2);
      for (const request of requests) {
        assert.equal(request.body?.model, CLAUDE_MODEL);
        assert.equal(request.body?.stream === true, stream);
        assert.equal(viewOfMessages(request.body ?? {}).system, "Answer with the weather.");
      }
      const [tool] = requests[0]?.body?.tools as { name: string; input_schema: unknown }[];
      assert.equal(tool?.name, "get_weather");
      assert.deepEqual((tool?.input_schema as { properties: unknown }).properties, {
        city: { type: "string" },
      });
      const turns = requests[1]?.body?.messages as Turn[];
      const uses = (turns.at(-2)?.content as Block[]).filter((b) => b.type === "tool_use");
      assert.deepEqual(uses.map((b) => [b.id, b.name, b.input]), [
        ["toolu_paris", "get_weather", { city: "Paris" }],
        ["toolu_rome", "get_weather", { city: "Rome" }],
      ]);
      const results = (turns.at(-1)?.content as Block[]).filter((b) => b.type === "tool_result");
      assert.deepEqual(results.map((b) => [b.tool_use_id, b.content]), [
        ["toolu_paris", "sunny in Paris"],
        ["toolu_rome", "sunny in Rome"],
      ]);
    }

    await t.step(
      "run: the tool is called for both cities, the answer uses its results",
      async () => {
        const result = await run(agent, prompt);
        assert.equal(result.finalOutput, ANSWER);
        assert.deepEqual(calls, ["Paris", "Rome"]);
        checkUpstream(anthropic.requests, false);
      },
    );

    await t.step("streamed: the same round trip, the answer's text streamed", async () => {
      calls.length = 0;
      const before = anthropic.requests.length;
      const result = await run(agent, prompt, { stream: true });
      let streamed = "";
      for await (const text of result.toTextStream()) streamed += text;
      await result.completed;
      assert.equal(result.finalOutput, ANSWER);
      // The text of both turns: the model's "Let me check." before its calls, then the answer.
      assert.equal(streamed, `Let me check.${ANSWER}`);
      assert.deepEqual(calls, ["Paris", "Rome"]);
      checkUpstream(anthropic.requests.slice(before), true);
    });

    await t.step(
      "a follow-up by previousResponseId: the gateway's stored turns go too",
      async () => {
        calls.length = 0;
        const first = await run(agent, prompt);
        const previousResponseId = first.lastResponseId ?? "";
        assert.match(previousResponseId, /^resp_/);
        const before = anthropic.requests.length;
        const result = await run(agent, "And tomorrow?", {
          previousResponseId,
        });
        assert.equal(result.finalOutput, ANSWER);
        assert.deepEqual(calls, ["Paris", "Rome", "Paris", "Rome"]);
        const requests = anthropic.requests.slice(before);
        assert.equal(requests.length, 2);
        // The SDK sent only the new input, then only the tool results: the rest is the store's.
        const turns = requests[1]?.body?.messages as Turn[];
        const texts = turns.map((turn) => viewOfMessages({ messages: [turn] }).lastUserText);
        assert.deepEqual(turns.map((turn) => turn.role), [
          "user",
          "assistant",
          "user",
          "assistant",
          "user",
          "assistant",
          "user",
        ]);
        assert.equal(texts[0], prompt);
        assert.equal(texts[4], "And tomorrow?");
        const sent = fetches.bodies.slice(-2);
        assert.equal(sent[0]?.previous_response_id, previousResponseId);
        assert.equal(sent[0]?.input?.length, 1);
        assert.deepEqual(sent[1]?.input?.map((item) => item.type), [
          "function_call_output",
          "function_call_output",
        ]);
      },
    );

    await t.step("nothing went anywhere but the gateway (traces included)", async () => {
      await getGlobalTraceProvider().forceFlush();
      assert.equal(fetches.urls.length, 8, fetches.urls.join("\n"));
      for (const url of fetches.urls) assert.equal(url, `${gateway.url}/v1/responses`);
      const served = gateway.logs.filter((line) => line.path === "/v1/responses");
      assert.deepEqual(
        served.map((line) => [line.status, line.provider, line.model]),
        Array(8).fill([200, "anthropic", PUBLIC_MODEL]),
      );
    });
  },
});
