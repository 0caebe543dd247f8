import assert from "node:assert/strict";
import { errors, GatewayError } from "../../src/errors.ts";
import type { StreamItem } from "../../src/providers/mod.ts";
import {
  type ClientStreamOptions,
  createClientStream,
  type StreamOutcome,
} from "../../src/streaming/client_stream.ts";

/** What the stream told its owner: close() calls, onEnd() outcomes, explain() inputs. */
interface Calls {
  closed: number;
  ended: StreamOutcome[];
  explained: unknown[];
}

function start(
  items: ReadableStream<StreamItem>,
  options: Partial<Pick<ClientStreamOptions, "includeUsage" | "signal">> = {},
): { body: ReadableStream<Uint8Array>; calls: Calls } {
  const calls: Calls = { closed: 0, ended: [], explained: [] };
  const body = createClientStream({
    items,
    includeUsage: options.includeUsage ?? false,
    explain(error) {
      calls.explained.push(error);
      return errors.upstreamTimeout("openai: no event within 600000 ms");
    },
    close() {
      calls.closed++;
    },
    onEnd(outcome) {
      calls.ended.push(outcome);
    },
    signal: options.signal,
  });
  return { body, calls };
}

function chunk(content: string, extra: Record<string, unknown> = {}): StreamItem {
  return {
    type: "chunk",
    chunk: { id: "c1", choices: [{ index: 0, delta: { content } }], ...extra },
  };
}

function usageChunk(prompt: number, completion: number): StreamItem {
  const usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  return { type: "chunk", chunk: { id: "c1", choices: [], usage } };
}

/** An upstream whose items the test pushes by hand. */
function manualItems(): {
  items: ReadableStream<StreamItem>;
  push(item: StreamItem): void;
} {
  let controller: ReadableStreamDefaultController<StreamItem> | undefined;
  const items = new ReadableStream<StreamItem>({
    start(c) {
      controller = c;
    },
  });
  return {
    items,
    push(item) {
      controller?.enqueue(item);
    },
  };
}

async function textOf(body: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(body).text();
}

/** The `data:` payloads of an SSE text, checking its framing. */
function dataOf(text: string): string[] {
  assert.ok(text === "" || text.endsWith("\n\n"), JSON.stringify(text));
  return text.split("\n\n").slice(0, -1).map((event) => {
    assert.ok(event.startsWith("data: "), JSON.stringify(event));
    return event.slice("data: ".length);
  });
}

function errorEvent(error: GatewayError): string {
  return JSON.stringify({
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  });
}

Deno.test("createClientStream() sends chunks in order and ends with [DONE]", async () => {
  const raw = '{"id":"c1",  "choices":[{"index":0,"delta":{"content":"raw"}}]}';
  const items: StreamItem[] = [
    chunk("Hel"),
    { type: "chunk", chunk: JSON.parse(raw), raw },
    chunk("lo"),
    { type: "done" },
  ];
  const { body, calls } = start(ReadableStream.from(items));
  assert.deepEqual(dataOf(await textOf(body)), [
    JSON.stringify({ id: "c1", choices: [{ index: 0, delta: { content: "Hel" } }] }),
    raw,
    JSON.stringify({ id: "c1", choices: [{ index: 0, delta: { content: "lo" } }] }),
    "[DONE]",
  ]);
  assert.equal(calls.closed, 1);
  assert.deepEqual(calls.ended, [{ usage: undefined, error: undefined, cancelled: false }]);
});

Deno.test("createClientStream() sends each chunk as soon as it arrives", async () => {
  const upstream = manualItems();
  const { body } = start(upstream.items);
  const reader = body.getReader();
  const decoder = new TextDecoder();
  upstream.push(chunk("first"));
  const first = await reader.read();
  assert.equal(
    decoder.decode(first.value),
    `data: ${
      JSON.stringify({ id: "c1", choices: [{ index: 0, delta: { content: "first" } }] })
    }\n\n`,
  );
  upstream.push({ type: "done" });
  assert.equal(decoder.decode((await reader.read()).value), "data: [DONE]\n\n");
  assert.equal((await reader.read()).done, true);
});

Deno.test("createClientStream() ends a failed stream with one error event and no [DONE]", async (t) => {
  await t.step("an error item", async () => {
    const failure = new GatewayError("openai: the server had an error", {
      status: 502,
      type: "server_error",
      code: "upstream_error",
    });
    const items: StreamItem[] = [
      chunk("partial"),
      { type: "error", error: failure },
      chunk("never sent"),
      { type: "done" },
    ];
    const { body, calls } = start(ReadableStream.from(items));
    const events = dataOf(await textOf(body));
    assert.equal(events.length, 2);
    assert.equal(
      events[1],
      '{"error":{"message":"openai: the server had an error","type":"server_error","param":null,"code":"upstream_error"}}',
    );
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{ usage: undefined, error: failure, cancelled: false }]);
  });

  await t.step("the provider ends without done", async () => {
    const { body, calls } = start(ReadableStream.from([chunk("partial")]));
    const events = dataOf(await textOf(body));
    assert.equal(events.length, 2);
    assert.ok(!events.includes("[DONE]"));
    const parsed = JSON.parse(events[1] ?? "") as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed.error), ["message", "type", "param", "code"]);
    assert.equal(parsed.error.code, "upstream_error");
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.error?.code, "upstream_error");
  });

  await t.step("a read that throws is explained", async () => {
    const reset = new Error("connection reset");
    let sent = false;
    const items = new ReadableStream<StreamItem>({
      pull(controller) {
        if (sent) throw reset;
        sent = true;
        controller.enqueue(chunk("partial"));
      },
    });
    const { body, calls } = start(items);
    const events = dataOf(await textOf(body));
    assert.equal(events.length, 2);
    assert.equal(
      events[1],
      errorEvent(errors.upstreamTimeout("openai: no event within 600000 ms")),
    );
    assert.deepEqual(calls.explained, [reset]);
    assert.equal(calls.closed, 1);
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.error?.code, "upstream_timeout");
  });

  await t.step("a server shutdown", async () => {
    const shutdown = new AbortController();
    const upstream = manualItems();
    const { body, calls } = start(upstream.items, { signal: shutdown.signal });
    const reader = body.getReader();
    upstream.push(chunk("partial"));
    await reader.read();
    shutdown.abort();
    const { value } = await reader.read();
    assert.equal(
      new TextDecoder().decode(value),
      `data: ${errorEvent(errors.shuttingDown())}\n\n`,
    );
    assert.equal((await reader.read()).done, true);
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.error?.code, "server_shutting_down");
  });
});

