import assert from "node:assert/strict";
import { errors } from "../../../src/errors.ts";
import { AZURE_RESPONSES } from "../../../src/providers/azure/responses.ts";
import { azure, createAzureAdapter } from "../../../src/providers/azure/mod.ts";
import { openai } from "../../../src/providers/openai/mod.ts";
import {
  createNativeResponsesWriter,
  OPENAI_RESPONSES,
  responseFinishReasons,
  responseUsage,
  toNativeResourceRequest,
  toNativeResponsesRequest,
} from "../../../src/providers/openai/responses.ts";
import { adapterFor } from "../../../src/providers/registry.ts";

const OPENAI_TARGET = { model: "gpt-5", baseUrl: "https://api.openai.com/v1/", apiKey: "sk-p" };
const AZURE_TARGET = {
  model: "gpt-5-prod",
  baseUrl: "https://eu.openai.azure.com/",
  apiKey: "az-key",
  apiVersion: "2024-10-21",
};

Deno.test("toNativeResponsesRequest() sends the body with only model replaced", async (t) => {
  const body = {
    model: "smart",
    input: "Hi",
    tools: [{ type: "web_search" }],
    include: ["reasoning.encrypted_content"],
    unknown_field: { a: 1 },
  };
  await t.step("OpenAI: {base}/responses, Bearer key", async () => {
    const request = toNativeResponsesRequest(OPENAI_RESPONSES, body, OPENAI_TARGET);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "https://api.openai.com/v1/responses");
    assert.equal(request.headers.get("authorization"), "Bearer sk-p");
    assert.equal(request.headers.get("accept"), "application/json");
    assert.deepEqual(await request.json(), { ...body, model: "gpt-5" });
  });
  await t.step("OpenAI without a key (a local server): no Authorization", () => {
    const request = toNativeResponsesRequest(OPENAI_RESPONSES, body, {
      ...OPENAI_TARGET,
      apiKey: "",
    });
    assert.equal(request.headers.has("authorization"), false);
  });
  await t.step("Azure: the v1 API, api-key, no api-version, the deployment as model", async () => {
    const request = toNativeResponsesRequest(AZURE_RESPONSES, { ...body, stream: true }, {
      ...AZURE_TARGET,
    });
    assert.equal(request.url, "https://eu.openai.azure.com/openai/v1/responses");
    assert.equal(request.headers.get("api-key"), "az-key");
    assert.equal(request.headers.has("authorization"), false);
    assert.equal(request.headers.get("accept"), "text/event-stream");
    assert.equal((await request.json() as { model: unknown }).model, "gpt-5-prod");
  });
});

Deno.test("toNativeResourceRequest() builds GET/DELETE of a response and its input items", async (t) => {
  const cases: [string, Parameters<typeof toNativeResourceRequest>, string, string][] = [
    [
      "retrieve with include",
      [OPENAI_RESPONSES, {
        method: "GET",
        id: "resp_1",
        inputItems: false,
        search: "?include[]=x",
      }, OPENAI_TARGET],
      "GET",
      "https://api.openai.com/v1/responses/resp_1?include[]=x",
    ],
    [
      "delete, the id percent-encoded",
      [OPENAI_RESPONSES, { method: "DELETE", id: "a/b c", inputItems: false, search: "" }, {
        ...OPENAI_TARGET,
      }],
      "DELETE",
      "https://api.openai.com/v1/responses/a%2Fb%20c",
    ],
    [
      "Azure input items with paging",
      [AZURE_RESPONSES, {
        method: "GET",
        id: "resp_2",
        inputItems: true,
        search: "?limit=2&order=asc",
      }, AZURE_TARGET],
      "GET",
      "https://eu.openai.azure.com/openai/v1/responses/resp_2/input_items?limit=2&order=asc",
    ],
  ];
  for (const [name, args, method, url] of cases) {
    await t.step(name, () => {
      const request = toNativeResourceRequest(...args);
      assert.equal(request.method, method);
      assert.equal(request.url, url);
      assert.equal(request.body, null);
    });
  }
});

Deno.test("responseUsage() reads a response's usage as records count it", async (t) => {
  const cases: [string, unknown, unknown][] = [
    ["full", {
      usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
    }, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }],
    ["no total", { usage: { input_tokens: 3, output_tokens: 4 } }, {
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    }],
    ["null usage (in progress)", { usage: null }, undefined],
    ["not an object", "x", undefined],
  ];
  for (const [name, body, expected] of cases) {
    await t.step(name, () => assert.deepEqual(responseUsage(body), expected));
  }
});

