/**
 * Errors on the Responses endpoints, end to end through the official `openai` client: every
 * error is OpenAI-shaped with the status and code of the error table, so the SDK raises the
 * class of the status: request errors (400, 404, 405), authentication (401), scopes (403, the
 * scope `/v1/responses` covering every response path), rate limits (429, the never-fitting
 * reservation, reads not counted), upstream errors of translated and passed-through providers,
 * and streams that fail midway (an `error` event, then `response.failed`).
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { type KeyRecord, parseKeyFile } from "../../src/keys/key_file.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { ANTHROPIC_KEY, anthropicError, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import {
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import { streamEvents } from "../_helpers/fake_responses.ts";
import {
  CLIENT_KEY,
  type GatewayOptions,
  openaiClient,
  startGateway,
  type TestGateway,
} from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

type Json = Record<string, unknown>;

const now = () => performance.timeOrigin + performance.now();

function keyedGateway(records: KeyRecord[], options: GatewayOptions = {}): TestGateway {
  const index = compileKeyIndex(parseKeyFile(keyFileText(records)));
  return startGateway({
    ...options,
    verifier: createKeyListVerifier(() => index),
    limiter: createMemoryLimiter({ now }),
  });
}

const ECHO = { model: "choreoai/echo", input: "Hi" };

/** The error a call raised (it must raise one). */
async function raised(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  assert.fail("the call succeeded");
}

async function send(
  gateway: TestGateway,
  path: string,
  method: string,
  key = CLIENT_KEY,
): Promise<{ status: number; headers: Headers; body: Json }> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(method === "POST" ? { body: JSON.stringify(ECHO) } : {}),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("Responses authentication: the seed's 401s", async (t) => {
  const key = makeKey();
  await using gateway = keyedGateway([key.record]);
  await t.step("no key", async () => {
    const client = new OpenAI({
      apiKey: "unused",
      baseURL: `${gateway.url}/v1`,
      maxRetries: 0,
      defaultHeaders: { authorization: null },
    });
    const error = await raised(client.responses.create(ECHO));
    assert.ok(error instanceof OpenAI.AuthenticationError);
    assert.equal(error.code, "missing_authorization");
  });
  await t.step("an unknown key, on every Responses endpoint", async () => {
    const client = openaiClient(gateway, "sk-unknown-0123456789abcdef");
    for (
      const call of [
        client.responses.create(ECHO),
        client.responses.retrieve("resp_1"),
        client.responses.delete("resp_1"),
        client.responses.inputItems.list("resp_1"),
      ]
    ) {
      const error = await raised(call);
      assert.ok(error instanceof OpenAI.AuthenticationError);
      assert.equal(error.code, "invalid_api_key");
    }
  });
});

Deno.test("Responses scopes: /v1/responses covers every response path; 403 otherwise", async (t) => {
  const responsesOnly = makeKey({ endpoints: ["/v1/responses"] });
  const chatOnly = makeKey({ endpoints: ["/v1/chat/completions"] });
  const gptOnly = makeKey({ models: ["gpt-*"] });
  await using gateway = keyedGateway([responsesOnly.record, chatOnly.record, gptOnly.record]);
  await t.step("a key scoped to /v1/responses creates, reads, lists and deletes", async () => {
    const client = openaiClient(gateway, responsesOnly.token);
    const created = await client.responses.create(ECHO);
    assert.equal((await client.responses.retrieve(created.id)).id, created.id);
    assert.equal((await client.responses.inputItems.list(created.id)).data.length, 1);
    await client.responses.delete(created.id);
  });
  await t.step("a key scoped to chat completions may not", async () => {
    const client = openaiClient(gateway, chatOnly.token);
    for (const call of [client.responses.create(ECHO), client.responses.retrieve("resp_1")]) {
      const error = await raised(call);
      assert.ok(error instanceof OpenAI.PermissionDeniedError);
      assert.equal(error.code, "endpoint_not_allowed");
    }
  });
  await t.step("model scope", async () => {
    const error = await raised(openaiClient(gateway, gptOnly.token).responses.create(ECHO));
    assert.ok(error instanceof OpenAI.PermissionDeniedError);
    assert.equal(error.code, "model_not_allowed");
  });
});

