/**
 * The gateway's per-request steps one at a time, through their modules' public functions, so a
 * regression in one shows on its own: key verification, body parsing, the token estimate, the
 * access log line, the usage record and the metrics a request records.
 *
 *     deno task bench:steps
 */
import { encode } from "gpt-tokenizer";
import { parseAuthorization } from "../src/auth/authorization.ts";
import { GatewayError } from "../src/errors.ts";
import { digestKey, generateKey, keyHint } from "../src/keys/generate.ts";
import { parseKeyFile } from "../src/keys/key_file.ts";
import { compileKeyIndex, createKeyListVerifier } from "../src/keys/verify.ts";
import { createLogger, type LogSink } from "../src/log.ts";
import { type AttemptSummary, createMetrics, type RequestSummary } from "../src/observe/metrics.ts";
import { createProviderHealth } from "../src/observe/provider_health.ts";
import { parseChatCompletionRequest } from "../src/openai/schema.ts";
import { contentText, estimatePromptTokens, estimateTokens } from "../src/tokens/mod.ts";
import { openUsageRecorder, type UsageRecord } from "../src/usage/recorder.ts";
import { corpus } from "../tests/tokens/corpus.ts";
import { requestBody, UPSTREAM_MODEL } from "./fixtures.ts";

// Key verification against a 10,000-key list, as bench/targets.ts writes it.
const KEYS = 10_000;
const tokens: string[] = [];
const keys = [];
for (let i = 0; i < KEYS; i++) {
  const token = generateKey(crypto.getRandomValues(new Uint8Array(24)));
  tokens.push(token);
  keys.push({
    id: `key_bench${String(i).padStart(6, "0")}`,
    name: `bench ${i}`,
    digest: digestKey(token),
    hint: keyHint(token),
    created_at: "2026-01-01T00:00:00Z",
  });
}
const index = compileKeyIndex(parseKeyFile(JSON.stringify({ version: 1, keys })));
const verifier = createKeyListVerifier(() => index);
const header = `Bearer ${tokens[KEYS / 2]}`;
const verifyContext = { now: Date.parse("2026-11-25T00:00:00Z"), ip: "127.0.0.1" };

Deno.bench("key: parse the header, verify against 10,000 keys", { group: "key" }, () => {
  const parsed = parseAuthorization(header);
  if (!parsed.ok) throw new Error("bench key refused");
  if (verifier.verify(parsed.token, verifyContext) instanceof GatewayError) {
    throw new Error("bench key refused");
  }
});

// The request body (bench/fixtures.ts), as the gateway reads it.
const body = requestBody(UPSTREAM_MODEL, false);
const streamBody = requestBody(UPSTREAM_MODEL, true);

Deno.bench("body: JSON.parse + parseChatCompletionRequest", { group: "body" }, () => {
  if (!parseChatCompletionRequest(JSON.parse(body)).ok) throw new Error("bench body refused");
});

Deno.bench("body: the same, stream with include_usage", { group: "body" }, () => {
  if (!parseChatCompletionRequest(JSON.parse(streamBody)).ok) throw new Error("refused");
});

// The token estimate of the same prompt, and of a 10 KB one, against the exact count.
const parsed = parseChatCompletionRequest(JSON.parse(body));
if (!parsed.ok) throw new Error("bench body refused");
const messages = parsed.request.messages;
const prompt = messages.map((message) => contentText(message.content)).join("\n");
let longPrompt = "";
for (const { text } of corpus()) {
  if (longPrompt.length >= 10_000) break;
  longPrompt += `${text}\n`;
}
const plain = { disallowedSpecial: new Set<string>() };

Deno.bench("tokens: estimatePromptTokens (the reservation's)", { group: "tokens" }, () => {
  estimatePromptTokens(messages);
});

Deno.bench("tokens: estimateTokens of the prompt", { group: "tokens", baseline: true }, () => {
  estimateTokens(prompt);
});

Deno.bench("tokens: gpt-tokenizer encode of the prompt", { group: "tokens" }, () => {
  encode(prompt, plain);
});

Deno.bench("tokens: estimateTokens, 10 KB mixed text", { group: "tokens 10 KB" }, () => {
  estimateTokens(longPrompt);
});

Deno.bench("tokens: gpt-tokenizer encode, 10 KB mixed text", { group: "tokens 10 KB" }, () => {
  encode(longPrompt, plain);
});

// The access log line, with the fields a served chat request has.
const now = () => 1_795_000_000_000;
let written = 0;
const noop: LogSink = (line) => {
  written += line.length;
};
let buffer = "";
const buffered: LogSink = (line) => {
  buffer += `${line}\n`;
  if (buffer.length >= 65_536) buffer = "";
};
const fields = {
  request_id: "req_0123456789abcdef",
  method: "POST",
  path: "/v1/chat/completions",
  status: 200,
  duration_ms: 812.37,
  client_ip: "127.0.0.1",
  key: "key_bench005000",
  model: UPSTREAM_MODEL,
  stream: false,
  provider: "openai",
  upstream_model: UPSTREAM_MODEL,
  attempts: 1,
  usage: { prompt_tokens: 41, completion_tokens: 27, total_tokens: 68 },
  ttfb_ms: 811.5,
};
const toNothing = createLogger(noop, now);
const toBuffer = createLogger(buffered, now);

