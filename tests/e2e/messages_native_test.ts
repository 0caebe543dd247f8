/**
 * Messages to Anthropic pass through natively, end to end: the client's body with only `model`
 * replaced, its `anthropic-version` and `anthropic-beta`, the gateway's key; the answer and the
 * stream's events back unchanged, their usage in records and the access log. Also: a routing
 * file's provider of kind `anthropic`, and a fallback from Anthropic to a translated provider.
 */
import assert from "node:assert/strict";
import { anthropicClient } from "../_helpers/anthropic_client.ts";
import {
  ANTHROPIC_KEY,
  anthropicError,
  anthropicSse,
  messageBody,
  startFakeAnthropic,
  textStreamEvents,
} from "../_helpers/fake_anthropic.ts";
import { openAIModel } from "../_helpers/fake_model.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { CLIENT_KEY, startGateway, waitFor } from "../_helpers/gateway.ts";
import type { UsageRecord } from "../../src/usage/recorder.ts";

type Json = Record<string, unknown>;

const ANTHROPIC_ENV = (baseUrl: string) => ({
  ANTHROPIC_API_KEY: ANTHROPIC_KEY,
  ANTHROPIC_BASE_URL: baseUrl,
});

/** A request body using what only Anthropic has: every field must arrive as sent. */
const RICH = {
  model: "claude-sonnet-4-5",
  max_tokens: 2_000,
  system: [{ type: "text", text: "Be brief", cache_control: { type: "ephemeral" } }],
  thinking: { type: "enabled", budget_tokens: 1_024 },
  context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
  tools: [
    { type: "web_search_20250305", name: "web_search", max_uses: 2 },
    {
      name: "weather",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
      cache_control: { type: "ephemeral" },
    },
  ],
  messages: [{
    role: "user",
    content: [
      {
        type: "document",
        source: { type: "text", media_type: "text/plain", data: "A long document" },
        citations: { enabled: true },
      },
      { type: "text", text: "Summarise it", cache_control: { type: "ephemeral" } },
    ],
  }],
};

Deno.test("the client's body reaches Anthropic as sent, with only the model replaced", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = startGateway({
    env: ANTHROPIC_ENV(upstream.baseUrl),
    routingFile: {
      models: { claude: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] } },
    },
  });
  const response = await fetch(`${gateway.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": CLIENT_KEY,
      "anthropic-beta": "context-management-2025-06-27,interleaved-thinking-2025-05-14",
    },
    body: JSON.stringify({ ...RICH, model: "claude" }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-choreoai-provider"), "anthropic");
  assert.deepEqual(await response.json(), messageBody("claude-sonnet-4-5", "Hello from Claude"));
  const [seen] = upstream.requests;
  assert.equal(seen?.path, "/v1/messages");
  assert.deepEqual(seen?.body, RICH);
  assert.equal(seen?.headers.get("x-api-key"), ANTHROPIC_KEY);
  assert.equal(seen?.headers.get("authorization"), null);
  assert.equal(seen?.headers.get("anthropic-version"), "2023-06-01", "the default");
  assert.equal(
    seen?.headers.get("anthropic-beta"),
    "context-management-2025-06-27,interleaved-thinking-2025-05-14",
  );
  for (const [, value] of seen?.headers ?? []) assert.ok(!value.includes(CLIENT_KEY));
});

Deno.test("the SDK's anthropic-version is passed on; stream events come back unchanged", async () => {
  const events = [
    ...textStreamEvents("claude-sonnet-4-5", ["Hello", " there"]).slice(0, 2),
    { type: "ping" },
    { type: "some_future_event", detail: { kept: true } },
    ...textStreamEvents("claude-sonnet-4-5", ["Hello", " there"]).slice(3),
  ];
  const sse = anthropicSse(events);
  await using upstream = startFakeAnthropic(() =>
    new Response(sse, { headers: { "content-type": "text/event-stream; charset=utf-8" } })
  );
  await using gateway = startGateway({ env: ANTHROPIC_ENV(upstream.baseUrl) });
  const client = anthropicClient(gateway);
  const message = await client.messages.stream({
    model: "claude-sonnet-4-5",
    max_tokens: 100,
    messages: [{ role: "user", content: "Hi" }],
  }).finalMessage();
  assert.deepEqual(message.content, [{ type: "text", text: "Hello there" }]);
  assert.equal(upstream.requests[0]?.headers.get("anthropic-version"), "2026-10-21");
  const response = await fetch(`${gateway.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
  assert.equal(await response.text(), sse, "byte for byte");
});