Deno.test("Responses request errors: 400 naming the field, 404, 405", async (t) => {
  await using gateway = startGateway();
  const client = openaiClient(gateway);
  const cases: [string, Json, string][] = [
    ["no model", { input: "Hi" }, "model"],
    ["a message without content", { ...ECHO, input: [{ role: "user" }] }, "input[0].content"],
    ["a bad temperature", { ...ECHO, temperature: 7 }, "temperature"],
    [
      "a reference to an unknown item",
      { ...ECHO, input: [{ type: "item_reference", id: "msg_unknown" }] },
      "input[0].id",
    ],
    ["a built-in tool", { ...ECHO, tools: [{ type: "web_search" }] }, "tools[0]"],
    ["background mode", { ...ECHO, background: true }, "background"],
  ];
  for (const [name, body, param] of cases) {
    await t.step(`400: ${name}`, async () => {
      const error = await raised(
        client.responses.create(
          body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming,
        ),
      );
      assert.ok(error instanceof OpenAI.BadRequestError, name);
      assert.equal(error.param, param);
    });
  }
  await t.step("404: an unknown model, an unknown response, an unknown path", async () => {
    const model = await raised(client.responses.create({ ...ECHO, model: "nobody/knows" }));
    assert.ok(model instanceof OpenAI.NotFoundError);
    assert.equal(model.code, "model_not_found");
    const unknown = await raised(client.responses.retrieve("resp_unknown"));
    assert.ok(unknown instanceof OpenAI.NotFoundError);
    assert.equal(unknown.message, "404 Response with id 'resp_unknown' not found.");
    const previous = await raised(
      client.responses.create({ ...ECHO, previous_response_id: "resp_unknown" }),
    );
    assert.equal(previous.code, "previous_response_not_found");
    const { status } = await send(gateway, "/v1/responses/resp_1/output", "GET");
    assert.equal(status, 404);
  });
  await t.step("405 with Allow", async () => {
    const list = await send(gateway, "/v1/responses", "GET");
    assert.equal(list.status, 405);
    assert.equal(list.headers.get("allow"), "POST");
    const put = await send(gateway, "/v1/responses/resp_1", "PUT");
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, DELETE");
    const items = await send(gateway, "/v1/responses/resp_1/input_items", "DELETE");
    assert.equal(items.headers.get("allow"), "GET");
  });
});

Deno.test("Responses rate limits: 429 with Retry-After; the never-fitting reservation; reads not counted", async (t) => {
  const twoRpm = makeKey({ rpm: 2 });
  const smallTpm = makeKey({ tpm: 1_000 });
  await using gateway = keyedGateway([twoRpm.record, smallTpm.record]);
  await t.step(
    "reads and deletes do not count; the third create in a minute is refused",
    async () => {
      const client = openaiClient(gateway, twoRpm.token);
      const { data, response } = await client.responses.create(ECHO).withResponse();
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), "2");
      for (let i = 0; i < 3; i++) await client.responses.retrieve(data.id);
      await client.responses.inputItems.list(data.id);
      await client.responses.create(ECHO);
      const error = await raised(client.responses.create(ECHO));
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.code, "rate_limit_exceeded");
      assert.ok(Number(error.headers?.get("retry-after")) >= 1);
      await client.responses.delete(data.id);
    },
  );
  await t.step(
    "a max_output_tokens larger than the tpm can never fit: x-should-retry false",
    async () => {
      const client = openaiClient(gateway, smallTpm.token);
      const error = await raised(client.responses.create({ ...ECHO, max_output_tokens: 5_000 }));
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.headers?.get("x-should-retry"), "false");
      assert.equal(error.headers?.get("retry-after"), null);
      assert.match(error.message, /lower max_output_tokens to at most \d+/);
      const unset = await raised(
        client.responses.create({ ...ECHO, input: "x ".repeat(1_500) }),
      );
      assert.match(unset.message, /max_output_tokens/);
    },
  );
});

