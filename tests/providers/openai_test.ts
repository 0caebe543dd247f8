import assert from "node:assert/strict";
import { errorResponse, type GatewayError } from "../../src/errors.ts";
import { type ChatCompletionRequest, parseChatCompletionRequest } from "../../src/openai/schema.ts";
import type { ProviderTarget, StreamItem } from "../../src/providers/mod.ts";
import { fromOpenAIError } from "../../src/providers/openai/error.ts";
import { toOpenAIRequest } from "../../src/providers/openai/request.ts";
import { openAIStream } from "../../src/providers/openai/stream.ts";
import type { SseEvent } from "../../src/sse.ts";
import type { ProviderRequest } from "../../src/http/provider_request.ts";

function chat(body: Record<string, unknown>): ChatCompletionRequest {
  const result = parseChatCompletionRequest(body);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.request;
}

function target(): ProviderTarget {
  return { model: "gpt-4o", baseUrl: "https://api.example.com/v1", apiKey: "sk-provider-key" };
}

/** Runs events through a fresh translator, then ends the body, collecting what it emits. */
function streamItems(events: readonly SseEvent[], provider?: string): StreamItem[] {
  const translator = openAIStream(provider);
  const items: StreamItem[] = [];
  const emit = (item: StreamItem) => {
    items.push(item);
  };
  for (const event of events) translator.event(event, emit);
  translator.end(emit);
  return items;
}

async function bodyOf(request: ProviderRequest): Promise<Record<string, unknown>> {
  return await request.json() as Record<string, unknown>;
}

Deno.test("toOpenAIRequest() posts to the chat completions URL with the provider key", async () => {
  const request = toOpenAIRequest(
    chat({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }] }),
    target(),
  );
  assert.equal(request.method, "POST");
  assert.equal(request.url, "https://api.example.com/v1/chat/completions");
  assert.equal(request.headers.get("authorization"), "Bearer sk-provider-key");
  assert.match(request.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(request.headers.get("accept"), "application/json");
  assert.equal((await bodyOf(request)).model, "gpt-4o");
});

Deno.test("toOpenAIRequest() keeps a base URL's path and port", async () => {
  const request = toOpenAIRequest(
    chat({ model: "m", messages: [{ role: "user", content: "x" }] }),
    {
      model: "meta-llama/Llama-3",
      baseUrl: "http://127.0.0.1:8001/v1",
      apiKey: "vllm",
    },
  );
  assert.equal(request.url, "http://127.0.0.1:8001/v1/chat/completions");
  assert.equal((await bodyOf(request)).model, "meta-llama/Llama-3");
});

Deno.test("toOpenAIRequest() passes every field through, with the upstream model name", async () => {
  const client = {
    model: "openai/gpt-4o",
    messages: [
      { role: "system", content: "Be brief.", cache_control: { type: "ephemeral" } },
      {
        role: "user",
        content: [{ type: "text", text: "hi", extra_part_field: 1 }],
        extra_message_field: "kept",
      },
    ],
    temperature: 0.2,
    logit_bias: { "50256": -100 },
    reasoning_effort: "low",
    brand_new_parameter: { nested: [1, { deep: true }] },
  };
  const body = await bodyOf(toOpenAIRequest(chat(structuredClone(client)), target()));
  assert.deepEqual(body, { ...client, model: "gpt-4o" });
});

Deno.test("toOpenAIRequest() asks for usage on streams and keeps the client's stream_options", async (t) => {
  const messages = [{ role: "user", content: "hi" }];
  const cases: [string, Record<string, unknown>, unknown][] = [
    ["no stream_options", {}, { include_usage: true }],
    ["include_usage false", { stream_options: { include_usage: false } }, { include_usage: true }],
    [
      "other stream options kept",
      { stream_options: { include_obfuscation: false, future_option: "x" } },
      { include_obfuscation: false, future_option: "x", include_usage: true },
    ],
  ];
  for (const [name, extra, expected] of cases) {
    await t.step(name, async () => {
      const request = toOpenAIRequest(
        chat({ model: "m", messages, stream: true, ...extra }),
        target(),
      );
      assert.equal(request.headers.get("accept"), "text/event-stream");
      const body = await bodyOf(request);
      assert.equal(body.stream, true);
      assert.deepEqual(body.stream_options, expected);
    });
  }
  await t.step("non-stream requests are left alone", async () => {
    const body = await bodyOf(toOpenAIRequest(chat({ model: "m", messages }), target()));
    assert.ok(!("stream_options" in body));
  });
  await t.step("target.streamUsage false removes stream_options altogether", async () => {
    for (const stream of [true, false]) {
      const request = toOpenAIRequest(
        chat({ model: "m", messages, stream, stream_options: { include_usage: true } }),
        { ...target(), streamUsage: false },
      );
      const body = await bodyOf(request);
      assert.equal(body.stream, stream);
      assert.ok(!("stream_options" in body), JSON.stringify(body));
    }
  });
  await t.step("target.streamUsage true asks for usage", async () => {
    const request = toOpenAIRequest(
      chat({ model: "m", messages, stream: true }),
      { ...target(), streamUsage: true },
    );
    assert.deepEqual((await bodyOf(request)).stream_options, { include_usage: true });
  });
});

