/**
 * Azure OpenAI end to end: the official `openai` client → the gateway → a fake Azure resource
 * that speaks Azure's wire format and quirks (FACTS.md §2).
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { CLIENT_KEY, openaiClient, startGateway } from "../_helpers/gateway.ts";
import {
  AZURE_API_VERSION,
  AZURE_KEY,
  AZURE_MODEL,
  rateLimited,
  startFakeAzure,
} from "../_helpers/fake_azure.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";

const HI = [{ role: "user" as const, content: "Hi" }];

function azureEnv(endpoint: string): Record<string, string> {
  return { AZURE_OPENAI_API_KEY: AZURE_KEY, AZURE_OPENAI_ENDPOINT: endpoint };
}

/** The data lines of an SSE body. */
function dataOf(text: string): string[] {
  return text.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
}

Deno.test("Azure, non-stream: deployment in the path, api-version, api-key header only", async () => {
  await using azure = startFakeAzure();
  await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
  const { data, response } = await openaiClient(gateway).chat.completions
    .create({ model: "azure/gpt-4o", messages: HI, temperature: 0.2 })
    .withResponse();
  assert.equal(response.headers.get("x-choreoai-provider"), "azure");
  assert.equal(typeof data.choices[0]?.message.content, "string");
  assert.equal(data.model, AZURE_MODEL);
  assert.ok((data.usage?.total_tokens ?? 0) > 0);
  const [seen] = azure.requests;
  assert.equal(seen?.deployment, "gpt-4o");
  assert.equal(seen?.apiVersion, AZURE_API_VERSION);
  assert.equal(seen?.headers.get("api-key"), AZURE_KEY);
  assert.equal(seen?.headers.get("authorization"), null);
  assert.ok(![...(seen?.headers.values() ?? [])].some((v) => v.includes(CLIENT_KEY)));
  assert.equal(seen?.body?.temperature, 0.2);
});

Deno.test("Azure, stream: the blank prompt-filter chunk never reaches the client", async (t) => {
  for (const includeUsage of [false, true]) {
    await t.step(`include_usage ${includeUsage}`, async () => {
      await using azure = startFakeAzure({ asyncFilter: true });
      await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "azure/gpt-4o",
          messages: HI,
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        }),
      });
      assert.equal(response.status, 200);
      const events = dataOf(await response.text());
      assert.equal(events.at(-1), "[DONE]");
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      for (const chunk of chunks) {
        assert.notEqual(chunk.id, "", "a chunk with a blank id reached the client");
        assert.equal(chunk.object, "chat.completion.chunk");
        if (chunk.usage === undefined || chunk.usage === null) {
          assert.ok(
            chunk.choices.length > 0,
            "a chunk without choices and usage reached the client",
          );
        }
      }
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "one id for the whole stream");
      const usage = chunks.filter((c) => c.usage !== undefined && c.usage !== null);
      assert.equal(usage.length, includeUsage ? 1 : 0);
      assert.equal(
        (azure.requests[0]?.body?.stream_options as { include_usage?: boolean })?.include_usage,
        true,
        "usage is always asked upstream",
      );
    });
  }

  await t.step("through the official client, with a content_filter finish", async () => {
    await using azure = startFakeAzure({ contentFilter: "completion" });
    await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
    const stream = await openaiClient(gateway).chat.completions.create({
      model: "azure/gpt-4o",
      messages: HI,
      stream: true,
    });
    const finishes: string[] = [];
    for await (const chunk of stream) {
      const finish = chunk.choices[0]?.finish_reason;
      if (finish) finishes.push(finish);
    }
    assert.deepEqual(finishes, ["content_filter"]);
  });
});

Deno.test("Azure errors: deployment not found, content filter, bad key, throttling", async (t) => {
  await t.step("an unknown deployment is 404 model_not_found", async () => {
    await using azure = startFakeAzure();
    await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
    const error = await openaiClient(gateway).chat.completions
      .create({ model: "azure/no-such-deployment", messages: HI })
      .catch((e) => e);
    assert.ok(error instanceof OpenAI.NotFoundError, String(error));
    assert.equal(error.code, "model_not_found");
    assert.match(error.message, /no-such-deployment/);
  });

  await t.step("a filtered prompt is 400 content_filter with Azure's message", async () => {
    await using azure = startFakeAzure({ contentFilter: "prompt" });
    await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
    const error = await openaiClient(gateway).chat.completions
      .create({ model: "azure/gpt-4o", messages: HI })
      .catch((e) => e);
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.code, "content_filter");
    assert.match(error.message, /content management policy/);
  });

  await t.step("a wrong gateway key is 502 without Azure's text", async () => {
    await using azure = startFakeAzure({ apiKey: "another-key" });
    await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
    const error = await openaiClient(gateway).chat.completions
      .create({ model: "azure/gpt-4o", messages: HI })
      .catch((e) => e);
    assert.equal(error.status, 502);
    assert.equal(error.code, "upstream_error");
    assert.ok(!error.message.includes("subscription key"), error.message);
  });

  await t.step("429 keeps Retry-After", async () => {
    await using azure = startFakeAzure({ onChat: () => rateLimited(7) });
    await using gateway = startGateway({ env: azureEnv(azure.endpoint) });
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "azure/gpt-4o", messages: HI }),
    });
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "7");
    const body = await response.json();
    assert.equal(body.error.type, "rate_limit_error");
  });
});

Deno.test("DESIGN.md's routing example: a public name over Azure and OpenAI by weight", async () => {
  await using azure = startFakeAzure({ deployments: ["gpt4o-prod"] });
  await using openai = startFakeOpenAI();
  let i = 0;
  await using gateway = startGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: openai.baseUrl, AZURE_EU_KEY: AZURE_KEY },
    random: () => (i++ % 4) / 4,
    routingFile: {
      providers: {
        "azure-eu": {
          kind: "azure",
          endpoint: azure.endpoint,
          api_key_env: "AZURE_EU_KEY",
          api_version: "2024-10-21",
        },
      },
      models: {
        smart: {
          targets: [
            { provider: "azure-eu", model: "gpt4o-prod", weight: 3 },
            { provider: "openai", model: "gpt-4o", weight: 1 },
          ],
          timeout_ms: 60_000,
        },
      },
    },
  });
  const client = openaiClient(gateway);
  const served: string[] = [];
  for (let n = 0; n < 8; n++) {
    const { response } = await client.chat.completions
      .create({ model: "smart", messages: HI })
      .withResponse();
    served.push(response.headers.get("x-choreoai-provider") ?? "");
  }
  assert.equal(served.filter((p) => p === "azure-eu").length, 6);
  assert.equal(served.filter((p) => p === "openai").length, 2);
  assert.equal(azure.requests[0]?.deployment, "gpt4o-prod");
  assert.equal(openai.requests[0]?.body?.model, "gpt-4o");
});