Deno.bench("log: access line to a no-op sink", { group: "log" }, () => {
  toNothing.info("request", fields);
});

Deno.bench("log: access line to a 64 KiB buffer", { group: "log" }, () => {
  toBuffer.info("request", fields);
});

// The usage record: queued, then written to a temporary SQLite file.
const dir = Deno.makeTempDirSync({ prefix: "choreoai-steps-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const recorder = openUsageRecorder(`${dir}/usage.db`, {
  log: createLogger(noop, now),
  flushIntervalMs: 3_600_000,
  maxBatch: 1_000_000,
  maxQueued: 1_000_000,
});
const usageRecord = (): UsageRecord => ({
  time: now(),
  key_id: "key_bench005000",
  endpoint: "/v1/chat/completions",
  model: UPSTREAM_MODEL,
  provider: "openai",
  status: 200,
  prompt_tokens: 41,
  completion_tokens: 27,
  total_tokens: 68,
  latency_ms: 812.37,
  ttfb_ms: 811.5,
});

Deno.bench("usage: record + flush, one record per transaction", { group: "usage" }, async () => {
  recorder.record(usageRecord());
  await recorder.flush();
});

Deno.bench("usage: 100 records + one flush (per 100)", { group: "usage" }, async () => {
  for (let i = 0; i < 100; i++) recorder.record(usageRecord());
  await recorder.flush();
});

Deno.bench("usage: record only (the request path's part)", { group: "usage" }, () => {
  recorder.record(usageRecord());
});

// The metrics one served chat request records (CHOREOAI_METRICS on): the in-flight gauge, its
// upstream attempt, then its end (counters and histograms), with the labels of bench/targets.ts's
// gateways; the process metrics on, as main.ts creates them.
const metrics = createMetrics({ version: "bench", processMetrics: true });
const requestSummary: RequestSummary = {
  endpoint: "/v1/chat/completions",
  provider: "openai",
  model: UPSTREAM_MODEL,
  modelKnown: true,
  status: 200,
  code: undefined,
  durationMs: 1.37,
  gatewayMs: 0.42,
  promptTokens: 41,
  completionTokens: 27,
  stream: false,
};
const attemptSummary: AttemptSummary = {
  provider: "openai",
  target: `openai/${UPSTREAM_MODEL}`,
  targetKnown: true,
  kind: "first",
  outcome: "success",
  code: undefined,
  ms: 0.95,
};

Deno.bench("metrics record: one request (started, attempt, finished)", {
  group: "metrics",
  baseline: true,
}, () => {
  metrics.requestStarted();
  metrics.attemptFinished(attemptSummary);
  metrics.requestFinished(requestSummary);
});

Deno.bench("metrics record: requestFinished alone", { group: "metrics" }, () => {
  metrics.requestStarted();
  metrics.requestFinished(requestSummary);
});

Deno.bench("metrics record: attemptFinished alone", { group: "metrics" }, () => {
  metrics.attemptFinished(attemptSummary);
});

Deno.bench(
  "metrics record: render the exposition (a scrape)",
  { group: "metrics scrape" },
  async () => {
    await metrics.render();
  },
);

// The provider health tracker (always on): one attempt recorded, as every upstream attempt
// does, next to the metrics' attemptFinished; and the admin API's read of it.
const health = createProviderHealth(() => performance.timeOrigin + performance.now());
const healthTarget = {
  key: `openai/${UPSTREAM_MODEL}`,
  provider: { name: "openai", apiKey: "sk-bench-provider-key-0123456789" },
};
const healthFailure = new GatewayError("openai: upstream failed", {
  status: 502,
  type: "api_error",
  code: "upstream_error",
});
for (let i = 0; i < 50; i++) {
  health.attempted({ ...healthTarget, key: `openai/model-${i}` }, 1, healthFailure);
}

Deno.bench("provider health: a successful attempt", { group: "attempt", baseline: true }, () => {
  health.attempted(healthTarget, 0.95);
});

Deno.bench("provider health: a failed attempt", { group: "attempt" }, () => {
  health.attempted(healthTarget, 0.95, healthFailure);
});

Deno.bench("metrics record: attemptFinished (for comparison)", { group: "attempt" }, () => {
  metrics.attemptFinished(attemptSummary);
});

Deno.bench("provider health: snapshot of 51 targets (the API's read)", {
  group: "attempt read",
}, () => {
  health.snapshot();
});