Deno.test("Responses upstream errors: the error table's statuses, no provider key text", async (t) => {
  let answer: () => Response = () => new Response(null, { status: 500 });
  await using openai = startFakeOpenAI({ onResponses: () => answer() });
  await using anthropic = startFakeAnthropic(() => answer());
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
    },
  });
  const client = openaiClient(gateway);
  const openaiError = (status: number, message: string, param: string | null = null) => () =>
    Response.json({
      error: { message, type: "invalid_request_error", param, code: null },
    }, { status, headers: { "retry-after": "7" } });
  const cases: [string, string, () => Response, number, string | null][] = [
    ["OpenAI 500", "gpt-5-mini", openaiError(500, "boom"), 502, "upstream_error"],
    ["OpenAI 503", "gpt-5-mini", openaiError(503, "busy"), 503, "upstream_overloaded"],
    ["OpenAI 429", "gpt-5-mini", openaiError(429, "slow down"), 429, null],
    [
      "OpenAI 401",
      "gpt-5-mini",
      openaiError(401, `Incorrect API key provided: ${PROVIDER_KEY}`),
      502,
      "upstream_error",
    ],
    [
      "OpenAI 400, passed on",
      "gpt-5-mini",
      openaiError(400, "Unsupported parameter: 'reasoning.effort'", "reasoning.effort"),
      400,
      null,
    ],
    [
      "Anthropic 529",
      "claude-sonnet-4-5",
      () => anthropicError(529, "overloaded_error", "Overloaded"),
      503,
      "upstream_overloaded",
    ],
    [
      "Anthropic 401",
      "claude-sonnet-4-5",
      () => anthropicError(401, "authentication_error", `bad key ${ANTHROPIC_KEY}`),
      502,
      "upstream_error",
    ],
  ];
  for (const [name, model, upstream, status, code] of cases) {
    await t.step(`${name} → ${status}`, async () => {
      answer = upstream;
      const error = await raised(client.responses.create({ model, input: "Hi" }));
      assert.equal(error.status, status);
      if (code !== null) assert.equal(error.code, code);
      assert.ok(!JSON.stringify(error.error).includes(PROVIDER_KEY));
      assert.ok(!JSON.stringify(error.error).includes(ANTHROPIC_KEY));
      if (status >= 500) assert.ok(error instanceof OpenAI.InternalServerError);
      if (status === 429) assert.equal(error.headers?.get("retry-after"), "7");
      if (name.includes("400")) assert.equal(error.param, "reasoning.effort");
      // A stream that fails before its first event is the same HTTP error.
      const streamed = await raised(client.responses.create({ model, input: "Hi", stream: true }));
      assert.equal(streamed.status, status);
    });
  }
});

/** The events of an SSE body, as `[type, data]`. */
function eventsOf(text: string): [string, Json][] {
  return text.split("\n\n").filter((block) => block.trim() !== "").map((block) => {
    const data = block.split("\n").find((line) => line.startsWith("data: "))?.slice(6) ?? "{}";
    const json = JSON.parse(data) as Json;
    return [String(json.type), json];
  });
}

Deno.test("Responses streams that fail midway: an error event, then response.failed", async (t) => {
  const partial = eventsOf(streamEvents({
    id: "resp_cut",
    object: "response",
    status: "completed",
    output: [{
      id: "msg_cut",
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Hello there friend", annotations: [] }],
    }],
    usage: null,
  })).slice(0, 5);
  const cut = partial.map(([type, data]) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
    .join("");
  await using openai = startFakeOpenAI({
    onChat: (body) =>
      new Response(
        sseBody(streamChunks(String(body.model), ["Hello", " there"], true).slice(0, 2), false),
        { headers: SSE_RESPONSE_HEADERS },
      ),
    onResponses: () => new Response(cut, { headers: { "content-type": "text/event-stream" } }),
  });
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: openai.baseUrl, VLLM_KEY: PROVIDER_KEY },
    routingFile: {
      providers: {
        vllm: { kind: "openai-compatible", base_url: openai.baseUrl, api_key_env: "VLLM_KEY" },
      },
      models: {},
    },
  });
  const client = openaiClient(gateway);
  await t.step(
    "translated: the SDK raises the error; the wire has error then response.failed",
    async () => {
      const stream = client.responses.stream({ model: "vllm/qwen3", input: "Hi" });
      const error = await (async (): Promise<unknown> => {
        try {
          for await (const _ of stream) { /* read on */ }
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      assert.ok(error instanceof OpenAI.APIError);
      assert.match(error.message, /ended the stream before it was complete/);
      const response = await fetch(`${gateway.url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "vllm/qwen3", input: "Hi", stream: true }),
      });
      const events = eventsOf(await response.text());
      assert.deepEqual(events.slice(-2).map(([type]) => type), ["error", "response.failed"]);
      const failed = events.at(-1)?.[1].response as Json;
      assert.equal(failed.status, "failed");
      assert.equal((failed.error as Json).code, "upstream_error");
    },
  );
  await t.step(
    "passed through: the provider's events, then the gateway's error event",
    async () => {
      const response = await fetch(`${gateway.url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-5-mini", input: "Hi", stream: true }),
      });
      const events = eventsOf(await response.text());
      assert.deepEqual(events.slice(0, 5).map(([type]) => type), partial.map(([type]) => type));
      const [type, data] = events.at(-1) ?? [];
      assert.equal(type, "error");
      assert.equal(data?.code, "upstream_error");
      assert.equal(data?.sequence_number, 5);
    },
  );
});