Deno.test("usage of passed-through answers and streams reaches records and the access log", async (t) => {
  const usage = {
    input_tokens: 10,
    cache_creation_input_tokens: 100,
    cache_read_input_tokens: 1_000,
    output_tokens: 7,
  };
  await using upstream = startFakeAnthropic((body) => {
    if (body.stream !== true) {
      return Response.json({ ...messageBody(String(body.model), "Hi"), usage });
    }
    const events = textStreamEvents(String(body.model), ["Hi"]);
    const start = events[0] as { message: Json };
    start.message.usage = { ...usage, output_tokens: 1 };
    return new Response(
      anthropicSse(
        events.map((e) => e.type === "message_delta" ? { ...e, usage: { output_tokens: 7 } } : e),
      ),
      {
        headers: { "content-type": "text/event-stream" },
      },
    );
  });
  const records: UsageRecord[] = [];
  await using gateway = startGateway({
    env: ANTHROPIC_ENV(upstream.baseUrl),
    usage: { record: (entry) => records.push(entry) },
  });
  const client = anthropicClient(gateway);
  for (const stream of [false, true]) {
    await t.step(stream ? "stream" : "non-stream", async () => {
      const params = {
        model: "anthropic/claude-sonnet-4-5",
        max_tokens: 100,
        messages: [{ role: "user" as const, content: "Hi" }],
      };
      if (stream) await client.messages.stream(params).finalMessage();
      else await client.messages.create(params);
      await waitFor(() => records.length === (stream ? 2 : 1));
      const record = records.at(-1);
      assert.equal(record?.endpoint, "/v1/messages");
      assert.equal(record?.model, "anthropic/claude-sonnet-4-5");
      assert.equal(record?.provider, "anthropic");
      assert.deepEqual(
        [record?.prompt_tokens, record?.completion_tokens, record?.total_tokens],
        [1_110, 7, 1_117],
      );
      const line = gateway.logs.findLast((entry) => entry.msg === "request");
      assert.equal(line?.path, "/v1/messages");
      assert.equal(line?.upstream_model, "claude-sonnet-4-5");
      assert.equal(line?.stream, stream);
      assert.deepEqual(line?.usage, {
        prompt_tokens: 1_110,
        completion_tokens: 7,
        total_tokens: 1_117,
        cache_read_tokens: 1_000,
        cache_write_tokens: 100,
      });
    });
  }
});

Deno.test("count_tokens passes through with its headers; a routing file's anthropic provider too", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = startGateway({
    env: { TEAM_ANTHROPIC_KEY: ANTHROPIC_KEY },
    routingFile: {
      providers: {
        team: { kind: "anthropic", base_url: upstream.baseUrl, api_key_env: "TEAM_ANTHROPIC_KEY" },
      },
      models: { claude: { targets: [{ provider: "team", model: "claude-opus-4-1" }] } },
    },
  });
  const client = anthropicClient(gateway, { header: "x-api-key" });
  const messages = [{ role: "user" as const, content: "Count me" }];
  const { data, response } = await client.messages.countTokens(
    { model: "claude", messages },
    { headers: { "anthropic-beta": "token-counting-2024-11-01" } },
  ).withResponse();
  assert.equal(data.input_tokens, JSON.stringify(messages).length);
  assert.equal(response.headers.get("x-choreoai-provider"), "team");
  const [seen] = upstream.requests;
  assert.equal(seen?.path, "/v1/messages/count_tokens");
  assert.deepEqual(seen?.body, { model: "claude-opus-4-1", messages });
  assert.equal(seen?.headers.get("anthropic-beta"), "token-counting-2024-11-01");
  const answer = await client.messages.create({ model: "claude", max_tokens: 10, messages });
  assert.equal(answer.content[0]?.type, "text");
  assert.equal(upstream.requests[1]?.body?.model, "claude-opus-4-1");
});

Deno.test("a fallback from overloaded Anthropic to OpenAI answers in Messages' shape", async () => {
  await using anthropic = startFakeAnthropic(() =>
    anthropicError(529, "overloaded_error", "Overloaded")
  );
  await using openai = startFakeOpenAI({ onChat: openAIModel() });
  await using gateway = startGateway({
    env: {
      ...ANTHROPIC_ENV(anthropic.baseUrl),
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
    },
    routingFile: {
      models: {
        smart: {
          targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }],
          fallbacks: ["backup"],
        },
        backup: { targets: [{ provider: "openai", model: "gpt-4o" }] },
      },
    },
  });
  const client = anthropicClient(gateway);
  for (const stream of [false, true]) {
    const params = {
      model: "smart",
      max_tokens: 100,
      messages: [{ role: "user" as const, content: "Hi" }],
    };
    const message = stream
      ? await client.messages.stream(params).finalMessage()
      : await client.messages.create(params);
    assert.deepEqual(message.content.map((b) => b.type === "text" ? b.text : ""), [
      "turns=1 images=0: Hi",
    ]);
    assert.equal(message.model, "smart");
  }
  assert.equal(anthropic.requests.length, 2);
  assert.equal(openai.requests.length, 2);
  const line = gateway.logs.findLast((entry) => entry.msg === "request");
  assert.equal(line?.provider, "openai");
  assert.equal(line?.attempts, 2);
});