Deno.test("createClientStream() sends the usage chunk only when the client asked", async (t) => {
  const items = (): StreamItem[] => [
    chunk("Hi", { usage: null }),
    usageChunk(5, 1),
    { type: "done" },
  ];

  await t.step("includeUsage: the usage chunk is kept", async () => {
    const { body, calls } = start(ReadableStream.from(items()), { includeUsage: true });
    const events = dataOf(await textOf(body)).map((d) => d === "[DONE]" ? d : JSON.parse(d));
    assert.deepEqual(events, [
      { id: "c1", choices: [{ index: 0, delta: { content: "Hi" } }], usage: null },
      {
        id: "c1",
        choices: [],
        usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      },
      "[DONE]",
    ]);
    assert.deepEqual(calls.ended[0]?.usage, {
      prompt_tokens: 5,
      completion_tokens: 1,
      total_tokens: 6,
    });
  });

  await t.step("no includeUsage: no usage chunk and no usage keys", async () => {
    const { body, calls } = start(ReadableStream.from(items()), { includeUsage: false });
    const events = dataOf(await textOf(body));
    assert.deepEqual(events, [
      JSON.stringify({ id: "c1", choices: [{ index: 0, delta: { content: "Hi" } }] }),
      "[DONE]",
    ]);
    assert.deepEqual(calls.ended, [{
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      error: undefined,
      cancelled: false,
    }]);
  });

  await t.step("no includeUsage: a raw chunk with usage loses the key", async () => {
    const raw = '{"id":"c1","choices":[{"index":0,"delta":{}}],"usage":null}';
    const { body } = start(
      ReadableStream.from<StreamItem>([
        { type: "chunk", chunk: JSON.parse(raw), raw },
        { type: "done" },
      ]),
    );
    const [first] = dataOf(await textOf(body));
    assert.deepEqual(JSON.parse(first ?? ""), { id: "c1", choices: [{ index: 0, delta: {} }] });
  });

  await t.step("usage on the last choice chunk is recorded", async () => {
    const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
    const { body, calls } = start(
      ReadableStream.from<StreamItem>([chunk("Hi", { usage }), { type: "done" }]),
    );
    const [first] = dataOf(await textOf(body));
    assert.ok(!("usage" in JSON.parse(first ?? "")));
    assert.deepEqual(calls.ended[0]?.usage, usage);
  });

  await t.step("usage is reported even when the stream fails", async () => {
    const failure = errors.upstream("openai: boom");
    const { body, calls } = start(
      ReadableStream.from<StreamItem>([usageChunk(4, 2), { type: "error", error: failure }]),
    );
    await textOf(body);
    assert.deepEqual(calls.ended, [{
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
      error: failure,
      cancelled: false,
    }]);
  });
});

Deno.test("createClientStream() cancelled by the client releases the upstream once", async (t) => {
  await t.step("after a chunk", async () => {
    let upstreamCancelled = 0;
    const items = new ReadableStream<StreamItem>({
      start(controller) {
        controller.enqueue(chunk("first"));
      },
      cancel() {
        upstreamCancelled++;
      },
    });
    const { body, calls } = start(items);
    const reader = body.getReader();
    assert.equal((await reader.read()).done, false);
    await reader.cancel();
    await reader.cancel();
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{ usage: undefined, error: undefined, cancelled: true }]);
    assert.equal(upstreamCancelled, 1);
  });

  await t.step("while waiting for the provider", async () => {
    let upstreamCancelled = 0;
    const items = new ReadableStream<StreamItem>({
      cancel() {
        upstreamCancelled++;
      },
    });
    const { body, calls } = start(items);
    const reader = body.getReader();
    const pending = reader.read();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await reader.cancel();
    assert.equal((await pending).done, true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{ usage: undefined, error: undefined, cancelled: true }]);
    assert.equal(upstreamCancelled, 1);
  });

  await t.step("after the end, cancelling changes nothing", async () => {
    const { body, calls } = start(ReadableStream.from<StreamItem>([{ type: "done" }]));
    const reader = body.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "data: [DONE]\n\n");
    await reader.cancel();
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{ usage: undefined, error: undefined, cancelled: false }]);
  });
});
