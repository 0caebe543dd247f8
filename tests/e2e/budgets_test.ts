/**
 * Per-key budgets end to end, through the official clients: the worst case reserved before any
 * provider call and settled with the real cost, exactly to the micro-dollar; the 429
 * `insufficient_quota` refusal that no SDK retries; the budget headers; every dialect and
 * endpoint (count_tokens excepted); streams with and without usage; errors releasing their
 * reservation; the default budget in development mode; rotation chains; and a gateway process
 * that starts each counter from the usage database.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { type KeyRecord, parseKeyFile } from "../../src/keys/key_file.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import { periodWindow } from "../../src/spend/period.ts";
import type { UsageRecord } from "../../src/usage/store.ts";
import { anthropicClient } from "../_helpers/anthropic_client.ts";
import {
  completionBody,
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import { type GatewayOptions, openaiClient, startGateway, waitFor } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { spawnGateway } from "../_helpers/process.ts";
import { writeSpendRows } from "../_helpers/spend_db.ts";

/** Completion tokens the fake upstream answers a whole chat request with. */
const COMPLETION_TOKENS = 20;

/**
 * The routing file's prices, which win over the package's: output at 10 USD per Mtok (a
 * completion token costs 10 micro-USD) and input free for gpt-4o, so that a request's worst case
 * and cost are known exactly; embeddings input at 20 USD per Mtok.
 */
const ROUTING_FILE = {
  models: {
    "gpt-4o": {
      targets: [{ provider: "openai", model: "gpt-4o" }],
      prices: { input_per_mtok: 0, output_per_mtok: 10 },
    },
    "text-embedding-3-small": {
      targets: [{ provider: "openai", model: "text-embedding-3-small" }],
      prices: { input_per_mtok: 20, output_per_mtok: 0 },
    },
  },
};

/** The gateway's own pricing, with the routing file's prices above (they win). */
function pricedBy(env: Record<string, string>): GatewayOptions {
  return {
    env,
    routingFile: ROUTING_FILE,
    pricing: createPricing({ now: () => Date.now() }),
  };
}

const MESSAGES = [{ role: "user" as const, content: "Hello" }];

interface Setup extends AsyncDisposable {
  readonly gateway: ReturnType<typeof startGateway>;
  readonly upstream: ReturnType<typeof startFakeOpenAI>;
  readonly records: UsageRecord[];
  /** Decides the fake's chat answers; default: COMPLETION_TOKENS completion tokens. */
  chat: (body: Record<string, unknown>) => Response | undefined;
}

/** A whole chat answer of `completionTokens` completion tokens. */
function completion(body: Record<string, unknown>, completionTokens: number): Response {
  return Response.json({
    ...completionBody(String(body.model)),
    usage: {
      prompt_tokens: 9,
      completion_tokens: completionTokens,
      total_tokens: 9 + completionTokens,
    },
  });
}

function setUp(records: readonly KeyRecord[], options: GatewayOptions = {}): Setup {
  const setup = {} as { chat: Setup["chat"] };
  setup.chat = () => undefined;
  const upstream = startFakeOpenAI({
    onChat: (body) => {
      const answer = setup.chat(body);
      if (answer !== undefined || body.stream === true) return answer;
      return completion(body, COMPLETION_TOKENS);
    },
  });
  const usage: UsageRecord[] = [];
  const index = compileKeyIndex(parseKeyFile(keyFileText(records)));
  const gateway = startGateway({
    ...pricedBy({ OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl }),
    verifier: createKeyListVerifier(() => index),
    usage: { record: (entry) => void usage.push(entry) },
    ...options,
  });
  return Object.assign(setup, {
    gateway,
    upstream,
    records: usage,
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await upstream[Symbol.asyncDispose]();
    },
  });
}

/** Midnight UTC tonight, as a refusal prints it. */
function nextMidnight(): string {
  const { resetsAt } = periodWindow("day", Date.now());
  return new Date(resetsAt ?? 0).toISOString().replace(/\.000Z$/, "Z");
}

/** A chat completion with its response headers. */
async function chat(client: OpenAI, maxTokens: number) {
  return await client.chat.completions
    .create({ model: "gpt-4o", messages: MESSAGES, max_tokens: maxTokens })
    .withResponse();
}

