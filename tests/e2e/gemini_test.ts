/**
 * Gemini models end to end: the official `openai` client → the gateway → a fake Gemini API that
 * validates requests as the real one does. For the client, Gemini behaves like an OpenAI model.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { CLIENT_KEY, openaiClient, startGateway, type TestGateway } from "../_helpers/gateway.ts";
import {
  FAKE_GEMINI_THOUGHT,
  type FakeGemini,
  GEMINI_KEY,
  geminiError,
  geminiSse,
  generateBody,
  startFakeGemini,
} from "../_helpers/fake_gemini.ts";

function gatewayFor(upstream: FakeGemini): TestGateway {
  return startGateway({ env: { GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: upstream.baseUrl } });
}

const SSE = { "content-type": "text/event-stream" };

Deno.test("Gemini, non-stream: text, system, turns, usage, the key in a header only", async () => {
  await using upstream = startFakeGemini();
  await using gateway = gatewayFor(upstream);
  const completion = await openaiClient(gateway).chat.completions.create({
    model: "gemini-2.5-flash",
    max_tokens: 50,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "How are you?" },
    ],
  });
  assert.equal(completion.choices[0]?.message.content, "Hello from Gemini");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.deepEqual(
    [
      completion.usage?.prompt_tokens,
      completion.usage?.completion_tokens,
      completion.usage?.total_tokens,
    ],
    [11, 7, 18],
  );
  const [seen] = upstream.requests;
  assert.equal(seen?.path, "/v1beta/models/gemini-2.5-flash:generateContent");
  assert.equal(seen?.search, "");
  assert.equal(seen?.headers.get("x-goog-api-key"), GEMINI_KEY);
  for (const [, value] of seen?.headers ?? []) assert.ok(!value.includes(CLIENT_KEY));
  const body = seen?.body as {
    contents: { role: string }[];
    systemInstruction: unknown;
    generationConfig: { maxOutputTokens: number };
  };
  assert.deepEqual(body.contents.map((c) => c.role), ["user", "model", "user"]);
  assert.ok(body.systemInstruction !== undefined);
  assert.equal(body.generationConfig.maxOutputTokens, 50);
});

Deno.test("Gemini, stream: alt=sse, deltas, usage only when asked, [DONE]", async (t) => {
  await using upstream = startFakeGemini();
  await using gateway = gatewayFor(upstream);
  for (const includeUsage of [false, true]) {
    await t.step(`include_usage ${includeUsage}`, async () => {
      const stream = await openaiClient(gateway).chat.completions.create({
        model: "gemini/gemini-2.5-flash",
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: "user", content: "Hi" }],
      });
      let text = "";
      let finish: string | null = null;
      let usage = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage !== undefined && chunk.usage !== null) usage++;
      }
      assert.equal(text, "Hello from Gemini");
      assert.equal(finish, "stop");
      assert.equal(usage, includeUsage ? 1 : 0);
      const seen = upstream.requests.at(-1);
      assert.equal(seen?.path, "/v1beta/models/gemini-2.5-flash:streamGenerateContent");
      assert.equal(seen?.search, "?alt=sse");
    });
  }
});

/** The reasoning text a chat message or delta carries (a field the openai client does not type). */
function reasoningOf(message: unknown): string | undefined {
  return (message as { reasoning_content?: string } | undefined)?.reasoning_content;
}

/** The thinkingConfig of the last request the fake received. */
function thinkingSent(upstream: FakeGemini): unknown {
  const config = upstream.requests.at(-1)?.body?.generationConfig as
    | { thinkingConfig?: unknown }
    | undefined;
  return config?.thinkingConfig;
}

