import assert from "node:assert/strict";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
} from "../../../src/openai/schema.ts";
import type { ProviderTarget } from "../../../src/providers/mod.ts";
import {
  AZURE_DEFAULT_API_VERSION,
  type AzureOperation,
  azureUrl,
  toAzureRequest,
} from "../../../src/providers/azure/request.ts";
import type { ProviderRequest } from "../../../src/http/provider_request.ts";

function chat(body: Record<string, unknown>): ChatCompletionRequest {
  const result = parseChatCompletionRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function target(extra: Partial<ProviderTarget> = {}): ProviderTarget {
  return {
    model: "gpt4o-prod",
    baseUrl: "https://eu.openai.azure.com",
    apiKey: "azure-provider-key",
    apiVersion: "2024-10-21",
    ...extra,
  };
}

async function bodyOf(request: ProviderRequest): Promise<Record<string, unknown>> {
  return await request.json() as Record<string, unknown>;
}

const messages = [{ role: "user", content: "hi" }];

Deno.test("azureUrl() builds the deployment URL", async (t) => {
  const cases: [string, Partial<ProviderTarget>, AzureOperation, string][] = [
    [
      "chat completions",
      {},
      "chat/completions",
      "https://eu.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
    ],
    [
      "embeddings",
      { model: "text-embedding-3-small" },
      "embeddings",
      "https://eu.openai.azure.com/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21",
    ],
    [
      "trailing slashes of the endpoint ignored",
      { baseUrl: "https://eu.openai.azure.com//" },
      "chat/completions",
      "https://eu.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
    ],
    [
      "deployment percent-encoded",
      { model: "my deploy/../x?y#z" },
      "chat/completions",
      "https://eu.openai.azure.com/openai/deployments/my%20deploy%2F..%2Fx%3Fy%23z/chat/completions?api-version=2024-10-21",
    ],
    [
      "preview api-version",
      { apiVersion: "2025-01-01-preview" },
      "chat/completions",
      "https://eu.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2025-01-01-preview",
    ],
    [
      "default api-version when none is configured",
      { apiVersion: undefined },
      "chat/completions",
      `https://eu.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`,
    ],
    [
      "endpoint with a port (a local fake)",
      { baseUrl: "http://127.0.0.1:8123" },
      "chat/completions",
      "http://127.0.0.1:8123/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
    ],
  ];
  for (const [name, extra, operation, expected] of cases) {
    await t.step(name, () => {
      assert.equal(azureUrl(target(extra), operation), expected);
    });
  }
  assert.equal(AZURE_DEFAULT_API_VERSION, "2024-10-21");
});

Deno.test("toAzureRequest() sends the key in api-key, never in Authorization", async (t) => {
  for (const stream of [false, true]) {
    await t.step(stream ? "stream" : "non-stream", () => {
      const request = toAzureRequest(
        chat({ model: "azure/gpt4o-prod", messages, stream }),
        target(),
      );
      assert.equal(request.method, "POST");
      assert.equal(
        request.url,
        "https://eu.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
      );
      assert.equal(request.headers.get("api-key"), "azure-provider-key");
      assert.equal(request.headers.get("authorization"), null);
      assert.match(request.headers.get("content-type") ?? "", /^application\/json/);
      assert.equal(
        request.headers.get("accept"),
        stream ? "text/event-stream" : "application/json",
      );
    });
  }
});

Deno.test("toAzureRequest() passes every field through, with the deployment as model", async () => {
  const client = {
    model: "azure/gpt4o-prod",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "hi" }], extra_message_field: "kept" },
    ],
    temperature: 0.2,
    logit_bias: { "50256": -100 },
    data_sources: [{ type: "azure_search", parameters: { endpoint: "https://s" } }],
    brand_new_parameter: { nested: [1, { deep: true }] },
  };
  const body = await bodyOf(toAzureRequest(chat(structuredClone(client)), target()));
  assert.deepEqual(body, { ...client, model: "gpt4o-prod" });
});

Deno.test("toAzureRequest() asks for usage on streams unless streamUsage is false", async (t) => {
  const cases: [string, Record<string, unknown>, Partial<ProviderTarget>, unknown][] = [
    ["stream, no stream_options", { stream: true }, {}, { include_usage: true }],
    ["stream, streamUsage true", { stream: true }, { streamUsage: true }, { include_usage: true }],
    [
      "stream, client's include_usage false",
      { stream: true, stream_options: { include_usage: false } },
      {},
      { include_usage: true },
    ],
    [
      "stream, other stream options kept",
      { stream: true, stream_options: { include_obfuscation: false } },
      {},
      { include_obfuscation: false, include_usage: true },
    ],
    ["stream, streamUsage false", { stream: true }, { streamUsage: false }, undefined],
    [
      "stream, streamUsage false drops the client's stream_options",
      { stream: true, stream_options: { include_usage: true } },
      { streamUsage: false },
      undefined,
    ],
    ["non-stream", {}, {}, undefined],
  ];
  for (const [name, extra, targetExtra, expected] of cases) {
    await t.step(name, async () => {
      const body = await bodyOf(
        toAzureRequest(chat({ model: "m", messages, ...extra }), target(targetExtra)),
      );
      if (expected === undefined) assert.ok(!("stream_options" in body), JSON.stringify(body));
      else assert.deepEqual(body.stream_options, expected);
    });
  }
});