/** The error a call rejects with. */
async function refusal(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${error}`);
    return error;
  }
  assert.fail("expected the request to be refused");
}

Deno.test("a key's budget through the OpenAI client: exact reservations, headers, refusal, records", async () => {
  const key = makeKey({ budget: { usd: 0.001, period: "day" } });
  await using setup = setUp([key.record]);
  const client = openaiClient(setup.gateway, key.token);

  // Each request reserves 30 tokens × 10 µ$ = 300 µ$ and costs 20 × 10 = 200 µ$.
  const remaining: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { data, response } = await chat(client, 30);
    assert.equal(data.usage?.completion_tokens, COMPLETION_TOKENS);
    assert.equal(response.headers.get("x-choreoai-cost-usd"), "0.0002");
    remaining.push(response.headers.get("x-choreoai-budget-remaining-usd") ?? "");
  }
  assert.deepEqual(remaining, ["0.0008", "0.0006", "0.0004", "0.0002"]);

  // 800 µ$ spent: a worst case of 300 µ$ no longer fits in the 200 left.
  const refused = await refusal(chat(client, 30));
  assert.ok(refused instanceof OpenAI.RateLimitError);
  assert.equal(refused.status, 429);
  assert.equal(refused.type, "insufficient_quota");
  assert.equal(refused.code, "insufficient_quota");
  assert.equal(
    refused.message,
    `429 Budget exceeded for key ${key.record.id}: its budget is $0.001 per day (UTC), of ` +
      "which $0.0008 is spent or reserved, and this request may cost up to $0.0003. It resets " +
      `at ${nextMidnight()}.`,
  );
  assert.equal(refused.headers?.get("x-should-retry"), "false");
  const retryAfter = refused.headers?.get("retry-after") ?? null;
  if (resetsWithinTheHour()) assert.match(retryAfter ?? "", /^\d+$/);
  else assert.equal(retryAfter, null, "no Retry-After unless the day ends within the hour");
  assert.equal(refused.headers?.get("x-choreoai-budget-remaining-usd"), "0.0002");
  assert.equal(refused.headers?.get("x-choreoai-cost-usd"), "0.00");
  assert.equal(setup.upstream.requests.length, 4, "a refusal never reaches the provider");

  // What is left fits exactly once more, and then the budget is used up.
  const { response: last } = await chat(client, 20);
  assert.equal(last.headers.get("x-choreoai-budget-remaining-usd"), "0.00");
  const usedUp = await refusal(chat(client, 1));
  assert.match(usedUp.message, /of which \$0\.001 is spent or reserved/);

  // An SDK that would retry a 429 does not retry this one.
  const retrying = new OpenAI({
    apiKey: key.token,
    baseURL: `${setup.gateway.url}/v1`,
    maxRetries: 3,
  });
  const before = setup.records.length;
  await refusal(chat(retrying, 1));
  await waitFor(() => setup.records.length > before);
  assert.equal(setup.records.length, before + 1, "the SDK sent the refused request once");

  await waitFor(() => setup.records.length === 8);
  assert.deepEqual(
    setup.records.map((r) => [r.status, r.completion_tokens, r.cost_usd]),
    [
      [200, 20, 0.0002],
      [200, 20, 0.0002],
      [200, 20, 0.0002],
      [200, 20, 0.0002],
      [429, 0, 0],
      [200, 20, 0.0002],
      [429, 0, 0],
      [429, 0, 0],
    ],
  );
  const recorded = setup.records.reduce((sum, r) => sum + Math.round((r.cost_usd ?? 0) * 1e6), 0);
  assert.equal(recorded, 1_000, "the records add up to the budget, to the micro-dollar");
});

/** Whether today (UTC) ends within the hour: a refusal then says Retry-After. */
function resetsWithinTheHour(): boolean {
  const { resetsAt } = periodWindow("day", Date.now());
  return (resetsAt ?? 0) - Date.now() <= 3_600_000;
}

Deno.test("budgets on streams: what is left when it starts, settled with its usage when it ends", async (t) => {
  const key = makeKey({ budget: { usd: 1, period: "month" } });
  await using setup = setUp([key.record]);
  const client = openaiClient(setup.gateway, key.token);
  await t.step("a stream that reports usage is settled with it", async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: "gpt-4o", messages: MESSAGES, max_tokens: 50, stream: true })
      .withResponse();
    // 50 × 10 µ$ reserved while it runs; no cost yet.
    assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), "0.9995");
    assert.equal(response.headers.get("x-choreoai-cost-usd"), null);
    for await (const _ of stream) { /* read to the end */ }
    await waitFor(() => setup.records.length === 1);
    // The fake streamed 4 completion tokens: 40 µ$; the next request's 200 µ$ on top.
    const { response: next } = await chat(client, 30);
    assert.equal(next.headers.get("x-choreoai-budget-remaining-usd"), "0.99976");
  });
  await t.step("a stream that ends without usage keeps its reservation", async () => {
    setup.chat = (body) =>
      body.stream === true
        ? new Response(sseBody(streamChunks(String(body.model), ["Hi"], false)), {
          headers: SSE_RESPONSE_HEADERS,
        })
        : undefined;
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: MESSAGES,
      max_tokens: 50,
      stream: true,
    });
    for await (const _ of stream) { /* read to the end */ }
    await waitFor(() => setup.records.length === 3);
    const { response: next } = await chat(client, 30);
    assert.equal(next.headers.get("x-choreoai-budget-remaining-usd"), "0.99906");
  });
});

Deno.test("an error before any output releases its reservation", async () => {
  const key = makeKey({ budget: { usd: 1, period: "month" } });
  await using setup = setUp([key.record]);
  setup.chat = () =>
    Response.json({ error: { message: "overloaded", type: "server_error", code: null } }, {
      status: 500,
    });
  const client = openaiClient(setup.gateway, key.token);
  const failed = await refusal(chat(client, 1_000));
  assert.equal(failed.status, 502);
  assert.equal(failed.headers?.get("x-choreoai-budget-remaining-usd"), "1.00");
  assert.equal(failed.headers?.get("x-choreoai-cost-usd"), "0.00");
  setup.chat = () => undefined;
  const { response } = await chat(client, 30);
  assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), "0.9998");
});

Deno.test("a request refused before its reservation still says what is left", async () => {
  const key = makeKey({ budget: { usd: 2, period: "month" }, models: ["gpt-4o"] });
  await using setup = setUp([key.record]);
  const client = openaiClient(setup.gateway, key.token);
  await chat(client, 30);
  const forbidden = await refusal(
    client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }).withResponse(),
  );
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.headers?.get("x-choreoai-budget-remaining-usd"), "1.9998");
});

Deno.test("every endpoint and dialect counts against the budget; count_tokens does not", async (t) => {
  const key = makeKey({ budget: { usd: 0.01, period: "month" } });
  await using setup = setUp([key.record]);
  const client = openaiClient(setup.gateway, key.token);
  let spent = 0;
  const left = () => ((10_000 - spent) / 1_000_000).toFixed(6).replace(/0{1,4}$/, "");

  await t.step("embeddings: input at 20 µ$ a token", async () => {
    const { data, response } = await client.embeddings
      .create({ model: "text-embedding-3-small", input: "one two three" })
      .withResponse();
    assert.equal(data.usage.prompt_tokens, 3);
    spent += 60;
    assert.equal(response.headers.get("x-choreoai-cost-usd"), "0.00006");
    assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), left());
  });
  await t.step("Responses, passed through to OpenAI", async () => {
    const { data, response } = await client.responses
      .create({ model: "gpt-4o", input: "Say hi", max_output_tokens: 100 })
      .withResponse();
    const cost = (data.usage?.output_tokens ?? 0) * 10;
    assert.ok(cost > 0);
    spent += cost;
    assert.equal(Number(response.headers.get("x-choreoai-cost-usd")), cost / 1_000_000);
    assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), left());
  });
  await t.step("Messages, translated for OpenAI", async () => {
    const anthropic = anthropicClient(setup.gateway, { key: key.token, header: "x-api-key" });
    const { data, response } = await anthropic.messages
      .create({ model: "gpt-4o", max_tokens: 30, messages: MESSAGES })
      .withResponse();
    assert.equal(data.usage.output_tokens, COMPLETION_TOKENS);
    spent += 200;
    assert.equal(response.headers.get("x-choreoai-cost-usd"), "0.0002");
    assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), left());
  });
  await t.step("used up: every dialect refuses, Messages as a billing_error", async () => {
    // A request whose worst case is all that is left, and that uses all of it.
    setup.chat = (body) => completion(body, Number(body.max_tokens));
    const { response } = await chat(client, (10_000 - spent) / 10);
    assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), "0.00");
    const anthropic = anthropicClient(setup.gateway, { key: key.token });
    try {
      await anthropic.messages.create({ model: "gpt-4o", max_tokens: 1, messages: MESSAGES });
      assert.fail("expected a refusal");
    } catch (error) {
      assert.ok(error instanceof Anthropic.RateLimitError, `got ${error}`);
      assert.deepEqual(
        (error.error as { error: { type: string; code: string } }).error.type,
        "billing_error",
      );
      assert.equal(error.headers?.get("x-should-retry"), "false");
    }
    const responses = await refusal(
      client.responses.create({ model: "gpt-4o", input: "hi", max_output_tokens: 16 }),
    );
    assert.equal(responses.code, "insufficient_quota");
    const embeddings = await refusal(
      client.embeddings.create({ model: "text-embedding-3-small", input: "x" }),
    );
    assert.equal(embeddings.code, "insufficient_quota");
  });
  await t.step("count_tokens is not budgeted", async () => {
    const response = await fetch(`${setup.gateway.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "x-api-key": key.token, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages: MESSAGES }),
    });
    assert.equal(response.status, 200);
    assert.ok((await response.json()).input_tokens > 0);
    assert.equal(response.headers.has("x-choreoai-budget-remaining-usd"), false);
  });
});