Deno.test("fromOpenAIError() hides the upstream text of a rejected provider key", async (t) => {
  const leakedKey = "sk-proj-FAKEKEY0123456789abcdef";
  for (const status of [401, 403]) {
    await t.step(`HTTP ${status}`, async () => {
      const error = fromOpenAIError(status, {
        error: {
          message: `Incorrect API key provided: ${leakedKey}. You can find your API key at ...`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      }, new Headers());
      assert.equal(error.status, 502);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, "upstream_error");
      const text = await errorResponse(error).text();
      assert.ok(!text.includes(leakedKey), text);
      assert.ok(!text.includes("Incorrect API key"), text);
      assert.ok(!text.includes("invalid_api_key"), text);
    });
  }
});

Deno.test("fromOpenAIError() passes on errors about the client's request", async (t) => {
  const cases: [number, Record<string, unknown>][] = [
    [400, {
      message: "'messages' must contain the word 'json'",
      type: "invalid_request_error",
      param: "messages",
      code: "invalid_value",
    }],
    [404, {
      message: "The model `gpt-5-turbo` does not exist",
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    }],
    [413, {
      message: "Request too large",
      type: "invalid_request_error",
      param: null,
      code: "request_too_large",
    }],
    [429, {
      message: "Rate limit reached for gpt-4o",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    }],
  ];
  for (const [status, upstream] of cases) {
    await t.step(`HTTP ${status}`, async () => {
      const error = fromOpenAIError(status, { error: upstream }, new Headers());
      const response = errorResponse(error);
      assert.equal(response.status, status);
      assert.deepEqual(await response.json(), { error: upstream });
    });
  }
  await t.step("429 keeps Retry-After", () => {
    const error = fromOpenAIError(
      429,
      { error: { message: "slow down", type: "rate_limit_error", code: "rate_limit_exceeded" } },
      new Headers({ "retry-after": "7" }),
    );
    assert.equal(errorResponse(error).headers.get("retry-after"), "7");
  });
  await t.step("429 without a type is a rate_limit_error", () => {
    const error = fromOpenAIError(429, { error: { message: "slow down" } }, new Headers());
    assert.equal(error.status, 429);
    assert.equal(error.type, "rate_limit_error");
  });
  await t.step("a numeric code becomes a string", () => {
    const error = fromOpenAIError(400, { error: { message: "bad", code: 1234 } }, new Headers());
    assert.equal(error.code, "1234");
  });
});

Deno.test("fromOpenAIError() maps provider failures to gateway statuses", async (t) => {
  const cases: [number, number, string][] = [
    [500, 502, "upstream_error"],
    [502, 502, "upstream_error"],
    [503, 503, "upstream_overloaded"],
    [504, 504, "upstream_timeout"],
  ];
  for (const [upstream, status, code] of cases) {
    await t.step(`HTTP ${upstream} → ${status} ${code}`, () => {
      const error = fromOpenAIError(
        upstream,
        { error: { message: "The server had an error", type: "server_error", code: null } },
        new Headers(),
      );
      assert.equal(error.status, status);
      assert.equal(error.type, "api_error");
      assert.equal(error.code, code);
      assert.ok(error.message.includes("The server had an error"), error.message);
    });
  }
});

Deno.test("fromOpenAIError() copes with a body that is not OpenAI's error JSON", async (t) => {
  const bodies: [string, unknown][] = [
    ["HTML text", "<html><body>502 Bad Gateway</body></html>"],
    ["undefined", undefined],
    ["null", null],
    ["an array", [1, 2]],
    ["error is a string", { error: "boom" }],
  ];
  for (const [name, body] of bodies) {
    await t.step(`500 with ${name}`, () => {
      const error = fromOpenAIError(500, body, new Headers());
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_error");
      assert.match(error.message, /500/);
    });
    await t.step(`400 with ${name}`, () => {
      const error = fromOpenAIError(400, body, new Headers());
      assert.equal(error.status, 400);
      assert.equal(error.type, "invalid_request_error");
      assert.match(error.message, /400/);
    });
  }
});

