import assert from "node:assert/strict";
import fc from "fast-check";
import type { Deadlines } from "../../src/deadlines.ts";
import { errors, GatewayError } from "../../src/errors.ts";
import type { StreamItem, StreamTranslator } from "../../src/providers/mod.ts";
import { openAIStream } from "../../src/providers/openai/stream.ts";
import { MAX_EVENT_CHARS } from "../../src/sse.ts";
import {
  createSseWriter,
  openUpstreamStream,
  renderStream,
  type StreamOutcome,
  stripNullUsage,
  type UpstreamStreamOptions,
} from "../../src/streaming/client_stream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A chunk's JSON as OpenAI sends it. */
function chunkJson(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: "c1", choices: [{ index: 0, delta: { content } }], ...extra });
}

function usageJson(prompt: number, completion: number): string {
  const usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  return JSON.stringify({ id: "c1", choices: [], usage });
}

function chunk(content: string, extra: Record<string, unknown> = {}): StreamItem {
  return { type: "chunk", chunk: JSON.parse(chunkJson(content, extra)) };
}

function usageChunk(prompt: number, completion: number): StreamItem {
  return { type: "chunk", chunk: JSON.parse(usageJson(prompt, completion)) };
}

/** SSE text with one `data:` event per payload. */
function sse(...payloads: string[]): string {
  return payloads.map((data) => `data: ${data}\n\n`).join("");
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

const USAGE = { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 };

// createSseWriter()

/** Pushes the items into a new writer and takes its text once. */
function write(items: readonly StreamItem[], includeUsage = false): string {
  const writer = createSseWriter(includeUsage);
  for (const item of items) writer.push(item);
  return writer.take();
}

Deno.test("createSseWriter() sends chunks with their raw text verbatim", async (t) => {
  const raw = '{"id":"c1",  "choices":[{"index":0,"delta":{"content":"raw"}}]}';
  for (const includeUsage of [false, true]) {
    await t.step(`raw text kept (includeUsage: ${includeUsage})`, () => {
      const item: StreamItem = { type: "chunk", chunk: JSON.parse(raw), raw };
      assert.equal(write([item], includeUsage), `data: ${raw}\n\n`);
    });
    await t.step(`a chunk without raw text is serialised (includeUsage: ${includeUsage})`, () => {
      assert.equal(
        write([chunk("Hel"), chunk("lo")], includeUsage),
        sse(
          chunkJson("Hel"),
          chunkJson("lo"),
        ),
      );
    });
  }
});

Deno.test("createSseWriter() sends usage only when the client asked", async (t) => {
  const rawNull = '{"id":"c1","choices":[{"index":0,"delta":{}}],"usage":null}';
  const rawUsage = usageJson(5, 1).replace(",", ", ");
  const cases: [string, boolean, StreamItem, string][] = [
    [
      "a usage chunk is kept",
      true,
      { type: "chunk", chunk: JSON.parse(rawUsage), raw: rawUsage },
      sse(rawUsage),
    ],
    ["a usage chunk is dropped", false, usageChunk(5, 1), ""],
    [
      "a raw usage chunk is dropped",
      false,
      { type: "chunk", chunk: JSON.parse(rawUsage), raw: rawUsage },
      "",
    ],
    [
      "usage: null is kept",
      true,
      { type: "chunk", chunk: JSON.parse(rawNull), raw: rawNull },
      sse(rawNull),
    ],
    [
      "usage: null loses its key, raw text or not",
      false,
      { type: "chunk", chunk: JSON.parse(rawNull), raw: rawNull },
      sse(JSON.stringify({ id: "c1", choices: [{ index: 0, delta: {} }] })),
    ],
    [
      "usage on a choice chunk is kept",
      true,
      chunk("Hi", { usage: USAGE }),
      sse(chunkJson("Hi", { usage: USAGE })),
    ],
    [
      "usage on a choice chunk loses its key",
      false,
      chunk("Hi", { usage: USAGE }),
      sse(chunkJson("Hi")),
    ],
  ];
  for (const [name, includeUsage, item, expected] of cases) {
    await t.step(name, () => {
      assert.equal(write([item], includeUsage), expected);
    });
  }
});

Deno.test("createSseWriter() records the usage it sees", async (t) => {
  const cases: [string, StreamItem[], unknown][] = [
    ["none", [chunk("Hi"), { type: "done" }], undefined],
    ["from the usage chunk", [chunk("Hi"), usageChunk(5, 1), { type: "done" }], USAGE],
    ["from a choice chunk", [chunk("Hi", { usage: USAGE })], USAGE],
    ["usage: null is no usage", [chunk("Hi", { usage: null })], undefined],
    ["the last one wins", [usageChunk(1, 1), usageChunk(5, 1)], USAGE],
    [
      "a missing total is computed",
      [{
        type: "chunk",
        chunk: { choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } },
      }],
      USAGE,
    ],
    [
      "token counts that are not numbers are no usage",
      [{ type: "chunk", chunk: { choices: [], usage: { prompt_tokens: "5" } } }],
      undefined,
    ],
    ["even when the stream fails", [
      usageChunk(5, 1),
      { type: "error", error: errors.upstream("openai: boom") },
    ], USAGE],
  ];
  for (const [name, items, expected] of cases) {
    for (const includeUsage of [false, true]) {
      await t.step(`${name} (includeUsage: ${includeUsage})`, () => {
        const writer = createSseWriter(includeUsage);
        for (const item of items) writer.push(item);
        assert.deepEqual(writer.usage, expected);
      });
    }
  }
});

