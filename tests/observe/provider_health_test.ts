/**
 * The provider health tracker: counts within the last 15 minutes (per minute), latencies of the
 * most recent successful attempts, the last 10 errors newest first with secrets masked, and
 * bounded memory (ring buffers, a cap on targets). The clock is injected.
 */
import assert from "node:assert/strict";
import { errors } from "../../src/errors.ts";
import {
  createProviderHealth,
  LATENCY_SAMPLES,
  MAX_TARGETS,
  RECENT_ERRORS,
  redactMessage,
} from "../../src/observe/provider_health.ts";

const MINUTE = 60_000;
const T0 = Date.parse("2026-12-01T10:00:00Z");

function target(key: string, apiKey = "sk-provider-secret-0123456789") {
  return { key, provider: { name: key.split("/")[0] ?? "", apiKey } };
}

Deno.test("ProviderHealth counts attempts and errors of the last 15 minutes", () => {
  let now = T0;
  const health = createProviderHealth(() => now);
  const a = target("openai/gpt-4o");
  health.attempted(a, 100);
  health.attempted(a, 300, errors.upstream("openai: boom"));
  now += 5 * MINUTE;
  health.attempted(a, 200);
  let [row] = health.snapshot();
  assert.deepEqual(
    [row?.target, row?.provider, row?.attempts, row?.errors],
    ["openai/gpt-4o", "openai", 3, 1],
  );
  assert.equal(row?.latency_p50_ms, 150);
  assert.equal(row?.recent_errors[0]?.code, "upstream_error");
  assert.equal(row?.recent_errors[0]?.status, 502);
  assert.equal(row?.recent_errors[0]?.time, new Date(T0).toISOString());
  // 15 minutes after the first two, only the third counts; the error is gone.
  now = T0 + 15 * MINUTE;
  [row] = health.snapshot();
  assert.deepEqual([row?.attempts, row?.errors, row?.recent_errors.length], [1, 0, 0]);
  assert.equal(row?.latency_p50_ms, 200);
  now = T0 + 21 * MINUTE;
  assert.deepEqual(health.snapshot(), []);
});

Deno.test("ProviderHealth keeps bounded rings: the latest latencies and the last 10 errors", () => {
  let now = T0;
  const health = createProviderHealth(() => now);
  const a = target("anthropic/claude");
  for (let i = 0; i < LATENCY_SAMPLES + 100; i++) {
    now += 1;
    health.attempted(a, i < 100 ? 10_000 : 5);
  }
  for (let i = 0; i < RECENT_ERRORS + 5; i++) {
    health.attempted(a, 1, errors.upstreamTimeout(`timeout ${i}`));
  }
  const [row] = health.snapshot();
  assert.equal(row?.attempts, LATENCY_SAMPLES + 100 + RECENT_ERRORS + 5);
  // The 100 slow ones were overwritten.
  assert.equal(row?.latency_p99_ms, 5);
  assert.deepEqual(
    row?.recent_errors.map((error) => error.message),
    Array.from({ length: RECENT_ERRORS }, (_, i) => `timeout ${RECENT_ERRORS + 4 - i}`),
  );
  assert.equal(row?.recent_errors[0]?.status, 504);
});

Deno.test("ProviderHealth tracks at most MAX_TARGETS targets", () => {
  const health = createProviderHealth(() => T0);
  for (let i = 0; i < MAX_TARGETS + 10; i++) health.attempted(target(`p/m${i}`), 1);
  assert.equal(health.snapshot().length, MAX_TARGETS);
});

Deno.test("ProviderHealth masks the provider's key and key-like strings in messages", async (t) => {
  const cases: [string, string, string][] = [
    ["the provider's key", "bad key sk-provider-secret-0123456789!", "bad key ***!"],
    ["a bearer token", "(Authorization: Bearer abc.def)", "(Authorization: Bearer ***)"],
    ["a key-like string", "key sk-proj-ABCDEFGHIJKLMNOPQRST", "key sk***"],
    ["a query key", "GET https://h/v1?key=AIzaXYZ&alt=sse", "GET https://h/v1?key=***&alt=sse"],
    ["plain text", "The model is overloaded", "The model is overloaded"],
  ];
  for (const [name, message, expected] of cases) {
    await t.step(name, () => {
      assert.equal(redactMessage(message, "sk-provider-secret-0123456789"), expected);
    });
  }
  await t.step("long messages are shortened", () => {
    assert.equal(redactMessage("x".repeat(1_000), "").length, 300);
  });
  await t.step("through the tracker", () => {
    const health = createProviderHealth(() => T0);
    health.attempted(target("openai/x"), 1, errors.upstream("no sk-provider-secret-0123456789"));
    assert.equal(health.snapshot()[0]?.recent_errors[0]?.message, "no ***");
  });
});