Deno.test("openAIStream() passes chunks on in order, verbatim, then done", () => {
  const first =
    '{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}';
  const second = '{ "id" : "c1", "choices" : [ {"index":0,"delta":{"content":"Hi"}} ] }';
  const usage =
    '{"id":"c1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}';
  const items = streamItems([
    { data: first },
    { data: second },
    { data: usage },
    { data: "[DONE]" },
  ]);
  assert.deepEqual(items, [
    { type: "raw", raw: first, nullUsage: false },
    { type: "raw", raw: second, nullUsage: false },
    { type: "chunk", chunk: JSON.parse(usage), raw: usage },
    { type: "done" },
  ]);
});

Deno.test("openAIStream() passes a chunk whose error field is null", () => {
  const data = '{"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"error":null}';
  assert.deepEqual(streamItems([{ data }]), [
    { type: "chunk", chunk: JSON.parse(data), raw: data },
  ]);
});

Deno.test("openAIStream() turns bad events into error items", async (t) => {
  const cases: [string, SseEvent, number, string][] = [
    [
      "error object",
      { data: '{"error":{"message":"boom","type":"server_error","code":"overloaded"}}' },
      502,
      "overloaded",
    ],
    ["error object without code", { data: '{"error":{"message":"boom"}}' }, 502, "upstream_error"],
    [
      "event: error",
      { event: "error", data: '{"choices":[],"message":"boom"}' },
      502,
      "upstream_error",
    ],
    ["not JSON", { data: "this is not json" }, 502, "upstream_error"],
    ["truncated JSON", { data: '{"choices":[' }, 502, "upstream_error"],
    ["JSON that is not a chunk", { data: '{"hello":"world"}' }, 502, "upstream_error"],
    ["JSON array", { data: "[1,2]" }, 502, "upstream_error"],
  ];
  for (const [name, event, status, code] of cases) {
    await t.step(name, () => {
      const items = streamItems([event]);
      assert.equal(items.length, 1);
      const [item] = items;
      assert.ok(item?.type === "error", JSON.stringify(item));
      const error: GatewayError = item.error;
      assert.equal(error.status, status);
      assert.equal(error.code, code);
    });
  }
  await t.step("the provider's message is kept", () => {
    const [item] = streamItems([{ data: '{"error":{"message":"context too long"}}' }]);
    assert.ok(item?.type === "error");
    assert.match(item.error.message, /context too long/);
  });
});

Deno.test("openAIStream() names its provider in the errors it emits", () => {
  const [item] = streamItems([{ data: "this is not json" }], "azure_openai");
  assert.ok(item?.type === "error", JSON.stringify(item));
  assert.match(item.error.message, /^azure_openai /);
});

Deno.test("openAIStream() passes plain chunks on without parsing, and parses what it must read", async (t) => {
  const cases: [string, string, Record<string, unknown>][] = [
    ["plain chunk", '{"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]}', {
      type: "raw",
      nullUsage: false,
    }],
    ["usage:null", '{"id":"c","choices":[],"usage":null}', { type: "raw", nullUsage: true }],
    ["spaced usage: null", '{"id": "c", "choices": [], "usage": null}', {
      type: "raw",
      nullUsage: true,
    }],
    [
      'content mentioning "usage"',
      '{"id":"c","choices":[{"index":0,"delta":{"content":"\\"usage\\":null"}}]}',
      { type: "raw", nullUsage: false },
    ],
    [
      "usage numbers",
      '{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}',
      { type: "chunk" },
    ],
    ["error object", '{"error":{"message":"boom","type":"server_error"}}', { type: "error" }],
    ["error:null", '{"id":"c","choices":[],"error":null}', { type: "chunk" }],
  ];
  for (const [name, data, expected] of cases) {
    await t.step(name, () => {
      const items: StreamItem[] = [];
      openAIStream().event({ data }, (item) => items.push(item));
      assert.equal(items.length, 1);
      const [item] = items;
      for (const [key, value] of Object.entries(expected)) {
        assert.equal((item as unknown as Record<string, unknown>)[key], value, `${key} of ${data}`);
      }
      if (item?.type === "raw") assert.equal(item.raw, data, "sent byte for byte");
    });
  }
});