Deno.test("createSseWriter() ends with [DONE] or one error event, and nothing after", async (t) => {
  const failure = new GatewayError("openai: the server had an error", {
    status: 502,
    type: "server_error",
    code: "upstream_error",
  });
  const cases: [string, StreamItem, string, GatewayError | undefined][] = [
    ["done", { type: "done" }, "data: [DONE]\n\n", undefined],
    [
      "error",
      { type: "error", error: failure },
      'data: {"error":{"message":"openai: the server had an error","type":"server_error","param":null,"code":"upstream_error"}}\n\n',
      failure,
    ],
  ];
  const after: StreamItem[] = [
    chunk("never sent"),
    usageChunk(9, 9),
    { type: "error", error: errors.upstream("openai: late") },
    { type: "done" },
  ];
  for (const [name, last, text, error] of cases) {
    await t.step(name, () => {
      const writer = createSseWriter(true);
      writer.push(chunk("partial"));
      assert.equal(writer.finished, false);
      writer.push(last);
      assert.equal(writer.finished, true);
      assert.equal(writer.take(), sse(chunkJson("partial")) + text);
      for (const item of after) writer.push(item);
      assert.equal(writer.take(), "");
      assert.equal(writer.error, error);
      assert.equal(writer.usage, undefined);
    });
  }
});

Deno.test("createSseWriter() take() returns the text written since the last take()", () => {
  const writer = createSseWriter(false);
  assert.equal(writer.take(), "");
  writer.push(chunk("a"));
  writer.push(chunk("b"));
  assert.equal(writer.take(), sse(chunkJson("a"), chunkJson("b")));
  assert.equal(writer.take(), "");
  writer.push(usageChunk(5, 1));
  assert.equal(writer.take(), "", "a dropped usage chunk writes nothing");
  writer.push({ type: "done" });
  assert.equal(writer.take(), "data: [DONE]\n\n");
});

