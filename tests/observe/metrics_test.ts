import assert from "node:assert/strict";
import { createMetrics, type RequestSummary } from "../../src/observe/metrics.ts";
import { hasSample, parseExposition, sumOf } from "../_helpers/prometheus.ts";

const SUMMARY: RequestSummary = {
  endpoint: "/v1/chat/completions",
  provider: "openai",
  model: "gpt-4o",
  modelKnown: true,
  status: 200,
  code: undefined,
  durationMs: 120,
  gatewayMs: 0.3,
  promptTokens: 9,
  completionTokens: 6,
  stream: false,
};

async function samples(metrics: ReturnType<typeof createMetrics>) {
  return parseExposition(await metrics.render());
}

Deno.test("createMetrics(): gauges read at scrape time, reloads and build info", async (t) => {
  const metrics = createMetrics({ version: "9.9.9" });
  await t.step("no Redis: no fallback gauge; build info carries the version", async () => {
    const s = await samples(metrics);
    assert.equal(hasSample(s, "choreoai_redis_fallback"), false);
    assert.equal(sumOf(s, "choreoai_build_info", { version: "9.9.9" }), 1);
  });
  await t.step("Redis unreachable, then back", async () => {
    let fallback = true;
    metrics.watchRedis(() => fallback);
    assert.equal(sumOf(await samples(metrics), "choreoai_redis_fallback"), 1);
    fallback = false;
    const s = await samples(metrics);
    assert.equal(hasSample(s, "choreoai_redis_fallback"), true);
    assert.equal(sumOf(s, "choreoai_redis_fallback"), 0);
  });
  await t.step("database: degraded gauge, queued records, dropped records", async () => {
    assert.equal(hasSample(await samples(metrics), "choreoai_database_degraded"), false);
    let degraded = true;
    let queued = 6_000;
    metrics.watchDatabase({ degraded: () => degraded, queued: () => queued });
    metrics.usageDropped(3);
    metrics.usageDropped(0);
    let s = await samples(metrics);
    assert.equal(sumOf(s, "choreoai_database_degraded"), 1);
    assert.equal(sumOf(s, "choreoai_usage_records_queued"), 6_000);
    assert.equal(sumOf(s, "choreoai_usage_records_dropped_total"), 3);
    degraded = false;
    queued = 0;
    s = await samples(metrics);
    assert.equal(sumOf(s, "choreoai_database_degraded"), 0);
    assert.equal(sumOf(s, "choreoai_usage_records_queued"), 0);
  });
  await t.step("breaker states: 0 closed, 1 open, 2 half-open", async () => {
    metrics.watchBreakers(() => [["openai/gpt-4o", "closed"], ["anthropic/claude", "open"], [
      "local/llama",
      "half_open",
    ]]);
    const s = await samples(metrics);
    assert.equal(sumOf(s, "choreoai_breaker_state", { target: "openai/gpt-4o" }), 0);
    assert.equal(
      sumOf(s, "choreoai_breaker_state", { provider: "anthropic", target: "anthropic/claude" }),
      1,
    );
    assert.equal(sumOf(s, "choreoai_breaker_state", { target: "local/llama" }), 2);
  });
  await t.step("reloads by file and result", async () => {
    metrics.reloaded("keys", true);
    metrics.reloaded("keys", true);
    metrics.reloaded("routing", false);
    const s = await samples(metrics);
    assert.equal(sumOf(s, "choreoai_reloads_total", { file: "keys", result: "success" }), 2);
    assert.equal(sumOf(s, "choreoai_reloads_total", { file: "routing", result: "failure" }), 1);
  });
});

Deno.test("createMetrics(): a finished request's counters and histograms", async (t) => {
  const metrics = createMetrics({ version: "1" });
  metrics.requestStarted();
  metrics.requestStarted();
  metrics.streamStarted();
  metrics.requestFinished(SUMMARY);
  metrics.requestFinished({ ...SUMMARY, stream: true, durationMs: 2_000, gatewayMs: 4 });
  metrics.requestStarted();
  metrics.requestFinished({
    ...SUMMARY,
    provider: undefined,
    model: "made-up-name",
    modelKnown: false,
    status: 429,
    code: "rate_limit_exceeded",
    promptTokens: 0,
    completionTokens: 0,
  });
  const s = await samples(metrics);
  await t.step("requests by status class and code; made-up models are other", () => {
    assert.equal(sumOf(s, "choreoai_requests_total", { model: "gpt-4o", status: "2xx" }), 2);
    assert.equal(
      sumOf(s, "choreoai_requests_total", {
        model: "other",
        status: "4xx",
        code: "rate_limit_exceeded",
        dialect: "openai",
      }),
      1,
    );
  });
  await t.step("durations in seconds, overhead in its sub-millisecond buckets", () => {
    assert.equal(sumOf(s, "choreoai_request_duration_seconds_count"), 3);
    assert.equal(
      sumOf(s, "choreoai_request_duration_seconds_bucket", { model: "gpt-4o", le: "0.25" }),
      1,
    );
    assert.equal(sumOf(s, "choreoai_gateway_overhead_seconds_bucket", { le: "0.0005" }), 2);
    assert.equal(sumOf(s, "choreoai_gateway_overhead_seconds_bucket", { le: "0.005" }), 3);
  });
  await t.step("tokens by type", () => {
    assert.equal(sumOf(s, "choreoai_tokens_total", { type: "prompt", model: "gpt-4o" }), 18);
    assert.equal(sumOf(s, "choreoai_tokens_total", { type: "completion" }), 12);
  });
  await t.step("refusals by limit", () => {
    assert.equal(sumOf(s, "choreoai_limit_refusals_total", { limit: "rate_limit" }), 1);
  });
  await t.step("nothing in flight once all finished", () => {
    assert.equal(sumOf(s, "choreoai_in_flight_requests"), 0);
    assert.equal(sumOf(s, "choreoai_in_flight_streams"), 0);
  });
});

