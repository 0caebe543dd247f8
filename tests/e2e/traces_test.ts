/**
 * OpenTelemetry traces end to end: the real gateway process with Deno's exporter on
 * (`OTEL_DENO=true`, OTLP/HTTP JSON) sends its spans to a fake collector, for requests that carry
 * a client's `traceparent`, against a fake OpenAI upstream that records the `traceparent` it got.
 *
 * Spans leave in batches: `OTEL_BSP_SCHEDULE_DELAY=100` makes Deno export every 100 ms, and the
 * test polls the collector (10 s at most) until a trace has all the spans it expects.
 */
import assert from "node:assert/strict";
import {
  type ExportedSpan,
  type FakeCollector,
  startFakeCollector,
} from "../_helpers/fake_otlp.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { waitFor } from "../_helpers/gateway.ts";
import { launcherCommand, spawnGateway, watchGateway } from "../_helpers/process.ts";

const INTERNAL = 1;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/** The exporter settings of a gateway that sends its spans to `collector`. */
function otelEnv(collector: FakeCollector): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: "choreoai-test",
    OTEL_BSP_SCHEDULE_DELAY: "100",
  };
}

function hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)))
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
}

/** A client's trace context: a new trace id and the id of the client's own span. */
function clientContext(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** POSTs `body` to the gateway with a `traceparent`; the answer's text and request id. */
async function post(
  url: string,
  traceparent: string,
  body: Record<string, unknown>,
): Promise<{ status: number; text: string; requestId: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      authorization: "Bearer sk-client-key-abcdef0123456789",
      "content-type": "application/json",
      traceparent,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, requestId: response.headers.get("x-request-id") ?? "" };
}

/** Waits until the collector has the gateway's request span of `requestId`, then its trace. */
async function traceOf(collector: FakeCollector, requestId: string): Promise<Trace> {
  const find = () =>
    collector.spans.find((span) =>
      span.scope === "choreoai" && span.attributes["choreoai.request.id"] === requestId
    );
  await waitFor(() => find() !== undefined, 10_000);
  const request = find() as ExportedSpan;
  const attempts = () => collector.spans.filter((span) => span.parentSpanId === request.spanId);
  const server = () => collector.spans.find((span) => span.spanId === request.parentSpanId);
  // The other spans of the trace may come in a later batch.
  const expected = Number(request.attributes["choreoai.attempts"] ?? 1);
  const provider = request.attributes["choreoai.provider"] !== undefined;
  await waitFor(
    () => server() !== undefined && attempts().length >= (provider ? expected : 0),
    10_000,
  );
  return {
    request,
    server: server() as ExportedSpan,
    attempts: attempts().sort((a, b) =>
      Number(a.attributes["choreoai.attempt.number"]) -
      Number(b.attributes["choreoai.attempt.number"])
    ),
  };
}

interface Trace {
  /** The gateway's span of the request. */
  readonly request: ExportedSpan;
  /** Deno's HTTP server span, the request span's parent. */
  readonly server: ExportedSpan;
  /** The request span's children, by attempt number. */
  readonly attempts: ExportedSpan[];
}

/** The trace continues the client's: same trace id, server span under the client's span. */
function assertContinues(trace: Trace, client: { traceId: string; spanId: string }): void {
  for (const span of [trace.server, trace.request, ...trace.attempts]) {
    assert.equal(span.traceId, client.traceId);
    assert.equal(span.service, "choreoai-test");
  }
  assert.equal(trace.server.scope, "deno");
  assert.equal(trace.server.kind, SERVER);
  assert.equal(trace.server.parentSpanId, client.spanId);
  assert.equal(trace.request.kind, INTERNAL);
  assert.ok(trace.request.endTimeUnixNano >= trace.request.startTimeUnixNano);
}

