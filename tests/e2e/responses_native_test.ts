/**
 * Responses passed through natively to OpenAI and Azure OpenAI: the body reaches the provider
 * with only `model` replaced and the gateway's key, answers and streams come back byte for byte,
 * their usage reaches the usage records and the access log, built-in tools work, and the
 * response ids are remembered with the provider that keeps them. OpenAI-compatible servers of a
 * routing file are translated instead (they mostly lack `/v1/responses`).
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { UsageRecord } from "../../src/usage/recorder.ts";
import { ANTHROPIC_KEY, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { AZURE_KEY, startFakeAzure } from "../_helpers/fake_azure.ts";
import { anthropicModel, openAIModel } from "../_helpers/fake_model.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { streamEvents } from "../_helpers/fake_responses.ts";
import { CLIENT_KEY, openaiClient, startGateway, waitFor } from "../_helpers/gateway.ts";

type Json = Record<string, unknown>;

/** A `response` object as OpenAI answers it, with odd spacing to show bytes are kept. */
function fixedResponse(id: string): Json {
  return {
    id,
    object: "response",
    created_at: 1_764_000_000,
    status: "completed",
    model: "gpt-5-mini-2025-08-07",
    output: [{
      id: "msg_fixed",
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Fixed answer", annotations: [], logprobs: [] }],
    }],
    usage: {
      input_tokens: 31,
      input_tokens_details: { cached_tokens: 8 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 4 },
      total_tokens: 43,
    },
  };
}