Deno.test("the default budget applies to keys without one, in development mode too", async () => {
  await using upstream = startFakeOpenAI();
  await using gateway = startGateway(pricedBy({
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
    CHOREOAI_DEFAULT_BUDGET_USD: "0.0003",
    CHOREOAI_DEFAULT_BUDGET_PERIOD: "total",
  }));
  const client = openaiClient(gateway);
  // The default answer has 6 completion tokens: 60 µ$ of the 300 reserved.
  const { response } = await chat(client, 30);
  assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), "0.00024");
  const refused = await refusal(chat(client, 30));
  assert.equal(
    refused.message,
    "429 Budget exceeded for key dev: its budget is $0.0003 in total, of which $0.00006 is " +
      "spent or reserved, and this request may cost up to $0.0003. It is a total budget and " +
      "does not reset: ask for a larger budget.",
  );
  assert.equal(refused.headers?.get("retry-after") ?? null, null);
});

Deno.test("a rotated key goes on spending the budget of the key it replaced", async () => {
  const old = makeKey({ id: "key_Rotated0001", budget: { usd: 0.0004, period: "day" } });
  const next = makeKey({
    id: "key_Rotated0002",
    rotated_from: "key_Rotated0001",
    budget: { usd: 0.0004, period: "day" },
  });
  await using setup = setUp([old.record, next.record]);
  await chat(openaiClient(setup.gateway, old.token), 30);
  const { response } = await chat(openaiClient(setup.gateway, next.token), 20);
  assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), "0.00");
  const refused = await refusal(chat(openaiClient(setup.gateway, next.token), 1));
  assert.match(refused.message, /key key_Rotated0002: its budget is \$0\.0004 per day/);
});