Deno.test("createMetrics(): attempts, upstream errors and time to first byte by target", async () => {
  const metrics = createMetrics({ version: "1" });
  const base = {
    provider: "azure",
    target: "azure/gpt-4o",
    targetKnown: true,
    code: undefined,
    ms: 40,
  };
  metrics.attemptFinished({
    ...base,
    kind: "first",
    outcome: "error",
    code: "upstream_overloaded",
  });
  metrics.attemptFinished({ ...base, kind: "retry", outcome: "error", code: "Weird Code" });
  metrics.attemptFinished({
    ...base,
    provider: "openai",
    target: "openai/gpt-4o",
    kind: "fallback",
    outcome: "success",
  });
  metrics.attemptFinished({ ...base, kind: "first", outcome: "skipped", code: "invalid_request" });
  const s = parseExposition(await metrics.render());
  assert.equal(sumOf(s, "choreoai_upstream_attempts_total", { target: "azure/gpt-4o" }), 3);
  assert.equal(sumOf(s, "choreoai_upstream_attempts_total", { kind: "retry" }), 1);
  assert.equal(sumOf(s, "choreoai_upstream_attempts_total", { kind: "fallback" }), 1);
  assert.equal(
    sumOf(s, "choreoai_upstream_errors_total", { code: "upstream_overloaded" }),
    1,
  );
  assert.equal(sumOf(s, "choreoai_upstream_errors_total", { code: "other" }), 1);
  assert.equal(sumOf(s, "choreoai_upstream_errors_total"), 2, "a skipped target is no error");
  assert.equal(
    sumOf(s, "choreoai_upstream_ttfb_seconds_bucket", { target: "openai/gpt-4o", le: "0.05" }),
    1,
  );
});

Deno.test("createMetrics(): model, target and provider labels stop growing at the limit", async () => {
  const metrics = createMetrics({ version: "1", labelLimit: 3 });
  for (let i = 0; i < 50; i++) {
    metrics.requestStarted();
    metrics.requestFinished({ ...SUMMARY, model: `model-${i}`, provider: `provider-${i}` });
    metrics.attemptFinished({
      provider: `provider-${i}`,
      target: `provider-${i}/model-${i}`,
      targetKnown: true,
      kind: "first",
      outcome: "success",
      code: undefined,
      ms: 1,
    });
  }
  const s = parseExposition(await metrics.render());
  const values = (name: string, label: string) =>
    new Set(s.filter((x) => x.name === name).map((x) => x.labels[label]));
  assert.deepEqual(
    values("choreoai_requests_total", "model"),
    new Set(["model-0", "model-1", "model-2", "other"]),
  );
  assert.equal(values("choreoai_requests_total", "provider").size, 4);
  assert.equal(values("choreoai_upstream_attempts_total", "target").size, 4);
});

Deno.test("createMetrics({ processMetrics: true }) adds the process's own metrics", async () => {
  const metrics = createMetrics({ version: "1", processMetrics: true });
  const s = parseExposition(await metrics.render());
  for (
    const name of [
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_seconds",
    ]
  ) {
    assert.equal(hasSample(s, name), true, name);
  }
});

Deno.test("createMetrics(): a made-up target gets a series only once it answered", async () => {
  const metrics = createMetrics({ version: "1" });
  const attempt = {
    provider: "openai",
    target: "openai/gpt-new",
    targetKnown: false,
    kind: "first",
    code: "model_not_found",
    ms: 5,
  } as const;
  metrics.attemptFinished({ ...attempt, outcome: "refused" });
  let s = parseExposition(await metrics.render());
  assert.equal(sumOf(s, "choreoai_upstream_errors_total", { target: "other" }), 1);
  metrics.attemptFinished({ ...attempt, outcome: "success", code: undefined });
  metrics.attemptFinished({ ...attempt, outcome: "refused" });
  s = parseExposition(await metrics.render());
  assert.equal(sumOf(s, "choreoai_upstream_errors_total", { target: "openai/gpt-new" }), 1);
  assert.equal(sumOf(s, "choreoai_upstream_attempts_total", { target: "openai/gpt-new" }), 2);
});