Deno.test("createSseWriter() records each choice's finish reason", async (t) => {
  const finish = (reason: string | null, index = 0) => ({
    choices: [{ index, delta: {}, finish_reason: reason }],
  });
  const raw = (json: unknown): StreamItem => ({
    type: "raw",
    raw: JSON.stringify(json),
    nullUsage: false,
  });
  const cases: [string, StreamItem[], unknown][] = [
    ["none before the end", [chunk("Hi")], undefined],
    ["a parsed chunk's", [chunk("Hi"), { type: "chunk", chunk: finish("length") }], ["length"]],
    ["a raw chunk's, read without parsing", [raw(finish(null)), raw(finish("stop"))], ["stop"]],
    [
      "a raw chunk's with spaces around the colon",
      [{ type: "raw", raw: '{"choices":[{"finish_reason" : "tool_calls"}]}', nullUsage: false }],
      ["tool_calls"],
    ],
    [
      "one per choice, in the order they finish",
      [raw(finish("stop", 1)), { type: "chunk", chunk: finish("length", 0) }],
      ["stop", "length"],
    ],
    [
      "several choices in one chunk",
      [{
        type: "chunk",
        chunk: { choices: [...finish("stop", 0).choices, ...finish("content_filter", 1).choices] },
      }],
      ["stop", "content_filter"],
    ],
  ];
  for (const [name, items, expected] of cases) {
    await t.step(name, () => {
      const writer = createSseWriter(false);
      for (const item of items) writer.push(item);
      assert.deepEqual(writer.finishReasons, expected);
    });
  }
});

// renderStream()

Deno.test("renderStream() renders all items as one SSE text with its usage", async (t) => {
  const items: StreamItem[] = [
    chunk("Hi"),
    usageChunk(5, 1),
    { type: "done" },
    chunk("never sent"),
  ];
  await t.step("includeUsage", () => {
    assert.deepEqual(renderStream(items, true), {
      text: sse(chunkJson("Hi"), usageJson(5, 1), "[DONE]"),
      usage: USAGE,
    });
  });
  await t.step("no includeUsage", () => {
    assert.deepEqual(renderStream(items, false), {
      text: sse(chunkJson("Hi"), "[DONE]"),
      usage: USAGE,
    });
  });
  await t.step("an error ends the text", () => {
    const failure = errors.upstream("echo: boom");
    assert.deepEqual(renderStream([chunk("Hi"), { type: "error", error: failure }], false), {
      text: sse(chunkJson("Hi"), errorEvent(failure)),
      usage: undefined,
    });
  });
});

// openUpstreamStream()

/** What the stream told its owner. */
interface Calls {
  touched: number;
  firstBytes: number;
  closed: number;
  ended: StreamOutcome[];
  explained: unknown[];
}

type StartOptions =
  & Partial<Pick<UpstreamStreamOptions<StreamItem>, "signal" | "translator" | "keepAlive">>
  & { includeUsage?: boolean };

/** Opens the client stream; resolves once the upstream said something (or failed). */
function open(
  body: ReadableStream<Uint8Array>,
  options: StartOptions = {},
): { opened: Promise<ReadableStream<Uint8Array> | GatewayError>; calls: Calls } {
  const calls: Calls = { touched: 0, firstBytes: 0, closed: 0, ended: [], explained: [] };
  const opened = openUpstreamStream({
    body,
    translator: options.translator ?? openAIStream(),
    writer: createSseWriter(options.includeUsage ?? false),
    keepAlive: options.keepAlive,
    touch() {
      calls.touched++;
    },
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
    onFirstByte() {
      calls.firstBytes++;
    },
    signal: options.signal,
  });
  return { opened, calls };
}

/** Opens a stream that must start (its first upstream output is not an error). */
async function start(
  body: ReadableStream<Uint8Array>,
  options: StartOptions = {},
): Promise<{ stream: ReadableStream<Uint8Array>; calls: Calls }> {
  const { opened, calls } = open(body, options);
  const stream = await opened;
  if (stream instanceof GatewayError) {
    throw new Error(`the stream did not start: ${stream.message}`);
  }
  return { stream, calls };
}

/** Opens a stream that must fail before its first byte. */
async function refused(
  body: ReadableStream<Uint8Array>,
  options: StartOptions = {},
): Promise<{ error: GatewayError; calls: Calls }> {
  const { opened, calls } = open(body, options);
  const error = await opened;
  if (!(error instanceof GatewayError)) throw new Error("the stream started");
  return { error, calls };
}

/** An upstream body that yields the given pieces of SSE text, one read each. */
function bodyOf(...pieces: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(pieces.map((p) => typeof p === "string" ? encoder.encode(p) : p));
}

