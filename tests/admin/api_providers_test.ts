/**
 * `GET /admin/api/providers` with a failing upstream: the failing target is marked (attempts,
 * errors, error rate 1, its breaker open, its recent errors with status, code and a message
 * without secrets), a healthy one has latencies and no errors, and a configured target without
 * traffic is listed with zeros.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startAdminGateway } from "../_helpers/admin.ts";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";

const ROUTING_FILE = {
  circuit_breaker: { failures: 2, cooldown_ms: 600_000 },
  models: {
    broken: { targets: [{ provider: "openai", model: "gpt-broken" }] },
    "gpt-4o": { targets: [{ provider: "openai", model: "gpt-4o" }] },
    idle: { targets: [{ provider: "openai", model: "gpt-idle" }] },
  },
};

Deno.test("admin API: providers marks a failing target", async (t) => {
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      if (body.model !== "gpt-broken") return Response.json(completionBody(String(body.model)));
      return Response.json({
        error: {
          message: `Backend failed for ${PROVIDER_KEY} (Authorization: Bearer abc.def.ghi)`,
          type: "server_error",
        },
      }, { status: 500 });
    },
  });
  await using setup = await startAdminGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    routingFile: ROUTING_FILE,
  });
  const client = new OpenAI({
    apiKey: setup.clientToken,
    baseURL: `${setup.gateway.url}/v1`,
    maxRetries: 0,
  });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      await client.chat.completions.create({
        model: "broken",
        messages: [{ role: "user", content: "x" }],
      });
      statuses.push(200);
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError);
      statuses.push(error.status ?? 0);
    }
  }
  await client.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "x" }],
  });
  const upstreamCalls = upstream.requests.filter((r) => r.body?.model === "gpt-broken").length;

  const { status, headers, body } = await setup.api("/admin/api/providers");
  await t.step("the answer's shape", () => {
    assert.equal(status, 200);
    assert.equal(headers.get("cache-control"), "no-store");
    assert.equal(body.window_seconds, 900);
    assert.deepEqual(body.data.map((row: { target: string }) => row.target), [
      "openai/gpt-broken",
      "openai/gpt-4o",
      "openai/gpt-idle",
    ]);
  });
  await t.step("the failing target: every attempt an error, breaker open", () => {
    assert.deepEqual(statuses.slice(0, 2), [502, 502]);
    const broken = body.data[0];
    assert.equal(broken.provider, "openai");
    assert.equal(broken.breaker, "open");
    assert.equal(broken.attempts, upstreamCalls);
    assert.ok(broken.attempts >= 2);
    assert.equal(broken.errors, broken.attempts);
    assert.equal(broken.error_rate, 1);
    assert.equal(broken.latency_p50_ms, null);
    assert.equal(broken.recent_errors.length, broken.attempts);
    const [latest] = broken.recent_errors;
    assert.equal(latest.status, 502);
    assert.equal(latest.code, "upstream_error");
    assert.ok(Date.now() - Date.parse(latest.time) < 60_000);
    assert.match(latest.message, /Backend failed/);
    assert.equal(latest.message.includes(PROVIDER_KEY), false, latest.message);
    assert.equal(latest.message.includes("abc.def.ghi"), false, latest.message);
  });
  await t.step("the healthy target: one attempt, latencies, no errors", () => {
    const healthy = body.data[1];
    assert.equal(healthy.breaker, "closed");
    assert.equal(healthy.attempts, 1);
    assert.equal(healthy.errors, 0);
    assert.equal(healthy.error_rate, 0);
    assert.equal(typeof healthy.latency_p50_ms, "number");
    assert.equal(healthy.latency_p50_ms, healthy.latency_p99_ms);
    assert.deepEqual(healthy.recent_errors, []);
  });
  await t.step("a configured target without traffic: zeros", () => {
    assert.deepEqual(body.data[2], {
      target: "openai/gpt-idle",
      provider: "openai",
      breaker: "closed",
      attempts: 0,
      errors: 0,
      error_rate: 0,
      latency_p50_ms: null,
      latency_p99_ms: null,
      recent_errors: [],
    });
  });
});
