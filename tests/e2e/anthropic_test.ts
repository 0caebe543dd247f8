/**
 * Claude models end to end: the official `openai` client → the gateway → a fake Anthropic Messages
 * API that validates requests as the real one does. For the client, Claude is indistinguishable
 * from an OpenAI model.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { CLIENT_KEY, openaiClient, startGateway, type TestGateway } from "../_helpers/gateway.ts";
import {
  ANTHROPIC_KEY,
  anthropicError,
  anthropicSse,
  type FakeAnthropic,
  startFakeAnthropic,
} from "../_helpers/fake_anthropic.ts";

function gatewayFor(upstream: FakeAnthropic): TestGateway {
  return startGateway({
    env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: upstream.baseUrl },
  });
}

const SSE = { "content-type": "text/event-stream; charset=utf-8" };

Deno.test("Claude, non-stream: text, usage, provider key and headers", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  const completion = await openaiClient(gateway).chat.completions.create({
    model: "claude-sonnet-4-5",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "How are you?" },
    ],
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices[0]?.message.content, "Hello from Claude");
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.deepEqual(
    [
      completion.usage?.prompt_tokens,
      completion.usage?.completion_tokens,
      completion.usage?.total_tokens,
    ],
    [12, 6, 18],
  );
  const [seen] = upstream.requests;
  assert.equal(seen?.headers.get("x-api-key"), ANTHROPIC_KEY);
  assert.equal(seen?.headers.get("authorization"), null);
  for (const [, value] of seen?.headers ?? []) assert.ok(!value.includes(CLIENT_KEY));
  assert.equal(seen?.body?.system !== undefined, true, "system message lifted to the top level");
  assert.equal(typeof seen?.body?.max_tokens, "number", "max_tokens always sent");
});

Deno.test("Claude, stream: deltas, one id, usage only when asked, [DONE]", async (t) => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  for (const includeUsage of [false, true]) {
    await t.step(`include_usage ${includeUsage}`, async () => {
      const stream = await openaiClient(gateway).chat.completions.create({
        model: "anthropic/claude-sonnet-4-5",
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: "user", content: "Hi" }],
      });
      let text = "";
      const ids = new Set<string>();
      let finish: string | null = null;
      let usageChunks = 0;
      for await (const chunk of stream) {
        ids.add(chunk.id);
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage !== undefined && chunk.usage !== null) usageChunks++;
      }
      assert.equal(text, "Hello from Claude");
      assert.equal(ids.size, 1);
      assert.equal(finish, "stop");
      assert.equal(usageChunks, includeUsage ? 1 : 0);
    });
  }
});

Deno.test("Claude tools: parallel calls, non-stream and stream, and the results round trip", async (t) => {
  const toolUse = (id: string, city: string) => ({
    type: "tool_use",
    id,
    name: "weather",
    input: { city },
  });
  await using upstream = startFakeAnthropic((body) => {
    const messages = body.messages as { role: string }[];
    if (messages.length > 1) return undefined; // the round trip: validated, default answer
    if (body.stream === true) {
      const events = [
        {
          type: "message_start",
          message: {
            id: "msg_t",
            type: "message",
            role: "assistant",
            model: body.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 30, output_tokens: 1 },
          },
        },
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking." } },
        { type: "content_block_stop", index: 0 },
        {
          type: "content_block_start",
          index: 1,
          content_block: { type: "tool_use", id: "toolu_1", name: "weather", input: {} },
        },
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: "" },
        },
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '{"city":' },
        },
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '"Paris"}' },
        },
        { type: "content_block_stop", index: 1 },
        {
          type: "content_block_start",
          index: 2,
          content_block: { type: "tool_use", id: "toolu_2", name: "weather", input: {} },
        },
        {
          type: "content_block_delta",
          index: 2,
          delta: { type: "input_json_delta", partial_json: '{"city":"Rome"}' },
        },
        { type: "content_block_stop", index: 2 },
        {
          type: "message_delta",
          delta: { stop_reason: "tool_use", stop_sequence: null },
          usage: { output_tokens: 40 },
        },
        { type: "message_stop" },
      ];
      return new Response(anthropicSse(events), { headers: SSE });
    }
    return Response.json({
      id: "msg_t",
      type: "message",
      role: "assistant",
      model: body.model,
      content: [toolUse("toolu_1", "Paris"), toolUse("toolu_2", "Rome")],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 30, output_tokens: 40 },
    });
  });
  await using gateway = gatewayFor(upstream);
  const client = openaiClient(gateway);
  const tools = [{
    type: "function" as const,
    function: {
      name: "weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  }];
  const question = { role: "user" as const, content: "Weather in Paris and Rome?" };
  await t.step("non-stream", async () => {
    const completion = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      tools,
      messages: [question],
    });
    const message = completion.choices[0]?.message;
    assert.equal(completion.choices[0]?.finish_reason, "tool_calls");
    assert.equal(message?.content, null);
    assert.deepEqual(
      message?.tool_calls?.map((c) =>
        c.type === "function" ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : []
      ),
      [["toolu_1", "weather", { city: "Paris" }], ["toolu_2", "weather", { city: "Rome" }]],
    );
  });
  await t.step("stream: dense tool indexes, arguments in pieces", async () => {
    const stream = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      tools,
      stream: true,
      messages: [question],
    });
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    let finish: string | null = null;
    let text = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        const slot = calls[call.index] ?? (calls[call.index] = { arguments: "" });
        if (call.id !== undefined) slot.id = call.id;
        if (call.function?.name !== undefined) slot.name = call.function.name;
        slot.arguments += call.function?.arguments ?? "";
      }
    }
    assert.equal(text, "Checking.");
    assert.equal(finish, "tool_calls");
    assert.deepEqual(calls.map((c) => [c.id, c.name, JSON.parse(c.arguments)]), [
      ["toolu_1", "weather", { city: "Paris" }],
      ["toolu_2", "weather", { city: "Rome" }],
    ]);
  });
  await t.step("results of both calls go back in one user turn, first", async () => {
    const completion = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      tools,
      messages: [
        question,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_1",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Paris"}' },
            },
            {
              id: "toolu_2",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "18°C" },
        { role: "tool", tool_call_id: "toolu_2", content: "24°C" },
        { role: "user", content: "Which is warmer?" },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, "Hello from Claude");
    const sent = upstream.requests.at(-1)?.body?.messages as {
      role: string;
      content: { type: string }[];
    }[];
    assert.deepEqual(sent.map((m) => m.role), ["user", "assistant", "user"]);
    assert.deepEqual(sent[2]?.content.map((b) => b.type), ["tool_result", "tool_result", "text"]);
  });
});

Deno.test("Claude images, JSON mode and stop sequences are translated, not refused", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  const client = openaiClient(gateway);
  await client.chat.completions.create({
    model: "claude-sonnet-4-5",
    stop: ["END", "   "],
    response_format: { type: "json_object" },
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
      ],
    }],
  });
  const body = upstream.requests.at(-1)?.body;
  assert.deepEqual(body?.stop_sequences, ["END"]);
  assert.match(
    JSON.stringify(body?.system),
    /JSON object/,
    "JSON mode asked for in the system prompt",
  );
  const content = (body?.messages as { content: Record<string, unknown>[] }[])[0]?.content ?? [];
  assert.deepEqual(content.map((b) => b.type), ["text", "image", "image"]);
  assert.deepEqual(content[1]?.source, {
    type: "base64",
    media_type: "image/png",
    data: "iVBORw0KGgo=",
  });
  assert.deepEqual(content[2]?.source, { type: "url", url: "https://example.com/cat.jpg" });
});

Deno.test("Claude structured output: json_schema becomes output_config.format", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  const schema = {
    type: "object",
    properties: { answer: { type: "string" } },
    required: ["answer"],
  };
  await openaiClient(gateway).chat.completions.create({
    model: "claude-sonnet-4-5",
    response_format: { type: "json_schema", json_schema: { name: "reply", schema, strict: true } },
    messages: [{ role: "user", content: "Answer in JSON" }],
  });
  assert.deepEqual(upstream.requests.at(-1)?.body?.output_config, {
    format: { type: "json_schema", schema },
  });
});

Deno.test("Claude: unsupported parameters are 400 naming them; temperature above 1 is clamped and said", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  const client = openaiClient(gateway);
  const refused = await client.chat.completions
    .create({ model: "claude-sonnet-4-5", n: 2, messages: [{ role: "user", content: "Hi" }] })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof OpenAI.BadRequestError);
  assert.equal(refused.param, "n");
  assert.equal(upstream.requests.length, 0);
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      temperature: 1.5,
      seed: 7,
      messages: [{ role: "user", content: "Hi" }],
    }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-choreoai-adjusted"), "temperature");
  await response.body?.cancel();
  assert.equal(upstream.requests.at(-1)?.body?.temperature, 1);
});

Deno.test("Claude errors map as DESIGN.md says, and a mid-stream error ends the stream", async (t) => {
  const cases = [
    {
      status: 400,
      type: "invalid_request_error",
      expected: 400,
      errorClass: OpenAI.BadRequestError,
    },
    {
      status: 401,
      type: "authentication_error",
      expected: 502,
      errorClass: OpenAI.InternalServerError,
    },
    {
      status: 403,
      type: "permission_error",
      expected: 502,
      errorClass: OpenAI.InternalServerError,
    },
    { status: 404, type: "not_found_error", expected: 404, errorClass: OpenAI.NotFoundError },
    { status: 413, type: "request_too_large", expected: 413, errorClass: OpenAI.APIError },
    { status: 429, type: "rate_limit_error", expected: 429, errorClass: OpenAI.RateLimitError },
    { status: 500, type: "api_error", expected: 502, errorClass: OpenAI.InternalServerError },
    {
      status: 529,
      type: "overloaded_error",
      expected: 503,
      errorClass: OpenAI.InternalServerError,
    },
  ];
  for (const c of cases) {
    await t.step(`Anthropic ${c.status} → ${c.expected}`, async () => {
      await using upstream = startFakeAnthropic(() => {
        const response = anthropicError(c.status, c.type, `fake ${c.type} with ${ANTHROPIC_KEY}`);
        if (c.status === 429) response.headers.set("retry-after", "9");
        return response;
      });
      await using gateway = gatewayFor(upstream);
      const error = await openaiClient(gateway).chat.completions
        .create({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Hi" }] })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof c.errorClass, String(error));
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, c.expected);
      if (c.status === 401 || c.status === 403) assert.ok(!error.message.includes(ANTHROPIC_KEY));
      if (c.status === 429) assert.equal(error.headers.get("retry-after"), "9");
    });
  }
  await t.step("error event mid-stream", async () => {
    await using upstream = startFakeAnthropic((body) =>
      new Response(
        anthropicSse([
          {
            type: "message_start",
            message: {
              id: "msg_e",
              type: "message",
              role: "assistant",
              model: body.model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 5, output_tokens: 1 },
            },
          },
          { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Partial" } },
          { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
        ]),
        { headers: SSE },
      )
    );
    await using gateway = gatewayFor(upstream);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "claude-sonnet-4-5",
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

Deno.test("Claude: a tool result that answers no earlier call is our 400, before any upstream call", async (t) => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  await t.step("the fake refuses it as Anthropic does", async () => {
    const response = await fetch(`${upstream.baseUrl}/v1/messages`, {
      method: "POST",
      headers: {
        "x-api-key": ANTHROPIC_KEY,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
      body: JSON.stringify({
        model: "claude-sonnet-4-5",
        max_tokens: 10,
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello" },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "call_x", content: "1" }] },
        ],
      }),
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /unexpected `tool_use_id`/);
  });
  await t.step("the gateway refuses it itself, naming the message and the id", async () => {
    upstream.requests.length = 0;
    const error = await openaiClient(gateway).chat.completions.create({
      model: "claude-sonnet-4-5",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
        { role: "tool", tool_call_id: "call_x", content: "1" },
      ],
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, "messages[2].tool_call_id");
    assert.equal(error.code, "invalid_request");
    assert.match(error.message, /"call_x"/);
    assert.equal(upstream.requests.length, 0);
  });
});

Deno.test("Claude: Anthropic's 404 for an unknown model is model_not_found", async () => {
  await using upstream = startFakeAnthropic((body) =>
    body.model === "claude-x"
      ? anthropicError(404, "not_found_error", "model: claude-x")
      : undefined
  );
  await using gateway = gatewayFor(upstream);
  const error = await openaiClient(gateway).chat.completions
    .create({ model: "claude-x", messages: [{ role: "user", content: "Hi" }] })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof OpenAI.NotFoundError, String(error));
  assert.equal(error.code, "model_not_found");
  assert.equal(error.param, "model");
  assert.match(error.message, /model: claude-x/);
});

Deno.test("/v1/models lists Anthropic's models as anthropic/<id>", async () => {
  await using upstream = startFakeAnthropic();
  await using gateway = gatewayFor(upstream);
  const ids = [];
  for await (const model of openaiClient(gateway).models.list()) ids.push(model.id);
  assert.deepEqual(ids, ["choreoai/echo", "anthropic/claude-sonnet-4-5"]);
  const listed = upstream.requests.find((r) => r.path === "/v1/models");
  assert.equal(listed?.headers.get("x-api-key"), ANTHROPIC_KEY);
  assert.equal(listed?.headers.get("anthropic-version"), "2023-06-01");
});
