import assert from "node:assert/strict";
import { errors } from "../../../src/errors.ts";
import {
  createNativeStreamWriter,
  nativeAnswerUsage,
  nativeFinishReasons,
  toNativeCountTokensRequest,
  toNativeMessagesRequest,
} from "../../../src/providers/anthropic/native.ts";

const TARGET = {
  model: "claude-sonnet-4-5",
  baseUrl: "https://api.example.com/",
  apiKey: "sk-ant",
};

Deno.test("toNativeMessagesRequest() sends the client's body with the upstream model", async (t) => {
  const body = {
    model: "claude",
    max_tokens: 10,
    stream: true,
    messages: [{
      role: "user",
      content: [{ type: "text", text: "Hi", cache_control: { type: "ephemeral" } }],
    }],
    some_new_field: { kept: true },
  };
  await t.step("body, URL and headers", async () => {
    const request = toNativeMessagesRequest(body, TARGET, { version: "2026-10-21", beta: "a,b" });
    assert.equal(request.method, "POST");
    assert.equal(request.url, "https://api.example.com/v1/messages");
    assert.deepEqual(await request.json(), { ...body, model: "claude-sonnet-4-5" });
    assert.equal(request.headers.get("x-api-key"), "sk-ant");
    assert.equal(request.headers.get("authorization"), null);
    assert.equal(request.headers.get("anthropic-version"), "2026-10-21");
    assert.equal(request.headers.get("anthropic-beta"), "a,b");
    assert.equal(request.headers.get("accept"), "text/event-stream");
    assert.equal(body.model, "claude", "the body itself is unchanged");
  });
  await t.step("the default version, no beta header when the client sent none", () => {
    const request = toNativeMessagesRequest({ ...body, stream: false }, TARGET, {
      version: null,
      beta: null,
    });
    assert.equal(request.headers.get("anthropic-version"), "2023-06-01");
    assert.equal(request.headers.has("anthropic-beta"), false);
    assert.equal(request.headers.get("accept"), "application/json");
  });
  await t.step("count_tokens", () => {
    const request = toNativeCountTokensRequest({ model: "c", messages: [] }, TARGET, {
      version: null,
      beta: null,
    });
    assert.equal(request.url, "https://api.example.com/v1/messages/count_tokens");
  });
});

Deno.test("nativeAnswerUsage() counts cache reads and writes as prompt tokens", async (t) => {
  const cases: [string, unknown, unknown][] = [
    [
      "all counts",
      {
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 7,
        },
      },
      {
        prompt_tokens: 117,
        completion_tokens: 5,
        total_tokens: 122,
        cache_read_tokens: 100,
        cache_write_tokens: 7,
      },
    ],
    [
      "null cache counts",
      { usage: { input_tokens: 3, output_tokens: 2, cache_read_input_tokens: null } },
      { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    ],
    ["no usage", { type: "message" }, undefined],
    ["not an object", "text", undefined],
  ];
  for (const [name, body, usage] of cases) {
    await t.step(name, () => assert.deepEqual(nativeAnswerUsage(body), usage));
  }
});

Deno.test("nativeFinishReasons() maps stop_reason to OpenAI's words", async (t) => {
  const cases: [string, unknown, string[] | undefined][] = [
    ["end_turn", { stop_reason: "end_turn" }, ["stop"]],
    ["max_tokens", { stop_reason: "max_tokens" }, ["length"]],
    ["tool_use", { stop_reason: "tool_use" }, ["tool_calls"]],
    ["refusal", { stop_reason: "refusal" }, ["content_filter"]],
    ["a reason added later", { stop_reason: "new_reason" }, ["stop"]],
    ["null (a stream's message_start)", { stop_reason: null }, undefined],
    ["missing", { type: "message" }, undefined],
  ];
  for (const [name, message, expected] of cases) {
    await t.step(name, () => assert.deepEqual(nativeFinishReasons(message), expected));
  }
});

const event = (name: string, data: Record<string, unknown>) => ({
  event: name,
  data: JSON.stringify({ type: name, ...data }),
});
const START = event("message_start", {
  message: {
    id: "msg_1",
    usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 1 },
  },
});
const DELTA = event("message_delta", {
  delta: { stop_reason: "end_turn" },
  usage: { output_tokens: 12 },
});
const STOP = event("message_stop", {});

function frame(e: { event: string; data: string }): string {
  return `event: ${e.event}\ndata: ${e.data}\n\n`;
}

Deno.test("createNativeStreamWriter() passes events on as they came and reads their usage", async (t) => {
  await t.step("a whole stream", () => {
    const writer = createNativeStreamWriter("anthropic");
    const ping = { event: "ping", data: '{"type": "ping"}' };
    const future = { event: "future_event", data: '{"x":1}' };
    for (const e of [START, ping, future]) writer.push(e);
    assert.equal(writer.finishReasons, undefined);
    writer.push(DELTA);
    assert.deepEqual(writer.finishReasons, ["stop"]);
    assert.equal(writer.hasData, true);
    assert.equal(writer.finished, false);
    writer.push(STOP);
    assert.equal(writer.take(), [START, ping, future, DELTA, STOP].map(frame).join(""));
    assert.equal(writer.finished, true);
    assert.deepEqual(writer.usage, {
      prompt_tokens: 14,
      completion_tokens: 12,
      total_tokens: 26,
      cache_read_tokens: 4,
    });
    writer.push(START);
    assert.equal(writer.take(), "", "nothing after message_stop");
  });
  await t.step("Anthropic's error event mid-stream is passed on and ends the stream", () => {
    const writer = createNativeStreamWriter("anthropic");
    const error = event("error", { error: { type: "overloaded_error", message: "Overloaded" } });
    writer.push(START);
    writer.push(error);
    assert.equal(writer.take(), frame(START) + frame(error));
    assert.equal(writer.finished, true);
    assert.equal(writer.error?.status, 503);
    assert.equal(writer.error?.code, "upstream_overloaded");
  });
  await t.step("an error before anything was sent is kept for the route, not written", () => {
    const writer = createNativeStreamWriter("anthropic");
    writer.push(event("error", { error: { type: "api_error", message: "boom" } }));
    assert.equal(writer.take(), "");
    assert.equal(writer.hasData, false);
    assert.equal(writer.error?.status, 502);
  });
  await t.step("the gateway's own failure is a Messages error event", () => {
    const writer = createNativeStreamWriter("anthropic");
    writer.push(START);
    writer.take();
    writer.push({
      type: "error",
      error: errors.upstreamTimeout("anthropic sent nothing for 5 ms"),
    });
    assert.equal(
      writer.take(),
      `event: error\ndata: ${
        JSON.stringify({
          type: "error",
          error: {
            type: "timeout_error",
            message: "anthropic sent nothing for 5 ms",
            code: "upstream_timeout",
          },
        })
      }\n\n`,
    );
    assert.equal(writer.finished, true);
  });
  await t.step("multi-line data keeps its lines", () => {
    const writer = createNativeStreamWriter("anthropic");
    writer.push({ event: "message_start", data: '{"type":\n"message_start"}' });
    assert.equal(writer.take(), 'event: message_start\ndata: {"type":\ndata: "message_start"}\n\n');
  });
});
