/**
 * Streaming through the TypeScript client: chunks as they arrive, error events, streams cut
 * short, silence, aborts, and no retry once a stream has begun.
 */
import assert from "node:assert/strict";
import {
  APIConnectionError,
  APIError,
  APITimeoutError,
  BadRequestError,
  type ChatCompletionChunk,
  Stream,
} from "../../src/client/mod.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { SSE_RESPONSE_HEADERS, startFakeOpenAI, streamChunks } from "../_helpers/fake_openai.ts";
import { clientFor, openaiEnv, sseEvent, startServer } from "./_helpers.ts";

const HI = [{ role: "user" as const, content: "Hi" }];

/** Rejects when `promise` takes longer than `ms`: a buffering client would deadlock. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(id);
  }
}

Deno.test("a stream yields the echo model's chunks, and a usage chunk when asked", async () => {
  await using gateway = startGateway();
  const stream = await clientFor(gateway).chat.completions.create({
    model: "choreoai/echo",
    messages: [{ role: "user", content: "Stream this back" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.ok(stream instanceof Stream);
  assert.match(stream.requestId ?? "", /^req_/);
  assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.ok(chunks.every((chunk) => chunk.object === "chat.completion.chunk"));
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
  assert.equal(text, "Stream this back");
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, "stop");
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.ok((last?.usage?.completion_tokens ?? 0) > 0);
  assert.throws(() => stream[Symbol.asyncIterator](), TypeError, "a stream is read once");
});

Deno.test("chunks reach the caller before the upstream has finished", async () => {
  const callerSawFirst = Promise.withResolvers<void>();
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      const chunks = streamChunks(String(body.model), ["one", "two", "three"], false);
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(sseEvent(chunks[0]));
          controller.enqueue(sseEvent(chunks[1]));
          await callerSawFirst.promise;
          for (const chunk of chunks.slice(2)) controller.enqueue(sseEvent(chunk));
          controller.enqueue(sseEvent("[DONE]"));
          controller.close();
        },
      });
      return new Response(stream, { headers: SSE_RESPONSE_HEADERS });
    },
  });
  await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
  const stream = await clientFor(gateway).chat.completions.create({
    model: "gpt-4o",
    messages: HI,
    stream: true,
  });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await within(iterator.next(), 5_000, "the first chunk");
  assert.equal(first.done, false);
  assert.equal(first.value?.choices[0]?.delta.role, "assistant");
  const second = await within(iterator.next(), 5_000, "the second chunk");
  assert.equal(second.value?.choices[0]?.delta.content, "one");
  callerSawFirst.resolve();
  let rest = "";
  for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
    rest += next.value.choices[0]?.delta.content ?? "";
  }
  assert.equal(rest, "twothree");
  assert.equal(stream.response.headers.get("x-choreoai-provider"), "openai");
});

Deno.test("an error event mid-stream throws the error class its type names", async (t) => {
  const cases = [
    {
      name: "a provider's invalid_request_error event: BadRequestError",
      events: (chunk: unknown) => [
        sseEvent(chunk),
        sseEvent({
          error: {
            message: "Invalid tool output",
            type: "invalid_request_error",
            param: "messages",
            code: "invalid_value",
          },
        }),
      ],
      check: (error: APIError) => {
        assert.ok(error instanceof BadRequestError);
        assert.equal(error.type, "invalid_request_error");
        assert.equal(error.code, "invalid_value");
        assert.equal(error.param, "messages");
        assert.match(error.message, /Invalid tool output/);
      },
    },
    {
      name: "a provider that stops midway: the gateway's api_error event, an APIError",
      events: (chunk: unknown) => [sseEvent(chunk)],
      check: (error: APIError) => {
        assert.equal(error.constructor, APIError);
        assert.equal(error.type, "api_error");
        assert.equal(error.code, "upstream_error");
      },
    },
  ];
  for (const { name, events, check } of cases) {
    await t.step(name, async () => {
      await using upstream = startFakeOpenAI({
        onChat: (body) => {
          const [first] = streamChunks(String(body.model), ["x"], false);
          const parts = events(first);
          const stream = new ReadableStream<Uint8Array>({
            start(controller) {
              for (const part of parts) controller.enqueue(part);
              controller.close();
            },
          });
          return new Response(stream, { headers: SSE_RESPONSE_HEADERS });
        },
      });
      await using gateway = startGateway({ env: openaiEnv(upstream.baseUrl) });
      const stream = await clientFor(gateway).chat.completions.create({
        model: "gpt-4o",
        messages: HI,
        stream: true,
      });
      const seen: ChatCompletionChunk[] = [];
      const error = await (async () => {
        try {
          for await (const chunk of stream) seen.push(chunk);
        } catch (error) {
          return error;
        }
        throw new Error("the stream ended without an error");
      })();
      assert.equal(seen.length, 1, "the chunk before the error was delivered");
      assert.ok(error instanceof APIError);
      assert.equal(error.status, undefined, "an error event has no HTTP status");
      assert.match(error.requestId ?? "", /^req_/);
      check(error);
    });
  }
});

Deno.test("a stream that ends without [DONE] throws APIConnectionError, without a retry", async () => {
  await using server = startServer(() => {
    const [first] = streamChunks("m", ["x"], false);
    return new Response(sseEvent(first), { headers: SSE_RESPONSE_HEADERS });
  });
  const stream = await clientFor(server).chat.completions.create({
    model: "m",
    messages: HI,
    stream: true,
  });
  const seen: ChatCompletionChunk[] = [];
  await assert.rejects(
    async () => {
      for await (const chunk of stream) seen.push(chunk);
    },
    (error: unknown) => {
      assert.ok(error instanceof APIConnectionError);
      assert.match(error.message, /\[DONE\]/);
      return true;
    },
  );
  assert.equal(seen.length, 1);
  assert.equal(server.requests.length, 1, "never retried once the stream has begun");
});

Deno.test("a stream silent for longer than the timeout throws APITimeoutError", async () => {
  const release = Promise.withResolvers<void>();
  await using server = startServer(() => {
    const [first] = streamChunks("m", ["x"], false);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(sseEvent(first));
        await release.promise;
        controller.close();
      },
    });
    return new Response(body, { headers: SSE_RESPONSE_HEADERS });
  });
  try {
    const stream = await clientFor(server, { timeout: 300 }).chat.completions.create({
      model: "m",
      messages: HI,
      stream: true,
    });
    const started = performance.now();
    await assert.rejects(async () => {
      for await (const _ of stream) { /* the first chunk, then silence */ }
    }, APITimeoutError);
    assert.ok(performance.now() - started >= 250);
    assert.equal(server.requests.length, 1);
  } finally {
    release.resolve();
  }
});