function post(url: string, body: Json, key = CLIENT_KEY): Promise<Response> {
  return fetch(`${url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("OpenAI: the body passes with only model replaced; answers and streams come back byte for byte", async (t) => {
  const answerText = JSON.stringify(fixedResponse("resp_fixed"), null, 1);
  const streamText = streamEvents(fixedResponse("resp_streamed"));
  const upstream = startFakeOpenAI({
    onResponses: (body) =>
      body.stream === true
        ? new Response(streamText, { headers: { "content-type": "text/event-stream" } })
        : new Response(answerText, { headers: { "content-type": "application/json" } }),
  });
  const records: UsageRecord[] = [];
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    routingFile: { models: { smart: { targets: [{ provider: "openai", model: "gpt-5-mini" }] } } },
    usage: { record: (entry) => records.push(entry) },
  });
  await using _upstream = upstream;
  const body = {
    model: "smart",
    input: [{ role: "user", content: "Hi" }],
    tools: [{ type: "web_search" }, { type: "mcp", server_label: "x", server_url: "https://x" }],
    include: ["reasoning.encrypted_content", "web_search_call.action.sources"],
    reasoning: { effort: "minimal", summary: "detailed" },
    metadata: { trace: "abc" },
    prompt_cache_key: "k",
    service_tier: "flex",
    truncation: "auto",
    a_field_of_tomorrow: { kept: true },
  };

  await t.step("non-stream", async () => {
    const response = await post(gateway.url, body);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), answerText);
    assert.equal(response.headers.get("x-choreoai-provider"), "openai");
    const sent = upstream.requests.at(-1);
    assert.equal(sent?.path, "/v1/responses");
    assert.deepEqual(sent?.body, { ...body, model: "gpt-5-mini" });
    assert.equal(sent?.headers.get("authorization"), `Bearer ${PROVIDER_KEY}`);
    await waitFor(() => records.length === 1);
    assert.equal(records[0]?.endpoint, "/v1/responses");
    assert.equal(records[0]?.provider, "openai");
    assert.deepEqual(
      [records[0]?.prompt_tokens, records[0]?.completion_tokens, records[0]?.total_tokens],
      [31, 12, 43],
    );
    const line = gateway.logs.findLast((log) => log.msg === "request");
    assert.deepEqual(line?.usage, {
      prompt_tokens: 31,
      completion_tokens: 12,
      total_tokens: 43,
      cache_read_tokens: 8,
      reasoning_tokens: 4,
    });
    assert.equal(line?.upstream_model, "gpt-5-mini");
  });

  await t.step("stream", async () => {
    const response = await post(gateway.url, { ...body, stream: true });
    assert.equal(await response.text(), streamText);
    assert.deepEqual(upstream.requests.at(-1)?.body, {
      ...body,
      stream: true,
      model: "gpt-5-mini",
    });
    await waitFor(() => records.length === 2);
    assert.equal(records[1]?.total_tokens, 43);
  });

  await t.step("the ids are remembered: retrieve is forwarded to OpenAI", async () => {
    const client = openaiClient(gateway);
    for (const id of ["resp_fixed", "resp_streamed"]) {
      const error = await client.responses.retrieve(id).catch((error) => error);
      // The script answered without keeping them: OpenAI's 404 comes back.
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal(upstream.requests.at(-1)?.path, `/v1/responses/${id}`);
    }
  });
});

Deno.test("OpenAI's built-in tools work through the gateway; other providers refuse them naming the tool", async () => {
  await using openai = startFakeOpenAI();
  await using anthropic = startFakeAnthropic(anthropicModel());
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
    },
  });
  const client = openaiClient(gateway);
  const params = {
    tools: [{ type: "web_search" as const }],
    include: ["reasoning.encrypted_content" as const],
    reasoning: { effort: "low" as const },
    input: "News about Paris?",
  };
  const answer = await client.responses.create({ model: "gpt-5-mini", ...params });
  assert.deepEqual(answer.output.map((item) => item.type), [
    "web_search_call",
    "reasoning",
    "message",
  ]);
  const reasoning = answer.output.find((item) => item.type === "reasoning");
  assert.match(reasoning?.encrypted_content ?? "", /^gAAAA/);
  const refused = await client.responses.create({ model: "claude-sonnet-4-5", ...params })
    .catch((error) => error);
  assert.ok(refused instanceof OpenAI.BadRequestError);
  assert.equal(refused.param, "tools[0]");
  assert.equal(anthropic.requests.length, 0);
});

Deno.test("Azure: the v1 Responses API, deployment as model, api-key, no api-version; a routing file's azure provider", async () => {
  await using azure = startFakeAzure({ deployments: ["gpt-5-prod"] });
  await using gateway = startGateway({
    env: { EU_KEY: AZURE_KEY },
    routingFile: {
      providers: { "azure-eu": { kind: "azure", endpoint: azure.endpoint, api_key_env: "EU_KEY" } },
      models: { smart: { targets: [{ provider: "azure-eu", model: "gpt-5-prod" }] } },
    },
  });
  const client = openaiClient(gateway);
  const { data, response } = await client.responses.create({
    model: "smart",
    instructions: "Be brief.",
    input: "Hi",
  }).withResponse();
  assert.equal(data.output_text, "[Be brief.] turns=1 images=0: Hi");
  assert.equal(response.headers.get("x-choreoai-provider"), "azure-eu");
  const sent = azure.requests.at(-1);
  assert.equal(sent?.path, "/openai/v1/responses");
  assert.equal(sent?.apiVersion, null);
  assert.equal(sent?.headers.get("api-key"), AZURE_KEY);
  assert.equal(sent?.headers.get("authorization"), null);
  assert.equal(sent?.body?.model, "gpt-5-prod");
  const kept = await client.responses.retrieve(data.id);
  assert.equal(kept.output_text, data.output_text);
  assert.equal(azure.requests.at(-1)?.path, `/openai/v1/responses/${data.id}`);
  assert.equal(azure.requests.at(-1)?.method, "GET");
  // The SDK types `delete` as void; it returns OpenAI's `response.deleted` object.
  const deleted: unknown = await client.responses.delete(data.id);
  assert.deepEqual(deleted, { id: data.id, object: "response.deleted", deleted: true });
  assert.equal(azure.requests.at(-1)?.method, "DELETE");
});

Deno.test("an OpenAI-compatible server of the routing file gets the request translated to chat", async () => {
  await using server = startFakeOpenAI({ onChat: openAIModel({ compatible: true }) });
  await using gateway = startGateway({
    env: { VLLM_KEY: PROVIDER_KEY },
    routingFile: {
      providers: {
        vllm: { kind: "openai-compatible", base_url: server.baseUrl, api_key_env: "VLLM_KEY" },
      },
      models: {},
    },
  });
  const client = openaiClient(gateway);
  const { data, response } = await client.responses.create({
    model: "vllm/qwen3",
    input: "Hi",
    text: { verbosity: "low" },
    prompt_cache_key: "k",
  }).withResponse();
  assert.equal(data.output_text, "turns=1 images=0: Hi");
  assert.deepEqual(server.requests.map((request) => request.path), ["/v1/chat/completions"]);
  const sent = server.requests[0]?.body ?? {};
  assert.equal("verbosity" in sent, false);
  assert.equal("prompt_cache_key" in sent, false);
  assert.equal(response.headers.get("x-choreoai-adjusted"), "text.verbosity");
});