/** An upstream body the test writes into by hand. */
function manualBody(): {
  body: ReadableStream<Uint8Array>;
  send(piece: string | Uint8Array): void;
  fail(error: unknown): void;
  finish(): void;
  readonly cancelled: number;
} {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let cancelled = 0;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      cancelled++;
    },
  });
  return {
    body,
    send: (piece) => controller?.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece),
    fail: (error) => controller?.error(error),
    finish: () => controller?.close(),
    get cancelled() {
      return cancelled;
    },
  };
}

async function textOf(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** Reads one chunk of the client's stream as text. */
async function readText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { done, value } = await reader.read();
  assert.equal(done, false, "the stream ended early");
  return decoder.decode(value);
}

/** Lets pending reads and pulls run. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 10));
}

Deno.test("openUpstreamStream() sends chunks in order and ends with [DONE]", async () => {
  const raw = '{"id":"c1",  "choices":[{"index":0,"delta":{"content":"raw"}}]}';
  const { stream, calls } = await start(bodyOf(
    sse(chunkJson("Hel")),
    sse(raw),
    sse(chunkJson("lo"), "[DONE]"),
  ));
  assert.deepEqual(dataOf(await textOf(stream)), [
    chunkJson("Hel"),
    raw,
    chunkJson("lo"),
    "[DONE]",
  ]);
  assert.equal(calls.closed, 1);
  assert.deepEqual(calls.ended, [{
    usage: undefined,
    error: undefined,
    cancelled: false,
    finishReasons: undefined,
  }]);
  assert.deepEqual(calls.explained, []);
});

Deno.test("openUpstreamStream() reports the finish reasons at the end", async () => {
  const { stream, calls } = await start(bodyOf(
    sse(chunkJson("Hi", { usage: null })),
    sse(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null })),
    sse(usageJson(5, 1), "[DONE]"),
  ));
  await textOf(stream);
  assert.deepEqual(calls.ended, [{
    usage: USAGE,
    error: undefined,
    cancelled: false,
    finishReasons: ["stop"],
  }]);
});

Deno.test("openUpstreamStream() sends each event as soon as it arrives", async () => {
  const upstream = manualBody();
  upstream.send(sse(chunkJson("first")));
  const { stream, calls } = await start(upstream.body);
  const reader = stream.getReader();
  assert.equal(await readText(reader), sse(chunkJson("first")));
  upstream.send(sse(chunkJson("second")));
  assert.equal(await readText(reader), sse(chunkJson("second")));
  upstream.send(sse("[DONE]"));
  assert.equal(await readText(reader), "data: [DONE]\n\n");
  assert.equal((await reader.read()).done, true);
  assert.equal(calls.ended.length, 1);
});

/** Lets pending reads reach the upstream. */
function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Deadlines the test expires by hand; `started` counts the timers ever started. */
function manualDeadlines(): { deadlines: Deadlines; expire(): void; readonly started: number } {
  let timers: { live: boolean; onExpire: () => void }[] = [];
  let started = 0;
  return {
    deadlines: {
      start(_ms, onExpire) {
        const timer = { live: true, onExpire };
        timers.push(timer);
        started++;
        return {
          reset() {},
          cancel() {
            timer.live = false;
          },
        };
      },
    },
    expire() {
      const due = timers.filter((timer) => timer.live);
      timers = [];
      for (const timer of due) timer.onExpire();
    },
    get started() {
      return started;
    },
  };
}

Deno.test("openUpstreamStream() sends the keep-alive while the provider is silent, only once started", async () => {
  const upstream = manualBody();
  const clock = manualDeadlines();
  const ping = "event: ping\ndata: {}\n\n";
  const opening = start(upstream.body, {
    keepAlive: { everyMs: 10_000, text: ping, deadlines: clock.deadlines },
  });
  clock.expire();
  upstream.send(sse(chunkJson("first")));
  const { stream } = await opening;
  assert.equal(clock.started, 0, "no keep-alive before the first byte");
  const reader = stream.getReader();
  assert.equal(await readText(reader), sse(chunkJson("first")));
  const silent = readText(reader);
  await tick();
  clock.expire();
  assert.equal(await silent, ping);
  const again = readText(reader);
  await tick();
  clock.expire();
  assert.equal(await again, ping);
  const next = readText(reader);
  upstream.send(sse(chunkJson("second")));
  assert.equal(await next, sse(chunkJson("second")), "the read pending across pings is not lost");
  upstream.send(sse("[DONE]"));
  assert.equal(await readText(reader), "data: [DONE]\n\n");
  assert.equal((await reader.read()).done, true);
});