Deno.test("Gemini thinking: reasoning_effort → thinkingConfig, thoughts as reasoning_content", async (t) => {
  await using upstream = startFakeGemini();
  await using gateway = gatewayFor(upstream);
  const client = openaiClient(gateway);
  const messages = [{ role: "user" as const, content: "Hi" }];
  await t.step("2.5 Flash, non-stream: a budget, and the thought summary", async () => {
    const { data, response } = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      reasoning_effort: "low",
      messages,
    }).withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from Gemini");
    assert.equal(reasoningOf(data.choices[0]?.message), FAKE_GEMINI_THOUGHT);
    assert.deepEqual(thinkingSent(upstream), { thinkingBudget: 4096, includeThoughts: true });
    assert.equal(response.headers.get("x-choreoai-adjusted"), null);
  });
  await t.step("2.5 Flash, stream: reasoning_content deltas before the content", async () => {
    const stream = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      reasoning_effort: "high",
      stream: true,
      messages,
    });
    const kinds: string[] = [];
    let reasoning = "";
    let text = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      const thought = reasoningOf(delta);
      if (thought !== undefined) {
        reasoning += thought;
        kinds.push("reasoning");
      }
      if (delta?.content) {
        text += delta.content;
        kinds.push("content");
      }
    }
    assert.equal(reasoning, FAKE_GEMINI_THOUGHT);
    assert.equal(text, "Hello from Gemini");
    assert.equal(kinds[0], "reasoning");
    assert.deepEqual(thinkingSent(upstream), { thinkingBudget: 24576, includeThoughts: true });
  });
  await t.step("Gemini 3 Pro: a level; minimal, which Pro lacks, is low and named", async () => {
    const { data, response } = await client.chat.completions.create({
      model: "gemini-3.1-pro-preview",
      reasoning_effort: "minimal",
      messages,
    }).withResponse();
    assert.equal(reasoningOf(data.choices[0]?.message), FAKE_GEMINI_THOUGHT);
    assert.deepEqual(thinkingSent(upstream), { thinkingLevel: "low", includeThoughts: true });
    assert.equal(response.headers.get("x-choreoai-adjusted"), "reasoning_effort");
  });
  await t.step("2.5 Pro, none: its least budget (it refuses 0), no thoughts", async () => {
    const { data, response } = await client.chat.completions.create({
      model: "gemini-2.5-pro",
      reasoning_effort: "none",
      messages,
    }).withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from Gemini");
    assert.equal(reasoningOf(data.choices[0]?.message), undefined);
    assert.deepEqual(thinkingSent(upstream), { thinkingBudget: 128 });
    assert.equal(response.headers.get("x-choreoai-adjusted"), "reasoning_effort");
  });
  await t.step("an effort OpenAI does not define: 400 naming reasoning_effort", async () => {
    const sent = upstream.requests.length;
    await assert.rejects(
      client.chat.completions.create({
        model: "gemini-2.5-flash",
        reasoning_effort: "turbo" as "low",
        messages,
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && error.param === "reasoning_effort",
    );
    assert.equal(upstream.requests.length, sent, "nothing reached Gemini");
  });
  await t.step(
    "without reasoning_effort: no thinkingConfig, the message keeps OpenAI's shape",
    async () => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gemini-2.5-flash", messages }),
      });
      const body = await response.json() as { choices: { message: Record<string, unknown> }[] };
      assert.deepEqual(Object.keys(body.choices[0]?.message ?? {}).sort(), [
        "content",
        "refusal",
        "role",
      ]);
      assert.equal(thinkingSent(upstream), undefined);
    },
  );
});