Deno.test("a gateway process starts each budget from the spend the usage database records", async () => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-budget-" });
  try {
    const spent = makeKey({ budget: { usd: 1, period: "month" } });
    const fresh = makeKey({ budget: { usd: 1, period: "month" } });
    await Deno.writeTextFile(`${dir}/keys.json`, keyFileText([spent.record, fresh.record]));
    // What a previous run recorded this month (and last month, which no longer counts).
    const { start } = periodWindow("month", Date.now());
    writeSpendRows(`${dir}/usage.db`, [
      { key_id: spent.record.id, time: start, cost_usd: 0.75 },
      { key_id: spent.record.id, time: Date.now() - 1_000, cost_usd: 0.25 },
      { key_id: spent.record.id, time: start - 1, cost_usd: 500 },
      { key_id: fresh.record.id, time: Date.now() - 1_000, cost_usd: 0.4 },
    ]);
    await using gateway = await spawnGateway({
      CHOREOAI_KEYS_FILE: `${dir}/keys.json`,
      CHOREOAI_DB: `${dir}/usage.db`,
    });
    const ask = (token: string) =>
      new OpenAI({ apiKey: token, baseURL: `${gateway.url}/v1`, maxRetries: 0 }).chat.completions
        .create({ model: "choreoai/echo", messages: MESSAGES })
        .withResponse();
    const refused = await refusal(ask(spent.token));
    assert.equal(refused.code, "insufficient_quota");
    assert.match(refused.message, /its budget is \$1\.00 per month \(UTC\), of which \$1\.00 is/);
    const { response } = await ask(fresh.token);
    assert.equal(response.headers.get("x-choreoai-budget-remaining-usd"), "0.60");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