Deno.test("openUpstreamStream() keeps the provider's last events that arrive between a keep-alive and the client's next read", async () => {
  const upstream = manualBody();
  const clock = manualDeadlines();
  const ping = "event: ping\ndata: {}\n\n";
  const opening = start(upstream.body, {
    keepAlive: { everyMs: 10_000, text: ping, deadlines: clock.deadlines },
  });
  upstream.send(sse(chunkJson("first")));
  const { stream, calls } = await opening;
  const reader = stream.getReader();
  assert.equal(await readText(reader), sse(chunkJson("first")));
  const silent = readText(reader);
  await tick();
  clock.expire();
  assert.equal(await silent, ping);
  // The provider ends its stream while the client (slow, or busy) has not asked for more yet.
  upstream.send(sse(chunkJson("last"), "[DONE]"));
  await settle();
  assert.equal(await readText(reader), sse(chunkJson("last"), "[DONE]"), "the ending is sent");
  assert.equal((await reader.read()).done, true);
  assert.equal(calls.ended.length, 1);
  assert.equal(calls.ended[0]?.error, undefined);
});

Deno.test("openUpstreamStream() writes what one upstream read brought in one chunk", async (t) => {
  await t.step("two events in one read", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("a"), chunkJson("b")));
    const { stream } = await start(upstream.body);
    const reader = stream.getReader();
    assert.equal(await readText(reader), sse(chunkJson("a"), chunkJson("b")));
    upstream.send(sse(chunkJson("c"), "[DONE]"));
    assert.equal(await readText(reader), sse(chunkJson("c"), "[DONE]"));
    assert.equal((await reader.read()).done, true);
  });

  await t.step("an event split across reads, inside a character, waits for its end", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("first")));
    const { stream, calls } = await start(upstream.body);
    const reader = stream.getReader();
    assert.equal(await readText(reader), sse(chunkJson("first")));
    const text = sse(chunkJson("é🦄"));
    const bytes = encoder.encode(text);
    const cut = encoder.encode(text.slice(0, text.indexOf("🦄"))).length + 2;
    let received: string | undefined;
    const pending = readText(reader).then((value) => (received = value));
    upstream.send(bytes.slice(0, cut));
    await settle();
    assert.equal(received, undefined);
    assert.equal(calls.firstBytes, 1);
    upstream.send(bytes.slice(cut));
    await pending;
    assert.equal(received, text);
    await reader.cancel();
  });
});

