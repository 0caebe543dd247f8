/**
 * `GET /metrics` and `Server-Timing` through real HTTP: known traffic through the official
 * OpenAI client against fake providers, then the exposition read back, family by family.
 */
import assert from "node:assert/strict";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import type { UsageRecord } from "../../src/usage/store.ts";
import {
  completionBody,
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import {
  CLIENT_KEY,
  delay,
  openaiClient,
  startGateway,
  type TestGateway,
} from "../_helpers/gateway.ts";
import { hasSample, parseExposition, type Sample, sumOf } from "../_helpers/prometheus.ts";

async function scrape(gateway: TestGateway): Promise<Sample[]> {
  const response = await fetch(`${gateway.url}/metrics`, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.equal(response.headers.get("cache-control"), "no-store");
  return parseExposition(await response.text());
}

function chat(gateway: TestGateway, model: string, extra: Record<string, unknown> = {}) {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }], ...extra }),
  });
}

Deno.test("/metrics after known traffic: requests, tokens, attempts, retries, fallbacks, breakers, refusals", async (t) => {
  await using broken = startFakeOpenAI({
    onChat: () =>
      Response.json({ error: { message: "down", type: "server_error", code: null } }, {
        status: 500,
      }),
  });
  await using good = startFakeOpenAI({
    onChat: (body) =>
      body.stream === true
        ? new Response(
          sseBody(streamChunks(String(body.model), ["Hello", " there"], true)),
          { headers: SSE_RESPONSE_HEADERS },
        )
        : Response.json(completionBody(String(body.model))),
  });
  const now = () => performance.timeOrigin + performance.now();
  await using gateway = startGateway({
    env: { BROKEN_KEY: PROVIDER_KEY, GOOD_KEY: PROVIDER_KEY, CHOREOAI_DEFAULT_RPM: "4" },
    limiter: createMemoryLimiter({ now }),
    metrics: createMetrics({ version: "test" }),
    routingFile: {
      providers: {
        broken: { kind: "openai-compatible", base_url: broken.baseUrl, api_key_env: "BROKEN_KEY" },
        good: { kind: "openai-compatible", base_url: good.baseUrl, api_key_env: "GOOD_KEY" },
      },
      circuit_breaker: { failures: 2, cooldown_ms: 600_000 },
      models: {
        flaky: {
          targets: [{ provider: "broken", model: "m1" }],
          retries: 1,
          fallbacks: ["steady"],
        },
        steady: { targets: [{ provider: "good", model: "gpt-4o" }] },
      },
    },
  });
  const client = openaiClient(gateway);
  await client.chat.completions.create({
    model: "steady",
    messages: [{ role: "user", content: "Hi" }],
  });
  const stream = await client.chat.completions.create({
    model: "steady",
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _ of stream) { /* read to the end */ }
  const fellBack = await client.chat.completions.create({
    model: "flaky",
    messages: [{ role: "user", content: "Hi" }],
  }).withResponse();
  assert.equal(fellBack.response.headers.get("x-choreoai-provider"), "good");
  const missing = await chat(gateway, "no-such-model");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const limited = await chat(gateway, "steady");
  assert.equal(limited.status, 429);
  await limited.body?.cancel();
  // Finishing callbacks run as each body completes.
  await delay(20);
  const s = await scrape(gateway);

  await t.step("requests by endpoint, provider, model, status class and code", () => {
    const chatRequests = { dialect: "openai", endpoint: "/v1/chat/completions" };
    assert.equal(
      sumOf(s, "choreoai_requests_total", {
        ...chatRequests,
        provider: "good",
        model: "steady",
        status: "2xx",
        code: "",
      }),
      2,
    );
    assert.equal(
      sumOf(s, "choreoai_requests_total", {
        ...chatRequests,
        provider: "good",
        model: "flaky",
        status: "2xx",
      }),
      1,
    );
    assert.equal(
      sumOf(s, "choreoai_requests_total", {
        model: "other",
        status: "4xx",
        code: "model_not_found",
      }),
      1,
    );
    assert.equal(
      sumOf(s, "choreoai_requests_total", { status: "4xx", code: "rate_limit_exceeded" }),
      1,
    );
    assert.equal(sumOf(s, "choreoai_request_duration_seconds_count", chatRequests), 5);
    assert.equal(sumOf(s, "choreoai_gateway_overhead_seconds_count", chatRequests), 5);
  });
  await t.step("tokens as the provider reported them", () => {
    // Non-stream answers: 9 prompt + 6 completion each; the stream: 9 + 2 words.
    assert.equal(sumOf(s, "choreoai_tokens_total", { model: "steady", type: "prompt" }), 18);
    assert.equal(sumOf(s, "choreoai_tokens_total", { model: "steady", type: "completion" }), 8);
    assert.equal(sumOf(s, "choreoai_tokens_total", { model: "flaky", type: "completion" }), 6);
  });
  await t.step("attempts: first, retry and fallback, by target and outcome", () => {
    const brokenTarget = { provider: "broken", target: "broken/m1" };
    assert.equal(
      sumOf(s, "choreoai_upstream_attempts_total", {
        ...brokenTarget,
        kind: "first",
        outcome: "error",
      }),
      1,
    );
    assert.equal(
      sumOf(s, "choreoai_upstream_attempts_total", {
        ...brokenTarget,
        kind: "retry",
        outcome: "error",
      }),
      1,
    );
    assert.equal(
      sumOf(s, "choreoai_upstream_attempts_total", {
        target: "good/gpt-4o",
        kind: "fallback",
        outcome: "success",
      }),
      1,
    );
    assert.equal(
      sumOf(s, "choreoai_upstream_attempts_total", {
        target: "good/gpt-4o",
        kind: "first",
        outcome: "success",
      }),
      2,
    );
    assert.equal(sumOf(s, "choreoai_upstream_errors_total", brokenTarget), 2);
    assert.equal(sumOf(s, "choreoai_upstream_ttfb_seconds_count", { target: "good/gpt-4o" }), 3);
  });
  await t.step("breaker state per configured target", () => {
    assert.equal(sumOf(s, "choreoai_breaker_state", { target: "broken/m1" }), 1, "open");
    assert.equal(sumOf(s, "choreoai_breaker_state", { target: "good/gpt-4o" }), 0, "closed");
  });
  await t.step("rate-limit refusals", () => {
    assert.equal(sumOf(s, "choreoai_limit_refusals_total", { limit: "rate_limit" }), 1);
  });
  await t.step("in flight: only the scrape itself", () => {
    assert.equal(sumOf(s, "choreoai_in_flight_requests"), 1);
    assert.equal(sumOf(s, "choreoai_in_flight_streams"), 0);
  });
  await t.step("no Redis, no Redis gauge; no key or secret anywhere", async () => {
    assert.equal(hasSample(s, "choreoai_redis_fallback"), false);
    const text = await (await fetch(`${gateway.url}/metrics`, {
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    })).text();
    assert.equal(text.includes(CLIENT_KEY), false);
    assert.equal(text.includes(PROVIDER_KEY), false);
    assert.equal(text.includes("Hi"), false, "no prompt text");
  });
});

Deno.test("/metrics: 10,000 distinct made-up model names add a bounded number of series", async () => {
  const known = new Set(["gpt-4o"]);
  await using upstream = startFakeOpenAI({
    // As OpenAI does: an unknown model is a 404 model_not_found.
    onChat: (body) =>
      known.has(String(body.model)) ? undefined : Response.json({
        error: {
          message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
          type: "invalid_request_error",
          param: null,
          code: "model_not_found",
        },
      }, { status: 404 }),
  });
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    metrics: createMetrics({ version: "test" }),
  });
  const series = async () =>
    (await scrape(gateway)).filter((sample) => sample.name.startsWith("choreoai_"));
  const ok = await chat(gateway, "gpt-4o");
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  await delay(10);
  const before = (await series()).length;
  const total = 10_000;
  const workers = 32;
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < total) {
      const i = next++;
      // Half go to OpenAI by their prefix and are refused there, half are unroutable here.
      const model = i % 2 === 0 ? `gpt-made-up-${i}` : `nothing-${i}`;
      const response = await chat(gateway, model);
      assert.equal(response.status, 404);
      await response.body?.cancel();
    }
  }));
  await delay(20);
  const after = await series();
  const models = new Set(after.map((sample) => sample.labels.model).filter((m) => m !== undefined));
  assert.deepEqual(models, new Set(["", "gpt-4o", "other"]));
  assert.ok(after.length - before <= 60, `${after.length - before} new series`);
  assert.equal(after.some((sample) => JSON.stringify(sample.labels).includes("made-up")), false);
  assert.equal(sumOf(after, "choreoai_requests_total", { model: "other" }), total);
});