Deno.test({
  name: "traces: request spans with GenAI attributes, attempt spans, traceparent passed on",
  async fn(t) {
    await using collector = startFakeCollector();
    await using upstream = startFakeOpenAI({
      onChat: (body) =>
        body.model === "broken-model"
          ? Response.json({ error: { message: "overloaded", type: "server_error" } }, {
            status: 503,
          })
          : undefined,
    });
    const dir = await Deno.makeTempDir({ prefix: "choreoai-traces-" });
    const routingFile = `${dir}/routing.json`;
    await Deno.writeTextFile(
      routingFile,
      JSON.stringify({
        providers: {
          "local-llm": {
            kind: "openai-compatible",
            base_url: upstream.baseUrl,
            api_key_env: "LOCAL_KEY",
          },
        },
        models: {
          resilient: {
            targets: [{ provider: "local-llm", model: "broken-model" }],
            fallbacks: ["openai/gpt-4o-mini"],
          },
        },
      }),
    );
    await using gateway = await spawnGateway({
      ...otelEnv(collector),
      OTEL_DENO: "true",
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: upstream.baseUrl,
      LOCAL_KEY: PROVIDER_KEY,
      CHOREOAI_CONFIG: routingFile,
    });
    const chat = `${gateway.url}/v1/chat/completions`;
    const messages = [{ role: "user", content: "Hi" }];

    /** The `traceparent` the upstream received with request number `index`. */
    const sentTraceparent = (index: number) => upstream.requests[index]?.headers.get("traceparent");

    await t.step("a non-stream chat request", async () => {
      const client = clientContext();
      const before = upstream.requests.length;
      const answer = await post(chat, client.traceparent, { model: "gpt-4o-mini", messages });
      assert.equal(answer.status, 200, answer.text);
      const trace = await traceOf(collector, answer.requestId);
      assertContinues(trace, client);
      assert.equal(trace.request.name, "chat gpt-4o-mini");
      assert.deepEqual(trace.request.attributes, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 6,
        "gen_ai.response.finish_reasons": ["stop"],
        "http.response.status_code": 200,
        "choreoai.request.id": answer.requestId,
        "choreoai.provider": "openai",
        "choreoai.stream": false,
      });
      assert.equal(trace.request.status.code, 0);
      assert.equal(trace.attempts.length, 1);
      const [attempt] = trace.attempts as [ExportedSpan];
      assert.equal(attempt.name, "chat gpt-4o-mini");
      assert.equal(attempt.kind, CLIENT);
      assert.deepEqual(attempt.attributes, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "choreoai.provider": "openai",
        "choreoai.target": "openai/gpt-4o-mini",
        "choreoai.attempt.number": 1,
        "choreoai.attempt.kind": "first",
        "choreoai.attempt.outcome": "success",
      });
      assert.equal(upstream.requests.length, before + 1);
      assert.equal(sentTraceparent(before), `00-${client.traceId}-${attempt.spanId}-01`);
    });

    await t.step("a stream chat request: its span ends with the stream", async () => {
      const client = clientContext();
      const before = upstream.requests.length;
      const answer = await post(chat, client.traceparent, {
        model: "gpt-4o-mini",
        messages,
        stream: true,
      });
      assert.equal(answer.status, 200);
      assert.match(answer.text, /data: \[DONE\]/);
      const trace = await traceOf(collector, answer.requestId);
      assertContinues(trace, client);
      assert.equal(trace.request.name, "chat gpt-4o-mini");
      const { attributes } = trace.request;
      assert.equal(attributes["choreoai.stream"], true);
      // The gateway asks for usage even when the client does not: the fake counts four words.
      assert.equal(attributes["gen_ai.usage.input_tokens"], 9);
      assert.equal(attributes["gen_ai.usage.output_tokens"], 4);
      assert.deepEqual(attributes["gen_ai.response.finish_reasons"], ["stop"]);
      assert.equal(attributes["gen_ai.response.model"], "gpt-4o-mini");
      const [attempt] = trace.attempts as [ExportedSpan];
      assert.equal(trace.attempts.length, 1);
      assert.equal(attempt.kind, CLIENT);
      // The attempt ends at the stream's first event, the request at its end.
      assert.ok(trace.request.endTimeUnixNano >= attempt.endTimeUnixNano);
      assert.equal(sentTraceparent(before), `00-${client.traceId}-${attempt.spanId}-01`);
    });

    await t.step("a failed target, then a fallback: one span per attempt", async () => {
      const client = clientContext();
      const before = upstream.requests.length;
      const answer = await post(chat, client.traceparent, { model: "resilient", messages });
      assert.equal(answer.status, 200, answer.text);
      const trace = await traceOf(collector, answer.requestId);
      assertContinues(trace, client);
      assert.equal(trace.request.name, "chat resilient");
      const { attributes } = trace.request;
      assert.equal(attributes["gen_ai.request.model"], "resilient");
      assert.equal(attributes["gen_ai.response.model"], "gpt-4o-mini");
      assert.equal(attributes["gen_ai.provider.name"], "openai");
      assert.equal(attributes["choreoai.attempts"], 2);
      assert.equal(trace.request.status.code, 0);
      const [failed, fallback] = trace.attempts as [ExportedSpan, ExportedSpan];
      assert.equal(trace.attempts.length, 2);
      assert.equal(failed.name, "chat broken-model");
      assert.equal(failed.kind, CLIENT);
      assert.equal(failed.status.code, ERROR);
      assert.equal(failed.attributes["gen_ai.provider.name"], "openai");
      assert.equal(failed.attributes["choreoai.provider"], "local-llm");
      assert.equal(failed.attributes["choreoai.target"], "local-llm/broken-model");
      assert.equal(failed.attributes["choreoai.attempt.kind"], "first");
      assert.equal(failed.attributes["choreoai.attempt.outcome"], "error");
      assert.equal(failed.attributes["error.type"], "upstream_overloaded");
      assert.equal(failed.status.message, "upstream_overloaded");
      assert.equal(fallback.name, "chat gpt-4o-mini");
      assert.equal(fallback.attributes["choreoai.attempt.number"], 2);
      assert.equal(fallback.attributes["choreoai.attempt.kind"], "fallback");
      assert.equal(fallback.attributes["choreoai.attempt.outcome"], "success");
      assert.equal(upstream.requests.length, before + 2);
      assert.equal(sentTraceparent(before), `00-${client.traceId}-${failed.spanId}-01`);
      assert.equal(sentTraceparent(before + 1), `00-${client.traceId}-${fallback.spanId}-01`);
    });

    await t.step("embeddings: input tokens, no finish reasons", async () => {
      const client = clientContext();
      const answer = await post(`${gateway.url}/v1/embeddings`, client.traceparent, {
        model: "text-embedding-3-small",
        input: ["hello world", "again"],
      });
      assert.equal(answer.status, 200, answer.text);
      const trace = await traceOf(collector, answer.requestId);
      assertContinues(trace, client);
      assert.equal(trace.request.name, "embeddings text-embedding-3-small");
      const { attributes } = trace.request;
      assert.equal(attributes["gen_ai.operation.name"], "embeddings");
      assert.equal(attributes["gen_ai.usage.input_tokens"], 3);
      assert.equal(attributes["gen_ai.usage.output_tokens"], undefined);
      assert.equal(attributes["gen_ai.response.finish_reasons"], undefined);
      assert.equal(trace.attempts.length, 1);
    });

    await t.step("a refused request: status ERROR with its error code, no attempt", async () => {
      const client = clientContext();
      const before = upstream.requests.length;
      const answer = await post(chat, client.traceparent, { model: "no-such/model", messages });
      assert.equal(answer.status, 404, answer.text);
      const trace = await traceOf(collector, answer.requestId);
      assertContinues(trace, client);
      assert.equal(trace.request.name, "chat no-such/model");
      assert.equal(trace.request.status.code, ERROR);
      assert.equal(trace.request.attributes["http.response.status_code"], 404);
      assert.equal(trace.request.attributes["error.type"], JSON.parse(answer.text).error.code);
      assert.equal(trace.attempts.length, 0);
      assert.equal(upstream.requests.length, before);
    });

    await t.step("GET /v1/models and /health get no span of the gateway's own", async () => {
      const models = await fetch(`${gateway.url}/v1/models`, {
        headers: { authorization: "Bearer sk-client-key-abcdef0123456789" },
      });
      await models.body?.cancel();
      await (await fetch(`${gateway.url}/health`)).body?.cancel();
      // Deno's server spans of both arrive, with no span of the gateway's under them.
      const servers = () =>
        collector.spans.filter((span) =>
          span.kind === SERVER &&
          ["/health", "/v1/models"].includes(String(span.attributes["url.path"]))
        );
      await waitFor(() => servers().length === 2, 10_000);
      const ids = new Set(servers().map((span) => span.spanId));
      assert.deepEqual(collector.spans.filter((span) => ids.has(span.parentSpanId)), []);
    });

    gateway.process.kill("SIGTERM");
    assert.equal((await gateway.exited).code, 0);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "bin/choreoai turns traces on for an OTLP endpoint; with Deno's fetch, one traceparent",
  ignore: Deno.build.os === "windows",
  async fn() {
    await using collector = startFakeCollector();
    await using upstream = startFakeOpenAI();
    const dir = await Deno.makeTempDir({ prefix: "choreoai-traces-" });
    // No OTEL_DENO: the launcher sets it because an endpoint is set.
    const process = launcherCommand({
      ...otelEnv(collector),
      CHOREOAI_PORT: "0",
      CHOREOAI_DB: `${dir}/usage.db`,
      CHOREOAI_UPSTREAM_CLIENT: "fetch",
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: upstream.baseUrl,
    }).spawn();
    await using gateway = await watchGateway(process, dir);
    const client = clientContext();
    const answer = await post(`${gateway.url}/v1/chat/completions`, client.traceparent, {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(answer.status, 200, answer.text);
    const trace = await traceOf(collector, answer.requestId);
    assertContinues(trace, client);
    const [attempt] = trace.attempts as [ExportedSpan];
    assert.equal(trace.attempts.length, 1);
    // Deno's fetch makes a span of its own under the attempt's and sends its traceparent alone.
    const sent = upstream.requests[0]?.headers.get("traceparent") ?? "";
    assert.match(sent, new RegExp(`^00-${client.traceId}-[0-9a-f]{16}-01$`));
    const parentId = sent.split("-")[2];
    await waitFor(() => collector.spans.some((span) => span.spanId === parentId), 10_000);
    const fetchSpan = collector.spans.find((span) => span.spanId === parentId) as ExportedSpan;
    assert.equal(fetchSpan.scope, "deno");
    assert.equal(fetchSpan.parentSpanId, attempt.spanId);
    process.kill("SIGTERM");
    assert.equal((await gateway.exited).code, 0);
  },
});