Deno.test("openUpstreamStream() ends a failed stream with one error event and no [DONE]", async (t) => {
  await t.step("an upstream error event", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("partial")));
    upstream.send(sse(
      '{"error":{"message":"the server had an error","type":"server_error","code":null}}',
      chunkJson("never sent"),
      "[DONE]",
    ));
    const { stream, calls } = await start(upstream.body);
    const events = dataOf(await textOf(stream));
    assert.deepEqual(events, [
      chunkJson("partial"),
      '{"error":{"message":"openai: the server had an error","type":"server_error","param":null,"code":"upstream_error"}}',
    ]);
    assert.equal(calls.closed, 1);
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.cancelled, false);
    assert.equal(errorEvent(calls.ended[0]?.error ?? assert.fail("no error")), events[1]);
    assert.equal(upstream.cancelled, 1, "the upstream is released");
  });

  await t.step("the provider ends without [DONE]", async () => {
    const { stream, calls } = await start(bodyOf(sse(chunkJson("partial"))));
    const events = dataOf(await textOf(stream));
    assert.equal(events.length, 2);
    assert.ok(!events.includes("[DONE]"));
    const parsed = JSON.parse(events[1] ?? "") as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(parsed.error), ["message", "type", "param", "code"]);
    assert.equal(parsed.error.code, "upstream_error");
    assert.equal(calls.closed, 1);
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.error?.code, "upstream_error");
  });

  await t.step("the provider ends inside an event", async () => {
    const { stream, calls } = await start(bodyOf(sse(chunkJson("partial")), 'data: {"id":"c1",'));
    const events = dataOf(await textOf(stream));
    assert.equal(events.length, 2);
    assert.ok(!events.includes("[DONE]"));
    assert.equal(calls.ended[0]?.error?.code, "upstream_error");
  });

  await t.step("a read that throws is explained", async () => {
    const reset = new Error("connection reset");
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) throw reset;
        sent = true;
        controller.enqueue(encoder.encode(sse(chunkJson("partial"))));
      },
    });
    const { stream, calls } = await start(body);
    assert.deepEqual(dataOf(await textOf(stream)), [
      chunkJson("partial"),
      errorEvent(errors.upstreamTimeout("openai: no event within 600000 ms")),
    ]);
    assert.deepEqual(calls.explained, [reset]);
    assert.equal(calls.closed, 1);
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.error?.code, "upstream_timeout");
  });

  await t.step("an event longer than the decoder allows", async () => {
    const { stream, calls } = await start(bodyOf(
      sse(chunkJson("partial")),
      "data: ",
      "x".repeat(MAX_EVENT_CHARS),
      "\n\n" + sse("[DONE]"),
    ));
    const events = dataOf(await textOf(stream));
    assert.equal(events.length, 2);
    assert.equal(events[0], chunkJson("partial"));
    assert.equal(calls.ended[0]?.error?.code, "upstream_error");
    assert.match(calls.ended[0]?.error?.message ?? "", /stream broke/);
  });

  await t.step("a translator that throws", async () => {
    const translator: StreamTranslator = {
      event() {
        throw new TypeError("translator bug");
      },
      end() {},
    };
    const { error, calls } = await refused(bodyOf(sse(chunkJson("a"), chunkJson("b"))), {
      translator,
    });
    assert.equal(error.status, 500);
    assert.equal(error.code, "internal_error");
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [], "a stream that never started is not reported as ended");
  });
});

Deno.test("openUpstreamStream() ends with server_shutting_down when its signal aborts", async (t) => {
  const shuttingDown = `data: ${errorEvent(errors.shuttingDown())}\n\n`;

  await t.step("between events", async () => {
    const shutdown = new AbortController();
    const upstream = manualBody();
    upstream.send(sse(chunkJson("partial")));
    const { stream, calls } = await start(upstream.body, { signal: shutdown.signal });
    const reader = stream.getReader();
    await readText(reader);
    shutdown.abort();
    assert.equal(await readText(reader), shuttingDown);
    assert.equal((await reader.read()).done, true);
    assert.equal(calls.closed, 1);
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.error?.code, "server_shutting_down");
    assert.equal(calls.ended[0]?.cancelled, false);
    assert.equal(upstream.cancelled, 1);
  });

  await t.step("before the first event", async () => {
    const upstream = manualBody();
    const { error, calls } = await refused(upstream.body, { signal: AbortSignal.abort() });
    assert.equal(error.code, "server_shutting_down");
    assert.equal(calls.firstBytes, 0);
    assert.equal(calls.closed, 1);
    assert.equal(upstream.cancelled, 1);
  });

  await t.step("a read that the shutdown broke is not blamed on the provider", async () => {
    const shutdown = new AbortController();
    const upstream = manualBody();
    upstream.send(sse(chunkJson("partial")));
    const { stream, calls } = await start(upstream.body, { signal: shutdown.signal });
    const reader = stream.getReader();
    await readText(reader);
    const pending = readText(reader);
    await settle();
    shutdown.abort();
    upstream.fail(new DOMException("The signal has been aborted", "AbortError"));
    assert.equal(await pending, shuttingDown);
    assert.equal((await reader.read()).done, true);
    assert.deepEqual(calls.explained, []);
    assert.equal(calls.ended[0]?.error?.code, "server_shutting_down");
  });
});

