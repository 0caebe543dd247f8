import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
} from "../../../src/openai/schema.ts";
import type {
  ProviderAdapter,
  ProviderTarget,
  StreamItem,
  TranslationContext,
} from "../../../src/providers/mod.ts";
import { azure, createAzureAdapter } from "../../../src/providers/azure/mod.ts";
import { renderStream } from "../../../src/streaming/client_stream.ts";
import { createSseDecoder } from "../../../src/sse.ts";
import {
  AZURE_API_VERSION,
  AZURE_EMBEDDING_DIMENSIONS,
  AZURE_KEY,
  AZURE_MODEL,
  type FakeAzure,
  rateLimited,
  startFakeAzure,
} from "../../_helpers/fake_azure.ts";
import { sendProviderRequest } from "../../_helpers/provider_request.ts";

const CTX: TranslationContext = {
  id: "chatcmpl-gw",
  created: 1_700_000_000,
  model: "azure/gpt-4o",
};
const messages = [{ role: "user", content: "hi" }];

function chat(body: Record<string, unknown>): ChatCompletionRequest {
  const result = parseChatCompletionRequest({ model: "azure/gpt-4o", messages, ...body });
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function targetOf(fake: FakeAzure, extra: Partial<ProviderTarget> = {}): ProviderTarget {
  return {
    model: "gpt-4o",
    baseUrl: fake.endpoint,
    apiKey: AZURE_KEY,
    apiVersion: AZURE_API_VERSION,
    ...extra,
  };
}

/** Sends a chat request through the adapter; an error answer becomes the gateway's error. */
async function send(
  adapter: ProviderAdapter,
  body: ChatCompletionRequest,
  target: ProviderTarget,
): Promise<{ json?: unknown; items?: StreamItem[]; error?: GatewayError }> {
  const built = adapter.toRequest(body, target);
  assert.ok(!(built instanceof GatewayError));
  const response = await sendProviderRequest(built.request);
  if (!response.ok) {
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { error: adapter.fromError(response.status, json, response.headers, target) };
  }
  if (body.stream !== true) return { json: await response.json() };
  const items: StreamItem[] = [];
  const translator = adapter.stream(CTX);
  const push = (item: StreamItem) => {
    items.push(item);
  };
  const decoder = createSseDecoder((event) => translator.event(event, push), assert.fail);
  decoder.feed(new Uint8Array(await response.arrayBuffer()));
  decoder.end();
  translator.end(push);
  return { items };
}

function clientChunks(items: readonly StreamItem[], includeUsage: boolean) {
  const data = renderStream(items, includeUsage).text.split("\n\n").filter((line) => line !== "")
    .map((line) => line.replace(/^data: /, ""));
  assert.equal(data.at(-1), "[DONE]");
  return data.slice(0, -1).map((text) => JSON.parse(text) as Record<string, unknown>);
}

Deno.test("azure adapter against the fake Azure: non-stream", async () => {
  await using fake = startFakeAzure();
  const { json } = await send(azure, chat({ temperature: 0.5 }), targetOf(fake));
  const completion = azure.fromResponse(json, CTX);
  assert.ok(!(completion instanceof GatewayError));
  assert.equal(completion.model, AZURE_MODEL);
  assert.ok(Array.isArray(completion.prompt_filter_results));
  const [recorded] = fake.requests;
  assert.equal(recorded?.path, "/openai/deployments/gpt-4o/chat/completions");
  assert.equal(recorded?.apiVersion, AZURE_API_VERSION);
  assert.equal(recorded?.headers.get("api-key"), AZURE_KEY);
  assert.equal(recorded?.headers.get("authorization"), null);
  assert.equal(recorded?.body?.model, "gpt-4o");
  assert.equal(recorded?.body?.temperature, 0.5);
});

Deno.test("azure adapter against the fake Azure: streams", async (t) => {
  for (const includeUsage of [false, true]) {
    await t.step(`client include_usage ${includeUsage}`, async () => {
      await using fake = startFakeAzure();
      const body = chat({ stream: true, stream_options: { include_usage: includeUsage } });
      const { items } = await send(azure, body, targetOf(fake));
      assert.ok(items !== undefined);
      assert.deepEqual(fake.requests[0]?.body?.stream_options, { include_usage: true });
      const chunks = clientChunks(items, includeUsage);
      const text = chunks.flatMap((chunk) =>
        (chunk.choices as { delta: { content?: string } }[]).map((c) => c.delta.content ?? "")
      ).join("");
      assert.equal(text, "Hello from the fake");
      assert.equal((chunks[0]?.choices as unknown[]).length, 1, "no prompt-filter chunk first");
      const last = chunks.at(-1);
      if (includeUsage) {
        assert.deepEqual(last?.choices, []);
        assert.equal((last?.usage as { total_tokens: number }).total_tokens, 13);
      } else {
        for (const chunk of chunks) assert.ok(!("usage" in chunk));
      }
    });
  }
  await t.step("stream_usage false: no stream_options upstream, no usage chunk", async () => {
    await using fake = startFakeAzure();
    const { items } = await send(
      createAzureAdapter("azure-eu"),
      chat({ stream: true, stream_options: { include_usage: true } }),
      targetOf(fake, { streamUsage: false }),
    );
    assert.ok(!("stream_options" in (fake.requests[0]?.body ?? {})));
    const chunks = clientChunks(items ?? [], true);
    assert.ok(chunks.every((chunk) => (chunk.choices as unknown[]).length === 1));
  });
  await t.step("asynchronous filter annotations get the stream's identity", async () => {
    await using fake = startFakeAzure({ asyncFilter: true });
    const { items } = await send(azure, chat({ stream: true }), targetOf(fake));
    const chunks = clientChunks(items ?? [], false);
    const annotation = chunks.find((chunk) =>
      (chunk.choices as Record<string, unknown>[])[0]?.content_filter_offsets !== undefined
    );
    assert.ok(annotation !== undefined);
    assert.equal(annotation.id, "chatcmpl-AzFakeStream");
    assert.equal(annotation.object, "chat.completion.chunk");
    assert.equal(annotation.model, AZURE_MODEL);
    assert.deepEqual((annotation.choices as Record<string, unknown>[])[0]?.delta, {});
  });
  await t.step("a completion cut by the content filter", async () => {
    await using fake = startFakeAzure({ contentFilter: "completion" });
    const { items } = await send(azure, chat({ stream: true }), targetOf(fake));
    const chunks = clientChunks(items ?? [], false);
    const last = (chunks.at(-1)?.choices as Record<string, unknown>[])[0];
    assert.equal(last?.finish_reason, "content_filter");
    assert.ok(last?.content_filter_results !== undefined);
  });
});

Deno.test("azure adapter against the fake Azure: errors", async (t) => {
  await t.step("wrong key → 502", async () => {
    await using fake = startFakeAzure({ apiKey: "another-key" });
    const { error } = await send(azure, chat({}), targetOf(fake));
    assert.equal(error?.status, 502);
    assert.ok(!error?.message.includes("Access denied"));
  });
  await t.step("unknown deployment → 404 model_not_found naming it", async () => {
    await using fake = startFakeAzure();
    const { error } = await send(azure, chat({}), targetOf(fake, { model: "gpt-5-nope" }));
    assert.equal(error?.status, 404);
    assert.equal(error?.code, "model_not_found");
    assert.match(error?.message ?? "", /"gpt-5-nope"/);
  });
  await t.step("a deployment name that needs encoding reaches the fake decoded", async () => {
    await using fake = startFakeAzure({ deployments: ["gpt 4o/eu"] });
    const { json } = await send(azure, chat({}), targetOf(fake, { model: "gpt 4o/eu" }));
    assert.ok(json !== undefined);
    assert.equal(fake.requests[0]?.deployment, "gpt 4o/eu");
  });
  await t.step("unsupported api-version → 502", async () => {
    await using fake = startFakeAzure();
    const { error } = await send(azure, chat({}), targetOf(fake, { apiVersion: "2099-01-01" }));
    assert.equal(error?.status, 502);
    assert.match(error?.message ?? "", /api-version/);
  });
  await t.step("wrong endpoint path → 502", async () => {
    await using fake = startFakeAzure();
    const { error } = await send(
      azure,
      chat({}),
      targetOf(fake, { baseUrl: `${fake.endpoint}/x` }),
    );
    assert.equal(error?.status, 502);
    assert.match(error?.message ?? "", /endpoint or api-version/);
  });
  await t.step("prompt blocked by the content filter → 400 content_filter", async () => {
    await using fake = startFakeAzure({ contentFilter: "prompt" });
    for (const stream of [false, true]) {
      const { error } = await send(azure, chat({ stream }), targetOf(fake));
      assert.equal(error?.status, 400);
      assert.equal(error?.code, "content_filter");
      assert.equal(error?.param, "prompt");
    }
  });
  await t.step("a scripted 429 without retry-after header", async () => {
    await using fake = startFakeAzure({ onChat: () => rateLimited(20, false) });
    const { error } = await send(azure, chat({}), targetOf(fake));
    assert.equal(error?.status, 429);
    assert.equal(error?.code, "rate_limit_exceeded");
    assert.equal(error?.headers["retry-after"], "20");
  });
});

Deno.test("startFakeAzure() rejects requests as Azure does", async (t) => {
  await using fake = startFakeAzure();
  const url = (path: string) => `${fake.endpoint}${path}`;
  const post = (path: string, headers: Record<string, string>, body: unknown = { messages }) =>
    fetch(url(path), {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const chatPath = `/openai/deployments/gpt-4o/chat/completions`;
  const cases: [string, () => Promise<Response>, number, Record<string, unknown>][] = [
    [
      "missing api-version",
      () => post(chatPath, { "api-key": AZURE_KEY }),
      404,
      { code: "404", message: "Resource not found" },
    ],
    [
      "missing api-key",
      () => post(`${chatPath}?api-version=${AZURE_API_VERSION}`, {}),
      401,
      { code: "401" },
    ],
    [
      "Authorization header, even with the right api-key",
      () =>
        post(`${chatPath}?api-version=${AZURE_API_VERSION}`, {
          "api-key": AZURE_KEY,
          authorization: `Bearer ${AZURE_KEY}`,
        }),
      401,
      { code: "401" },
    ],
    [
      "unknown deployment",
      () =>
        post(`/openai/deployments/nope/chat/completions?api-version=2024-10-21`, {
          "api-key": AZURE_KEY,
        }),
      404,
      { code: "DeploymentNotFound" },
    ],
  ];
  for (const [name, call, status, fields] of cases) {
    await t.step(name, async () => {
      const response = await call();
      assert.equal(response.status, status);
      const { error } = await response.json() as { error: Record<string, unknown> };
      for (const [key, value] of Object.entries(fields)) assert.equal(error[key], value);
    });
  }
  await t.step("401 carries Azure's exact message", async () => {
    const response = await post(`${chatPath}?api-version=2024-10-21`, { "api-key": "bad" });
    const { error } = await response.json() as { error: { message: string } };
    assert.equal(
      error.message,
      "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide " +
        "a valid key for an active subscription and use a correct regional API endpoint for your " +
        "resource.",
    );
  });
});

Deno.test("startFakeAzure() answers embeddings", async (t) => {
  await using fake = startFakeAzure();
  const embed = async (body: Record<string, unknown>) => {
    const response = await fetch(
      `${fake.endpoint}/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21`,
      {
        method: "POST",
        headers: { "api-key": AZURE_KEY, "content-type": "application/json" },
        body: JSON.stringify(body),
      },
    );
    return { status: response.status, json: await response.json() as Record<string, unknown> };
  };
  type Data = { index: number; object: string; embedding: number[] | string }[];
  await t.step("one float vector per input, unit length", async () => {
    const { status, json } = await embed({ input: ["a", "b"] });
    assert.equal(status, 200);
    assert.equal(json.object, "list");
    assert.equal(json.model, "text-embedding-3-small");
    const data = json.data as Data;
    assert.deepEqual(data.map((d) => d.index), [0, 1]);
    const first = data[0]?.embedding as number[];
    assert.equal(first.length, AZURE_EMBEDDING_DIMENSIONS);
    assert.ok(Math.abs(Math.hypot(...first) - 1) < 1e-5);
    assert.notDeepEqual(first, data[1]?.embedding);
    assert.deepEqual(json.usage, { prompt_tokens: 2, total_tokens: 2 });
  });
  await t.step("dimensions shorten the vector", async () => {
    const { json } = await embed({ input: "hello", dimensions: 256 });
    assert.equal(((json.data as Data)[0]?.embedding as number[]).length, 256);
  });
  await t.step("base64 is little-endian float32 of the float answer", async () => {
    const floats = (await embed({ input: "hello", dimensions: 8 })).json.data as Data;
    const b64 = (await embed({ input: "hello", dimensions: 8, encoding_format: "base64" })).json
      .data as Data;
    const bytes = Uint8Array.from(atob(b64[0]?.embedding as string), (c) => c.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const decoded = Array.from({ length: 8 }, (_, i) => view.getFloat32(i * 4, true));
    assert.deepEqual(decoded, floats[0]?.embedding);
  });
  await t.step("bad input → 400", async () => {
    for (const body of [{}, { input: "" }, { input: [] }, { input: "x", dimensions: 0 }]) {
      assert.equal((await embed(body)).status, 400, JSON.stringify(body));
    }
  });
  await t.step("requests are recorded", () => {
    const last = fake.requests.at(-1);
    assert.equal(last?.deployment, "text-embedding-3-small");
    assert.equal(last?.path, "/openai/deployments/text-embedding-3-small/embeddings");
  });
  await t.step("onEmbeddings scripts the answer", async () => {
    await using scripted = startFakeAzure({
      onEmbeddings: (body, info) =>
        Response.json({ echoed: body.input, deployment: info.deployment }),
    });
    const response = await fetch(
      `${scripted.endpoint}/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21`,
      {
        method: "POST",
        headers: { "api-key": AZURE_KEY, "content-type": "application/json" },
        body: JSON.stringify({ input: "x" }),
      },
    );
    assert.deepEqual(await response.json(), {
      echoed: "x",
      deployment: "text-embedding-3-small",
    });
  });
});

Deno.test("createAzureAdapter() builds an OpenAI-format adapter without a model list", async (t) => {
  const target = { model: "gpt4o-prod", baseUrl: "https://eu.openai.azure.com", apiKey: "k" };
  await t.step("built-in name and flags", () => {
    assert.equal(azure.name, "azure");
    assert.equal(azure.passThrough, true);
    assert.equal(azure.inlinesImageUrls, false);
  });
  await t.step("a custom provider's name", () => {
    assert.equal(createAzureAdapter("azure-eu").name, "azure-eu");
  });
  await t.step("toRequest() adjusts nothing", async () => {
    const built = azure.toRequest(chat({}), target);
    assert.ok(!(built instanceof GatewayError));
    assert.deepEqual(built.adjusted, []);
    assert.equal((await built.request.json() as { model: unknown }).model, "gpt4o-prod");
  });
  await t.step("no model list", () => {
    assert.equal(azure.listModelsRequest(target), undefined);
    assert.deepEqual(azure.parseModelList({ data: [{ id: "gpt-4o" }] }), []);
  });
});

Deno.test("createAzureAdapter() fromResponse() passes a chat.completion on, with Azure's extras", async (t) => {
  const adapter = createAzureAdapter("azure-eu");
  await t.step("a completion is returned as is", () => {
    const body = {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [{ index: 0, content_filter_results: {}, finish_reason: "stop" }],
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
    assert.equal(adapter.fromResponse(body, CTX), body);
  });
  const bad: [string, unknown][] = [
    ["not an object", "oops"],
    ["no choices", { object: "chat.completion" }],
    ["bad usage", { choices: [], usage: { prompt_tokens: "1" } }],
  ];
  for (const [name, body] of bad) {
    await t.step(`${name} → 502 naming the provider`, () => {
      const error = adapter.fromResponse(body, CTX);
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 502);
      assert.match(error.message, /^azure-eu /);
    });
  }
});

Deno.test("azure adapter embeddings against the fake Azure", async (t) => {
  await using fake = startFakeAzure();
  const embeddings = azure.embeddings;
  assert.ok(embeddings !== undefined);
  const target = targetOf(fake, { model: "text-embedding-3-small" });
  for (const encodingFormat of ["float", "base64"] as const) {
    await t.step(`encoding_format ${encodingFormat}`, async () => {
      const request = embeddings.toRequest(
        {
          model: "azure/text-embedding-3-small",
          input: ["a", "b"],
          dimensions: 4,
          encoding_format: encodingFormat,
        },
        target,
      );
      assert.ok(!(request instanceof GatewayError));
      assert.equal(request.headers.get("authorization"), null);
      const response = await sendProviderRequest(request);
      assert.equal(response.status, 200);
      const list = embeddings.fromResponse(await response.json(), {
        model: "azure/text-embedding-3-small",
        encodingFormat,
        estimatedTokens: 2,
        inputCount: 2,
      });
      assert.ok(!(list instanceof GatewayError));
      assert.equal(list.data.length, 2);
      const first = list.data[0]?.embedding;
      if (encodingFormat === "float") assert.equal((first as number[]).length, 4);
      else assert.equal(typeof first, "string");
    });
  }
});
