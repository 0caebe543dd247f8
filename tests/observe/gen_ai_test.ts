import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { errors, GatewayError } from "../../src/errors.ts";
import {
  attemptAttributes,
  attemptEndAttributes,
  genAiProviderName,
  operationOf,
  requestAttributes,
  type RequestEnd,
  requestFailed,
  spanName,
} from "../../src/observe/gen_ai.ts";
import type { ProviderKind } from "../../src/providers/registry.ts";
import type { AttemptOutcome } from "../../src/routing/attempts.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import type { RouteTarget } from "../../src/routing/table.ts";

Deno.test("operationOf() names the GenAI operation of model requests only", async (t) => {
  const cases: [string, string, string | undefined][] = [
    ["POST", "/v1/chat/completions", "chat"],
    ["POST", "/v1/messages", "chat"],
    ["POST", "/v1/responses", "chat"],
    ["POST", "/v1/embeddings", "embeddings"],
    ["POST", "/v1/messages/count_tokens", "count_tokens"],
    ["GET", "/v1/chat/completions", undefined],
    ["GET", "/v1/models", undefined],
    ["GET", "/v1/models/gpt-4o", undefined],
    ["GET", "/health", undefined],
    ["GET", "/metrics", undefined],
    ["GET", "/v1/responses/resp_1", undefined],
    ["DELETE", "/v1/responses/resp_1", undefined],
    ["POST", "/v1/unknown", undefined],
    ["POST", "/v1/chat/completions/", undefined],
  ];
  for (const [method, path, expected] of cases) {
    await t.step(`${method} ${path}`, () => assert.equal(operationOf(method, path), expected));
  }
});

Deno.test("genAiProviderName() spells each provider kind as the conventions do", async (t) => {
  const cases: [ProviderKind, string][] = [
    ["openai-compatible", "openai"],
    ["azure", "azure.ai.openai"],
    ["anthropic", "anthropic"],
    ["gemini", "gcp.gemini"],
  ];
  for (const [kind, expected] of cases) {
    await t.step(kind, () => assert.equal(genAiProviderName(kind), expected));
  }
});

Deno.test("spanName() is the operation and the model, or the operation alone", () => {
  assert.equal(spanName("chat", "gpt-4o"), "chat gpt-4o");
  assert.equal(
    spanName("embeddings", "openai/text-embedding-3-small"),
    "embeddings openai/text-embedding-3-small",
  );
  assert.equal(spanName("chat", undefined), "chat");
});

Deno.test("requestAttributes() describes how a request ended", async (t) => {
  const served: RequestEnd = {
    status: 200,
    requestId: "req_1",
    providerKind: "azure",
    fields: {
      model: "smart",
      provider: "azure-eu",
      upstream_model: "gpt4o-prod",
      attempts: 2,
      stream: true,
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
      finish_reasons: ["stop", "length"],
    },
  };
  const cases: [string, string, RequestEnd, Record<string, unknown>][] = [
    ["a served stream", "chat", served, {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "azure.ai.openai",
      "gen_ai.request.model": "smart",
      "gen_ai.response.model": "gpt4o-prod",
      "gen_ai.usage.input_tokens": 12,
      "gen_ai.usage.output_tokens": 5,
      "gen_ai.response.finish_reasons": ["stop", "length"],
      "http.response.status_code": 200,
      "choreoai.request.id": "req_1",
      "choreoai.provider": "azure-eu",
      "choreoai.stream": true,
      "choreoai.attempts": 2,
    }],
    [
      "a stream that broke after its start: error.type is its code",
      "chat",
      { ...served, fields: { ...served.fields, error_code: "upstream_timeout", cancelled: true } },
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.request.model": "smart",
        "gen_ai.response.model": "gpt4o-prod",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.response.finish_reasons": ["stop", "length"],
        "http.response.status_code": 200,
        "error.type": "upstream_timeout",
        "choreoai.request.id": "req_1",
        "choreoai.provider": "azure-eu",
        "choreoai.stream": true,
        "choreoai.attempts": 2,
        "choreoai.cancelled": true,
      },
    ],
    [
      "refused before any provider: error.type is the code",
      "chat",
      { status: 404, requestId: "req_2", fields: { model: "nope", error_code: "model_not_found" } },
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "nope",
        "http.response.status_code": 404,
        "error.type": "model_not_found",
        "choreoai.request.id": "req_2",
      },
    ],
    [
      "an error without a code: error.type is the status",
      "chat",
      { status: 405, requestId: "req_3", fields: {} },
      {
        "gen_ai.operation.name": "chat",
        "http.response.status_code": 405,
        "error.type": "405",
        "choreoai.request.id": "req_3",
      },
    ],
    [
      "the echo model: the gateway is the provider",
      "chat",
      { status: 200, requestId: "req_4", fields: { model: "choreoai/echo", provider: "choreoai" } },
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "choreoai",
        "gen_ai.request.model": "choreoai/echo",
        "http.response.status_code": 200,
        "choreoai.request.id": "req_4",
        "choreoai.provider": "choreoai",
      },
    ],
    [
      "embeddings: no output tokens",
      "embeddings",
      {
        status: 200,
        requestId: "req_5",
        providerKind: "gemini",
        fields: {
          model: "embed",
          provider: "gemini",
          upstream_model: "text-embedding-004",
          usage: { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 },
        },
      },
      {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.request.model": "embed",
        "gen_ai.response.model": "text-embedding-004",
        "gen_ai.usage.input_tokens": 7,
        "http.response.status_code": 200,
        "choreoai.request.id": "req_5",
        "choreoai.provider": "gemini",
      },
    ],
  ];
  for (const [name, operation, end, expected] of cases) {
    await t.step(name, () => assert.deepEqual(requestAttributes(operation, end), expected));
  }
});