Deno.test("abort() ends the iteration quietly and releases the connection", async () => {
  const cancelled = Promise.withResolvers<void>();
  await using server = startServer(() => {
    const [first] = streamChunks("m", ["x"], false);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(sseEvent(first));
      },
      cancel() {
        cancelled.resolve();
      },
    });
    return new Response(body, { headers: SSE_RESPONSE_HEADERS });
  });
  const stream = await clientFor(server).chat.completions.create({
    model: "m",
    messages: HI,
    stream: true,
  });
  let count = 0;
  for await (const _ of stream) {
    count += 1;
    stream.abort();
  }
  assert.equal(count, 1);
  assert.equal(stream.controller.signal.aborted, true);
  await within(cancelled.promise, 5_000, "the server-side cancel");
});

Deno.test("leaving the loop early releases the connection", async () => {
  const cancelled = Promise.withResolvers<void>();
  await using server = startServer(() => {
    const [first] = streamChunks("m", ["x"], false);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(sseEvent(first));
      },
      cancel() {
        cancelled.resolve();
      },
    });
    return new Response(body, { headers: SSE_RESPONSE_HEADERS });
  });
  const stream = await clientFor(server).chat.completions.create({
    model: "m",
    messages: HI,
    stream: true,
  });
  for await (const _ of stream) break;
  await within(cancelled.promise, 5_000, "the server-side cancel");
});

Deno.test("the caller's signal ends a stream with its reason", async () => {
  await using server = startServer(() => {
    const [first] = streamChunks("m", ["x"], false);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(sseEvent(first));
      },
    });
    return new Response(body, { headers: SSE_RESPONSE_HEADERS });
  });
  const controller = new AbortController();
  const stream = await clientFor(server).chat.completions.create(
    { model: "m", messages: HI, stream: true },
    { signal: controller.signal },
  );
  const reason = new Error("caller gave up");
  await assert.rejects(async () => {
    for await (const _ of stream) controller.abort(reason);
  }, (error: unknown) => error === reason);
});

Deno.test("an answer that is not an event stream is an APIError", async () => {
  await using server = startServer(() => Response.json({ not: "a stream" }));
  await assert.rejects(
    clientFor(server).chat.completions.create({ model: "m", messages: HI, stream: true }),
    (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 200);
      assert.match(error.message, /Expected an event stream/);
      return true;
    },
  );
});
