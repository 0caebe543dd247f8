/**
 * `createTracing()` on the real `@opentelemetry/api` without a tracer provider (this process
 * runs without `OTEL_DENO`: every span is a no-op): what it passes through and what it leaves
 * alone. The spans themselves are checked end to end in `tests/e2e/traces_test.ts`.
 */
import assert from "node:assert/strict";
import * as api from "@opentelemetry/api";
import { errors } from "../../src/errors.ts";
import { ProviderHeaders } from "../../src/http/provider_request.ts";
import { createTracing } from "../../src/observe/tracing.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseConfig } from "../../src/config.ts";
import type { Attempt } from "../../src/routing/attempts.ts";

function attempt(): Attempt {
  const routing = buildRouting(parseConfig({ OPENAI_API_KEY: "sk-test" }), undefined, {});
  const provider = routing.providers.get("openai") ?? assert.fail("no openai provider");
  const target = { provider, model: "gpt-4o", weight: 1, key: "openai/gpt-4o" };
  const model = {
    name: "gpt-4o",
    targets: [target],
    retries: 0,
    timeoutMs: 1000,
    deadlineMs: 1000,
  };
  return { target, model, timeoutMs: 1000, number: 1 };
}

Deno.test("createTracing() traces model requests only", async (t) => {
  const tracing = createTracing(api);
  const cases: [string, string, boolean][] = [
    ["POST", "/v1/chat/completions", true],
    ["POST", "/v1/messages/count_tokens", true],
    ["GET", "/v1/models", false],
    ["GET", "/health", false],
    ["GET", "/metrics", false],
  ];
  for (const [method, path, traced] of cases) {
    await t.step(`${method} ${path}`, () => {
      const trace = tracing.request(method, path);
      assert.equal(trace !== undefined, traced);
      trace?.end({ status: 200, requestId: "req_1", fields: {} });
    });
  }
});

Deno.test("createTracing() passes results and failures through unchanged", async (t) => {
  const tracing = createTracing(api);
  await t.step("within() gives the handling's answer", async () => {
    const trace = tracing.request("POST", "/v1/chat/completions");
    assert.ok(trace !== undefined);
    assert.equal(await trace.within(() => Promise.resolve("answer")), "answer");
    await assert.rejects(trace.within(() => Promise.reject(new Error("boom"))), /boom/);
    trace.end({ status: 500, requestId: "req_1", fields: { error_code: "server_error" } });
  });
  await t.step("attempt() gives the attempt's outcome, or its exception", async () => {
    const success = { ok: true, value: 42 } as const;
    assert.equal(
      await tracing.attempt({ attempt: attempt(), kind: "first" }, () => {
        return Promise.resolve(success);
      }),
      success,
    );
    const failure = { ok: false, error: errors.upstream("down"), next: "retry" } as const;
    assert.equal(
      await tracing.attempt({ attempt: attempt(), kind: "retry" }, () => {
        return Promise.resolve(failure);
      }),
      failure,
    );
    await assert.rejects(
      tracing.attempt({ attempt: attempt(), kind: "first" }, () => Promise.reject(new Error("x"))),
      /x/,
    );
  });
  await t.step("inject() writes nothing without a span to name, or when told not to", () => {
    for (const propagate of [true, false]) {
      const headers = new ProviderHeaders({ "content-type": "application/json" });
      createTracing(api, { propagate }).inject(headers);
      assert.deepEqual(headers.entries(), [["content-type", "application/json"]]);
    }
  });
});

Deno.test("the gateway's own modules load @opentelemetry/api only when tracing", async () => {
  // `deno info` lists every import of main.ts's graph: ours may name the API only as types, or
  // in a dynamic import (main.ts, when OTEL_DENO=true). (prom-client, when metrics are on,
  // requires the API for its own use: that is not checked here.)
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const { code, stdout } = await new Deno.Command("deno", {
    args: ["info", "--json", main],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(code, 0);
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { specifier: string; code?: unknown; isDynamic?: boolean }[];
    }[];
  };
  const imports = graph.modules
    .filter((module) => module.specifier.startsWith("file:"))
    .flatMap((module) =>
      (module.dependencies ?? [])
        .filter((dependency) => dependency.specifier === "@opentelemetry/api")
        .map((dependency) => ({
          from: module.specifier.slice(module.specifier.lastIndexOf("/") + 1),
          loaded: dependency.code !== undefined,
          dynamic: dependency.isDynamic === true,
        }))
    );
  assert.deepEqual(imports.filter((entry) => entry.loaded && !entry.dynamic), []);
  assert.deepEqual(imports.filter((entry) => entry.dynamic).map((entry) => entry.from), [
    "main.ts",
  ]);
});