Deno.test("Server-Timing: gateway and upstream on answers and streams, the same numbers in log and usage", async (t) => {
  await using upstream = startFakeOpenAI({
    onChat: async (body) => {
      await delay(60);
      return body.stream === true
        ? new Response(sseBody(streamChunks(String(body.model), ["a", "b"], false)), {
          headers: SSE_RESPONSE_HEADERS,
        })
        : undefined;
    },
  });
  const records: UsageRecord[] = [];
  await using gateway = startGateway({
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: upstream.baseUrl,
      CHOREOAI_CORS_ORIGINS: "https://app.example.com",
    },
    usage: { record: (record) => records.push(record) },
  });
  const timing = (response: Response) => {
    const header = response.headers.get("server-timing") ?? "";
    const match = /^gateway;dur=([\d.]+)(?:, upstream;dur=([\d.]+))?$/.exec(header);
    assert.ok(match !== null, `Server-Timing: ${header}`);
    return {
      gateway: Number(match[1]),
      upstream: match[2] === undefined ? undefined : Number(match[2]),
    };
  };
  const lastLog = () => gateway.logs.filter((line) => line.msg === "request").at(-1) ?? {};

  await t.step("non-stream: the provider's 60 ms are upstream, the rest gateway", async () => {
    const response = await chat(gateway, "gpt-4o");
    await response.json();
    const { gateway: ms, upstream: upstreamMs } = timing(response);
    assert.ok(upstreamMs !== undefined && upstreamMs >= 55, `upstream ${upstreamMs}`);
    assert.ok(ms < 50, `gateway ${ms}`);
    await delay(10);
    assert.equal(lastLog().gateway_ms, ms);
    assert.equal(lastLog().upstream_ms, upstreamMs);
    assert.equal(records.at(-1)?.gateway_ms, ms);
    assert.equal(records.at(-1)?.upstream_ms, upstreamMs);
  });
  await t.step("stream: up to its first byte", async () => {
    const response = await chat(gateway, "gpt-4o", { stream: true });
    const { upstream: upstreamMs, gateway: ms } = timing(response);
    assert.ok(upstreamMs !== undefined && upstreamMs >= 55, `upstream ${upstreamMs}`);
    await response.text();
    await delay(10);
    assert.equal(lastLog().upstream_ms, upstreamMs);
    assert.equal(records.at(-1)?.gateway_ms, ms);
  });
  await t.step("the gateway's own answers: no upstream part", async () => {
    const echo = await chat(gateway, "choreoai/echo");
    await echo.json();
    assert.equal(timing(echo).upstream, undefined);
    const refused = await fetch(`${gateway.url}/v1/models`);
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    assert.equal(timing(refused).upstream, undefined);
  });
  await t.step("exposed to browsers through CORS", async () => {
    const response = await fetch(`${gateway.url}/v1/models`, {
      headers: { authorization: `Bearer ${CLIENT_KEY}`, origin: "https://app.example.com" },
    });
    await response.body?.cancel();
    assert.match(response.headers.get("access-control-expose-headers") ?? "", /server-timing/);
    assert.equal(response.headers.get("timing-allow-origin"), "https://app.example.com");
  });
});

Deno.test("/metrics is 404 when metrics are off", async () => {
  await using gateway = startGateway();
  const response = await fetch(`${gateway.url}/metrics`, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  });
  assert.equal(response.status, 404);
  assert.equal((await response.json()).error.code, "not_found");
});