Deno.test("requestFailed() is an error status or an error code after the start", async (t) => {
  const cases: [string, number, string | undefined, boolean][] = [
    ["200", 200, undefined, false],
    ["200 with an error code (a broken stream)", 200, "upstream_error", true],
    ["400", 400, "invalid_request_error", true],
    ["502", 502, undefined, true],
  ];
  for (const [name, status, code, expected] of cases) {
    await t.step(name, () => {
      const fields = code === undefined ? {} : { error_code: code };
      assert.equal(requestFailed({ status, fields }), expected);
    });
  }
});

/** The first target of the routing file's `smart` model: `eu-azure/gpt4o-prod`. */
function azureTarget(): RouteTarget {
  const routing = buildRouting(
    parseConfig({}),
    parseRoutingFile(JSON.stringify({
      providers: {
        "eu-azure": {
          kind: "azure",
          endpoint: "https://eu.openai.azure.com",
          api_key_env: "EU_KEY",
        },
      },
      models: { smart: { targets: [{ provider: "eu-azure", model: "gpt4o-prod" }] } },
    })),
    { EU_KEY: "az-secret" },
  );
  const target = routing.models.get("smart")?.targets[0];
  assert.ok(target !== undefined);
  return target;
}

Deno.test("attemptAttributes() describes the call to the provider, never its key", async (t) => {
  const target = azureTarget();
  const model = { name: "smart", targets: [target], retries: 1, timeoutMs: 1000, deadlineMs: 1000 };
  const cases: [string, string | undefined, "first" | "retry" | "fallback", number][] = [
    ["a first attempt", "chat", "first", 1],
    ["a retry", "chat", "retry", 2],
    ["outside a traced request", undefined, "fallback", 3],
  ];
  for (const [name, operation, kind, number] of cases) {
    await t.step(name, () => {
      const attributes = attemptAttributes(operation, {
        attempt: { target, model, timeoutMs: 1000, number },
        kind,
      });
      assert.deepEqual(attributes, {
        ...(operation === undefined ? {} : { "gen_ai.operation.name": operation }),
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.request.model": "gpt4o-prod",
        "server.address": "eu.openai.azure.com",
        "choreoai.provider": "eu-azure",
        "choreoai.target": "eu-azure/gpt4o-prod",
        "choreoai.attempt.number": number,
        "choreoai.attempt.kind": kind,
      });
      assert.ok(!JSON.stringify(attributes).includes("az-secret"));
    });
  }
});

Deno.test("attemptEndAttributes() names the outcome and the error", async (t) => {
  const overloaded = errors.upstream("openai: overloaded");
  const cases: [string, AttemptOutcome<unknown>, Record<string, unknown>][] = [
    ["success", { ok: true, value: 1 }, { "choreoai.attempt.outcome": "success" }],
    ["the provider failed", { ok: false, error: overloaded, next: "retry" }, {
      "choreoai.attempt.outcome": "error",
      "error.type": "upstream_error",
    }],
    ["the target cannot carry it", {
      ok: false,
      error: errors.invalidRequest("no tools here"),
      next: "skip",
    }, {
      "choreoai.attempt.outcome": "skipped",
      "error.type": "invalid_request",
    }],
    ["the request was refused", {
      ok: false,
      error: errors.invalidRequest("bad"),
      next: "stop",
    }, {
      "choreoai.attempt.outcome": "refused",
      "error.type": "invalid_request",
    }],
    ["an error without a code: its status", {
      ok: false,
      error: new GatewayError("The server had an error", {
        status: 500,
        type: "server_error",
        code: null,
      }),
      next: "retry",
    }, {
      "choreoai.attempt.outcome": "error",
      "error.type": "500",
    }],
  ];
  for (const [name, outcome, expected] of cases) {
    await t.step(name, () => assert.deepEqual(attemptEndAttributes(outcome), expected));
  }
});