Deno.test("Gemini tools: schema cleaned, parallel calls with ids, results round trip", async (t) => {
  const calls = [
    { functionCall: { name: "weather", args: { city: "Paris" } } },
    { functionCall: { name: "weather", args: { city: "Rome" } } },
  ];
  await using upstream = startFakeGemini((body, stream) => {
    const contents = body.contents as unknown[];
    if (contents.length > 1) return undefined;
    if (stream) {
      return new Response(
        geminiSse([generateBody(calls, null), generateBody([{ text: "" }], "STOP")]),
        { headers: SSE },
      );
    }
    return Response.json(generateBody(calls));
  });
  await using gateway = gatewayFor(upstream);
  const client = openaiClient(gateway);
  const tools = [{
    type: "function" as const,
    function: {
      name: "weather",
      parameters: {
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        additionalProperties: false,
        properties: { city: { type: "string" } },
        required: ["city"],
      },
    },
  }];
  const question = { role: "user" as const, content: "Weather in Paris and Rome?" };
  let ids: string[] = [];
  await t.step("non-stream", async () => {
    const completion = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      tools,
      messages: [question],
    });
    assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
    const toolCalls = completion.choices[0]?.message.tool_calls ?? [];
    assert.deepEqual(
      toolCalls.map((c) =>
        c.type === "function" ? [c.function.name, JSON.parse(c.function.arguments)] : []
      ),
      [["weather", { city: "Paris" }], ["weather", { city: "Rome" }]],
    );
    ids = toolCalls.map((c) => c.id);
    assert.equal(new Set(ids).size, 2, "distinct ids");
  });
  await t.step("stream: STOP after the calls still means tool_calls", async () => {
    const stream = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      tools,
      stream: true,
      messages: [question],
    });
    let finish: string | null = null;
    const indexes: number[] = [];
    for await (const chunk of stream) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) indexes.push(call.index);
    }
    assert.equal(finish, "tool_calls");
    assert.deepEqual(indexes, [0, 1]);
  });
  await t.step("both results in one user turn, names found from the call ids", async () => {
    const completion = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      tools,
      messages: [
        question,
        {
          role: "assistant",
          content: null,
          tool_calls: ids.map((id, k) => ({
            id,
            type: "function" as const,
            function: {
              name: "weather",
              arguments: JSON.stringify({ city: ["Paris", "Rome"][k] }),
            },
          })),
        },
        { role: "tool", tool_call_id: ids[0] ?? "", content: "18°C" },
        { role: "tool", tool_call_id: ids[1] ?? "", content: "24°C" },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, "Hello from Gemini");
    const contents = upstream.requests.at(-1)?.body?.contents as {
      role: string;
      parts: Record<string, { name?: string }>[];
    }[];
    assert.deepEqual(contents.map((c) => c.role), ["user", "model", "user"]);
    assert.deepEqual(contents[2]?.parts.map((p) => p.functionResponse?.name), [
      "weather",
      "weather",
    ]);
  });
});

Deno.test("Gemini images (data URL and http(s) URL), JSON mode, max tokens and a safety block", async (t) => {
  await using upstream = startFakeGemini((body) => {
    const contents = body.contents as { parts: Record<string, unknown>[] }[];
    const text = JSON.stringify(contents);
    if (text.includes("blocked please")) {
      return Response.json({
        promptFeedback: { blockReason: "SAFETY" },
        usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
      });
    }
    if (text.includes("long please")) {
      return Response.json(generateBody([{ text: "Cut sho" }], "MAX_TOKENS"));
    }
    return undefined;
  });
  await using gateway = gatewayFor(upstream);
  const client = openaiClient(gateway);
  await t.step("image and JSON mode", async () => {
    await client.chat.completions.create({
      model: "gemini-2.5-flash",
      response_format: { type: "json_object" },
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        ],
      }],
    });
    const body = upstream.requests.at(-1)?.body as {
      contents: { parts: Record<string, unknown>[] }[];
      generationConfig: { responseMimeType?: string };
    };
    assert.deepEqual(body.contents[0]?.parts[1], {
      inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" },
    });
    assert.equal(body.generationConfig.responseMimeType, "application/json");
  });
  await t.step("an http(s) image URL goes as fileData for Gemini to fetch", async () => {
    const url = "https://bucket.example.com/cat.jpg?X-Amz-Signature=ab12";
    const completion = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url } },
        ],
      }],
    });
    assert.equal(completion.choices[0]?.message.content, "Hello from Gemini");
    const body = upstream.requests.at(-1)?.body as {
      contents: { parts: Record<string, unknown>[] }[];
    };
    assert.deepEqual(body.contents[0]?.parts[1], {
      fileData: { fileUri: url, mimeType: "image/jpeg" },
    });
  });
  await t.step("a type Gemini does not fetch gets Gemini's own 400", async () => {
    const error = await client.chat.completions
      .create({
        model: "gemini-2.5-flash",
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "https://example.com/cat.gif" } }],
        }],
      })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.match(error.message, /Unsupported MIME type: image\/gif/);
  });
  await t.step("MAX_TOKENS → length", async () => {
    const completion = await client.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "long please" }],
    });
    assert.equal(completion.choices[0]?.finish_reason, "length");
  });
  await t.step("a blocked prompt is refused clearly, not answered with nothing", async () => {
    const result = await client.chat.completions
      .create({
        model: "gemini-2.5-flash",
        messages: [{ role: "user", content: "blocked please" }],
      })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(result instanceof OpenAI.BadRequestError, String(result));
    assert.equal(result.code, "content_filter");
    assert.match(result.message, /SAFETY/);
  });
});