Deno.test("openUpstreamStream() touches the idle timer on every event and keep-alive comment", async () => {
  const upstream = manualBody();
  const { opened, calls } = open(upstream.body);
  // A keep-alive comment is not an event, but it shows the provider is alive.
  upstream.send(": keep-alive\n\n");
  await settle();
  assert.equal(calls.touched, 1);
  // A usage chunk the client does not get is still an event.
  upstream.send(sse(usageJson(5, 1)));
  await settle();
  assert.equal(calls.touched, 2);
  upstream.send(sse(chunkJson("a"), chunkJson("b")));
  const stream = await opened;
  assert.ok(!(stream instanceof GatewayError));
  const reader = stream.getReader();
  assert.equal(await readText(reader), sse(chunkJson("a"), chunkJson("b")));
  assert.equal(calls.touched, 4);
  upstream.send(": ping\n\n" + sse("[DONE]"));
  assert.equal(await readText(reader), "data: [DONE]\n\n");
  assert.equal(calls.touched, 6);
  assert.equal((await reader.read()).done, true);
});

Deno.test("openUpstreamStream() calls onFirstByte once, with the first bytes", async (t) => {
  await t.step("a stream of several chunks", async () => {
    const upstream = manualBody();
    const { opened, calls } = open(upstream.body);
    upstream.send(": keep-alive\n\n");
    await settle();
    assert.equal(calls.firstBytes, 0);
    upstream.send(sse(chunkJson("a")));
    const stream = await opened;
    assert.ok(!(stream instanceof GatewayError));
    assert.equal(calls.firstBytes, 0, "nothing reached the client before it read");
    const reader = stream.getReader();
    await readText(reader);
    assert.equal(calls.firstBytes, 1);
    upstream.send(sse(chunkJson("b")));
    await readText(reader);
    upstream.send(sse("[DONE]"));
    await readText(reader);
    assert.equal((await reader.read()).done, true);
    assert.equal(calls.firstBytes, 1);
  });

  await t.step("not at all when the client leaves before any bytes", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("a")));
    const { stream, calls } = await start(upstream.body);
    await stream.cancel();
    await settle();
    assert.equal(calls.ended.length, 1);
    assert.equal(calls.ended[0]?.cancelled, true);
    assert.equal(calls.firstBytes, 0, "onFirstByte was called though no bytes reached the client");
  });

  await t.step("a stream that only fails never starts", async () => {
    const { error, calls } = await refused(bodyOf(""));
    assert.equal(error.code, "upstream_error");
    assert.equal(calls.firstBytes, 0);
    assert.equal(calls.closed, 1);
  });
});

Deno.test("openUpstreamStream() sends the usage chunk only when the client asked", async (t) => {
  const body = () => bodyOf(sse(chunkJson("Hi", { usage: null })), sse(usageJson(5, 1), "[DONE]"));

  await t.step("includeUsage: the usage chunk is kept", async () => {
    const { stream, calls } = await start(body(), { includeUsage: true });
    assert.deepEqual(dataOf(await textOf(stream)), [
      chunkJson("Hi", { usage: null }),
      usageJson(5, 1),
      "[DONE]",
    ]);
    assert.deepEqual(calls.ended, [{
      usage: USAGE,
      error: undefined,
      cancelled: false,
      finishReasons: undefined,
    }]);
  });

  await t.step("no includeUsage: no usage chunk and no usage keys", async () => {
    const { stream, calls } = await start(body(), { includeUsage: false });
    assert.deepEqual(dataOf(await textOf(stream)), [chunkJson("Hi"), "[DONE]"]);
    assert.deepEqual(calls.ended, [{
      usage: USAGE,
      error: undefined,
      cancelled: false,
      finishReasons: undefined,
    }]);
  });

  await t.step("usage is reported even when the stream fails", async () => {
    const { stream, calls } = await start(
      bodyOf(sse(usageJson(4, 2)), sse('{"error":{"message":"boom"}}')),
      { includeUsage: true },
    );
    await textOf(stream);
    assert.equal(calls.ended.length, 1);
    assert.deepEqual(calls.ended[0]?.usage, {
      prompt_tokens: 4,
      completion_tokens: 2,
      total_tokens: 6,
    });
    assert.equal(calls.ended[0]?.error?.code, "upstream_error");
  });
});