Deno.test("responseFinishReasons() names how a response ended in chat words", async (t) => {
  const cases: [string, unknown, string[] | undefined][] = [
    ["completed with a message", {
      status: "completed",
      output: [{ type: "reasoning" }, { type: "message" }],
    }, ["stop"]],
    ["completed with a function call", {
      status: "completed",
      output: [{ type: "message" }, { type: "function_call" }],
    }, ["tool_calls"]],
    ["completed without output", { status: "completed" }, ["stop"]],
    ["out of output tokens", {
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
    }, ["length"]],
    ["filtered", {
      status: "incomplete",
      incomplete_details: { reason: "content_filter" },
    }, ["content_filter"]],
    ["failed", { status: "failed", error: { code: "server_error" } }, undefined],
    ["in progress", { status: "in_progress" }, undefined],
    ["not an object", "x", undefined],
  ];
  for (const [name, response, expected] of cases) {
    await t.step(name, () => assert.deepEqual(responseFinishReasons(response), expected));
  }
});

function event(type: string, extra: Record<string, unknown> = {}, sequence = 0) {
  return {
    event: type,
    data: JSON.stringify({ type, sequence_number: sequence, ...extra }),
  };
}

Deno.test("createNativeResponsesWriter() passes events on, reading the id and the usage", async (t) => {
  await t.step("a whole stream", () => {
    const writer = createNativeResponsesWriter("openai");
    const created = event("response.created", { response: { id: "resp_9", usage: null } }, 0);
    writer.push(created);
    assert.equal(writer.responseId, "resp_9");
    assert.equal(writer.hasData, true);
    writer.push(event("response.output_text.delta", { delta: "Hi" }, 1));
    assert.equal(writer.finished, false);
    assert.equal(writer.finishReasons, undefined);
    writer.push(event("response.completed", {
      response: {
        id: "resp_9",
        status: "completed",
        usage: { input_tokens: 2, output_tokens: 1, total_tokens: 3 },
      },
    }, 2));
    assert.equal(writer.finished, true);
    assert.deepEqual(writer.usage, { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 });
    assert.deepEqual(writer.finishReasons, ["stop"]);
    const text = writer.take();
    assert.ok(text.startsWith(`event: response.created\ndata: ${created.data}\n\n`));
    assert.ok(text.endsWith("\n\n"));
    assert.equal(text.split("\n\n").length - 1, 3);
    writer.push(event("response.output_text.delta", {}, 3));
    assert.equal(writer.take(), "", "nothing after the end");
  });
  await t.step("response.incomplete and response.failed end it too", () => {
    for (const type of ["response.incomplete", "response.failed"]) {
      const writer = createNativeResponsesWriter("openai");
      writer.push(event(type, { response: { usage: null } }));
      assert.equal(writer.finished, true, type);
    }
  });
  await t.step("an error event before anything: the route's error, nothing written", () => {
    const writer = createNativeResponsesWriter("azure-eu");
    writer.push(event("error", { code: "server_error", message: "boom", param: null }));
    assert.equal(writer.finished, true);
    assert.equal(writer.hasData, false);
    assert.equal(writer.take(), "");
    assert.equal(writer.error?.status, 502);
    assert.equal(writer.error?.code, "server_error");
    assert.equal(writer.error?.message, "azure-eu: boom");
  });
  await t.step("an error event midway is passed on; response.failed then ends", () => {
    const writer = createNativeResponsesWriter("openai");
    writer.push(event("response.created", { response: { id: "resp_1" } }, 0));
    writer.push(event("error", { code: "rate_limit_exceeded", message: "slow" }, 1));
    assert.equal(writer.finished, false);
    assert.match(writer.take(), /event: error\n/);
    writer.push(event("response.failed", { response: { id: "resp_1" } }, 2));
    assert.equal(writer.finished, true);
    assert.equal(writer.error?.code, "rate_limit_exceeded");
  });
  await t.step("the gateway's failure midway: an error event numbered after the last", () => {
    const writer = createNativeResponsesWriter("openai");
    writer.push(event("response.created", { response: { id: "resp_1" } }, 0));
    writer.push(event("response.in_progress", {}, 1));
    writer.take();
    writer.push({ type: "error", error: errors.upstreamTimeout("openai sent nothing for 5 ms") });
    const [line, data] = writer.take().split("\n");
    assert.equal(line, "event: error");
    assert.deepEqual(JSON.parse(data?.slice(6) ?? ""), {
      type: "error",
      code: "upstream_timeout",
      message: "openai sent nothing for 5 ms",
      param: null,
      sequence_number: 2,
    });
    assert.equal(writer.finished, true);
  });
  await t.step("a failure before anything is only recorded", () => {
    const writer = createNativeResponsesWriter("openai");
    writer.push({ type: "error", error: errors.upstream("cut") });
    assert.equal(writer.take(), "");
    assert.equal(writer.error?.message, "cut");
  });
});

Deno.test("which adapters pass Responses through: OpenAI and Azure, not compatible servers", () => {
  assert.ok(openai.responses !== undefined);
  assert.ok(azure.responses !== undefined);
  assert.ok(createAzureAdapter("azure-eu").responses !== undefined);
  assert.ok(adapterFor("openai-compatible", "openai").responses !== undefined);
  assert.equal(adapterFor("openai-compatible", "vllm").responses, undefined);
  assert.equal(adapterFor("anthropic", "anthropic").responses, undefined);
  assert.equal(adapterFor("gemini", "gemini").responses, undefined);
});