Deno.test("with CHOREOAI_FETCH_IMAGE_URLS=true, 17 image URLs are a 400 naming the limit of 16, none fetched", async () => {
  await using upstream = startFakeGemini();
  const resolved: string[] = [];
  await using gateway = startGateway({
    env: {
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: upstream.baseUrl,
      CHOREOAI_FETCH_IMAGE_URLS: "true",
    },
    resolveDns: (host) => {
      resolved.push(host);
      return Promise.resolve([]);
    },
  });
  const urls = Array.from({ length: 17 }, (_, i) => `https://images.example.com/${i}.png`);
  const error = await openaiClient(gateway).chat.completions
    .create({
      model: "gemini-2.5-flash",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "Compare these" },
          ...urls.map((url) => ({ type: "image_url" as const, image_url: { url } })),
        ],
      }],
    })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof OpenAI.BadRequestError, String(error));
  assert.equal(error.type, "invalid_request_error");
  assert.equal(error.param, "messages");
  assert.match(error.message, /at most 16 image URLs/);
  assert.match(error.message, /has 17/);
  assert.deepEqual(resolved, [], "no host looked up");
  assert.equal(upstream.requests.length, 0);
});

Deno.test("Gemini errors map as DESIGN.md says, and a mid-stream error ends the stream", async (t) => {
  const cases = [
    { code: 400, status: "INVALID_ARGUMENT", expected: 400, reason: undefined },
    { code: 400, status: "INVALID_ARGUMENT", expected: 502, reason: "API_KEY_INVALID" },
    { code: 403, status: "PERMISSION_DENIED", expected: 502, reason: undefined },
    { code: 404, status: "NOT_FOUND", expected: 404, reason: undefined },
    { code: 429, status: "RESOURCE_EXHAUSTED", expected: 429, reason: undefined },
    { code: 500, status: "INTERNAL", expected: 502, reason: undefined },
    { code: 503, status: "UNAVAILABLE", expected: 503, reason: undefined },
    { code: 504, status: "DEADLINE_EXCEEDED", expected: 504, reason: undefined },
  ];
  for (const c of cases) {
    await t.step(`${c.code} ${c.reason ?? c.status} → ${c.expected}`, async () => {
      await using upstream = startFakeGemini(() =>
        geminiError(c.code, c.status, `fake ${c.status} ${GEMINI_KEY}`, c.reason)
      );
      await using gateway = gatewayFor(upstream);
      const error = await openaiClient(gateway).chat.completions
        .create({ model: "gemini-2.5-flash", messages: [{ role: "user", content: "Hi" }] })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, c.expected);
      if (c.expected === 502 && c.code < 500) assert.ok(!error.message.includes(GEMINI_KEY));
    });
  }
  await t.step("error chunk mid-stream", async () => {
    await using upstream = startFakeGemini(() =>
      new Response(
        geminiSse([
          generateBody([{ text: "Partial" }], null),
          { error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } },
        ]),
        { headers: SSE },
      )
    );
    await using gateway = gatewayFor(upstream);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gemini-2.5-flash",
        stream: true,
        messages: [{ role: "user", content: "Hi" }],
      }),
    });
    const text = await response.text();
    assert.match(text, /"content":"Partial"/);
    assert.ok(!text.includes("[DONE]"));
    assert.match(text.trim().split("\n\n").at(-1) ?? "", /"error":\{/);
  });
});

Deno.test("/v1/models lists Gemini's models as gemini/<id>", async () => {
  await using upstream = startFakeGemini();
  await using gateway = gatewayFor(upstream);
  const ids = [];
  for await (const model of openaiClient(gateway).models.list()) ids.push(model.id);
  assert.deepEqual(ids, ["choreoai/echo", "gemini/gemini-2.5-flash"]);
  const listed = upstream.requests.find((r) => r.path === "/v1beta/models");
  assert.equal(listed?.headers.get("x-goog-api-key"), GEMINI_KEY);
  assert.ok(!listed?.search.includes("key="));
});