Deno.test("openUpstreamStream() cancelled by the client releases the upstream once", async (t) => {
  await t.step("after a chunk", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("first", { usage: USAGE })));
    const { stream, calls } = await start(upstream.body);
    const reader = stream.getReader();
    assert.equal(await readText(reader), sse(chunkJson("first")));
    await reader.cancel();
    await reader.cancel();
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{
      usage: USAGE,
      error: undefined,
      cancelled: true,
      finishReasons: undefined,
    }]);
    assert.equal(upstream.cancelled, 1);
  });

  await t.step("while waiting for the provider", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("first")));
    const { stream, calls } = await start(upstream.body);
    const reader = stream.getReader();
    await readText(reader);
    const pending = reader.read();
    await settle();
    await reader.cancel();
    assert.equal((await pending).done, true);
    await settle();
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{
      usage: undefined,
      error: undefined,
      cancelled: true,
      finishReasons: undefined,
    }]);
    assert.equal(upstream.cancelled, 1);
  });

  await t.step("after the end, cancelling changes nothing", async () => {
    const upstream = manualBody();
    upstream.send(sse("[DONE]"));
    upstream.finish();
    const { stream, calls } = await start(upstream.body);
    const reader = stream.getReader();
    assert.equal(await readText(reader), "data: [DONE]\n\n");
    await reader.cancel();
    await settle();
    assert.equal(calls.closed, 1);
    assert.deepEqual(calls.ended, [{
      usage: undefined,
      error: undefined,
      cancelled: false,
      finishReasons: undefined,
    }]);
    assert.equal(upstream.cancelled, 0);
  });
});

Deno.test("openUpstreamStream() after [DONE] reads the provider's body to its end, to reuse the connection", async (t) => {
  await t.step("the body ends after [DONE]: read, not cancelled", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("a"), "[DONE]"));
    const { stream, calls } = await start(upstream.body);
    assert.deepEqual(dataOf(await textOf(stream)), [chunkJson("a"), "[DONE]"]);
    await settle();
    assert.equal(calls.closed, 0, "the idle timer guards the drain until the body ends");
    upstream.finish();
    await settle();
    assert.equal(calls.closed, 1);
    assert.equal(upstream.cancelled, 0, "a finished body was cancelled: its connection is lost");
  });

  await t.step("more data after [DONE]: cancelled", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("a"), "[DONE]"));
    const { stream, calls } = await start(upstream.body);
    await textOf(stream);
    upstream.send(sse(chunkJson("late")));
    await settle();
    assert.equal(upstream.cancelled, 1);
    assert.equal(calls.closed, 1);
  });

  await t.step("a failed stream is cancelled at once", async () => {
    const upstream = manualBody();
    upstream.send(sse(chunkJson("a"), '{"error":{"message":"boom"}}'));
    const { stream, calls } = await start(upstream.body);
    await textOf(stream);
    await settle();
    assert.equal(upstream.cancelled, 1);
    assert.equal(calls.closed, 1);
  });
});

Deno.test("stripNullUsage() removes exactly the top-level usage:null member, wherever it is", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string().filter((key) => key !== "usage"), fc.jsonValue()),
      fc.nat(),
      fc.boolean(),
      (object, position, spaced) => {
        const entries: [string, unknown][] = Object.entries(object);
        entries.splice(position % (entries.length + 1), 0, ["usage", null]);
        const text = JSON.stringify(Object.fromEntries(entries), null, spaced ? 1 : undefined);
        assert.deepEqual(JSON.parse(stripNullUsage(text)), JSON.parse(JSON.stringify(object)));
      },
    ),
    { numRuns: 500 },
  );
});
