import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import type { StreamItem, TranslationContext } from "../../../src/providers/mod.ts";
import { azureStream } from "../../../src/providers/azure/stream.ts";
import { renderStream } from "../../../src/streaming/client_stream.ts";
import type { SseEvent } from "../../../src/sse.ts";

const CTX: TranslationContext = {
  id: "chatcmpl-gateway",
  created: 1_700_000_000,
  model: "azure/gpt4o",
};

const SAFE = { filtered: false, severity: "safe" };

/** The prompt-filter chunk Azure opens streams with (FACTS.md §2). */
const PROMPT_FILTER = JSON.stringify({
  choices: [],
  created: 0,
  id: "",
  model: "",
  object: "",
  prompt_filter_results: [{
    prompt_index: 0,
    content_filter_results: { hate: SAFE, jailbreak: { filtered: false, detected: false } },
  }],
});

function content(word: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    choices: [{
      content_filter_results: { hate: SAFE },
      delta: { content: word },
      finish_reason: null,
      index: 0,
      logprobs: null,
    }],
    created: 1_764_000_000,
    id: "chatcmpl-azure",
    model: "gpt-4o-2024-11-20",
    object: "chat.completion.chunk",
    system_fingerprint: "fp_1",
    ...extra,
  });
}

function finish(reason: string, filter: Record<string, unknown> = {}): string {
  return JSON.stringify({
    choices: [{
      content_filter_results: filter,
      delta: {},
      finish_reason: reason,
      index: 0,
      logprobs: null,
    }],
    created: 1_764_000_000,
    id: "chatcmpl-azure",
    model: "gpt-4o-2024-11-20",
    object: "chat.completion.chunk",
  });
}

/** An asynchronous-filter annotation chunk: blank identity, a choice without delta. */
function annotation(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    choices: [{
      content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 10 },
      content_filter_results: { hate: SAFE, violence: SAFE },
      finish_reason: null,
      index: 0,
    }],
    created: 0,
    id: "",
    model: "",
    object: "",
    ...extra,
  });
}

const USAGE = JSON.stringify({
  choices: [],
  created: 1_764_000_000,
  id: "chatcmpl-azure",
  model: "gpt-4o-2024-11-20",
  object: "chat.completion.chunk",
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
});

function run(datas: readonly (string | SseEvent)[], provider?: string): StreamItem[] {
  const translator = azureStream(CTX, provider);
  const items: StreamItem[] = [];
  const emit = (item: StreamItem) => {
    items.push(item);
  };
  for (const data of datas) translator.event(typeof data === "string" ? { data } : data, emit);
  translator.end(emit);
  return items;
}

/** What the client would receive for these items (data payloads, in order). */
function clientData(items: readonly StreamItem[], includeUsage: boolean): string[] {
  return renderStream(items, includeUsage).text.split("\n\n").filter((line) => line !== "")
    .map((line) => line.replace(/^data: /, ""));
}

function chunkOf(item: StreamItem | undefined): Record<string, unknown> {
  assert.equal(item?.type, "chunk", JSON.stringify(item));
  return (item as StreamItem & { type: "chunk" }).chunk;
}

Deno.test("azureStream() drops chunks without choices or usage", async (t) => {
  const cases: [string, string][] = [
    ["the prompt-filter chunk", PROMPT_FILTER],
    [
      "the prompt-filter chunk with usage null (usage asked)",
      JSON.stringify({ ...JSON.parse(PROMPT_FILTER), usage: null }),
    ],
    [
      "a prompt-filter chunk without identity fields",
      JSON.stringify({ prompt_filter_results: [], choices: [], usage: null }),
    ],
    [
      "an empty choices chunk with an identity",
      JSON.stringify({
        id: "x",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [],
      }),
    ],
  ];
  for (const [name, data] of cases) {
    await t.step(name, () => {
      assert.deepEqual(run([data, "[DONE]"]), [{ type: "done" }]);
    });
  }
  await t.step("the usage chunk (choices: []) is kept", () => {
    const items = run([USAGE, "[DONE]"]);
    assert.equal(items.length, 2);
    assert.deepEqual(chunkOf(items[0]).usage, {
      prompt_tokens: 9,
      completion_tokens: 2,
      total_tokens: 11,
    });
  });
});

Deno.test("azureStream() passes complete chunks on byte for byte", async (t) => {
  const cases: [string, string, boolean][] = [
    ["a content chunk with content_filter_results", content("Hello"), false],
    ["usage null is marked for stripping", content("Hello", { usage: null }), true],
    ["a content_filter finish", finish("content_filter", { violence: { filtered: true } }), false],
  ];
  for (const [name, data, nullUsage] of cases) {
    await t.step(name, () => {
      assert.deepEqual(run([data]), [{ type: "raw", raw: data, nullUsage }]);
    });
  }
});

Deno.test("azureStream() gives blank chunks the stream's identity", async (t) => {
  await t.step("from the first complete chunk", () => {
    const items = run([PROMPT_FILTER, content("Hi"), annotation(), finish("stop"), "[DONE]"]);
    assert.deepEqual(items.map((item) => item.type), ["raw", "chunk", "raw", "done"]);
    const chunk = chunkOf(items[1]);
    assert.equal(chunk.id, "chatcmpl-azure");
    assert.equal(chunk.object, "chat.completion.chunk");
    assert.equal(chunk.created, 1_764_000_000);
    assert.equal(chunk.model, "gpt-4o-2024-11-20");
    assert.ok(!("raw" in (items[1] as object)), "a changed chunk is re-serialised");
  });
  await t.step("content_filter_results and offsets kept, delta {} added", () => {
    const [item] = run([content("Hi"), annotation()]).slice(1);
    const [choice] = chunkOf(item).choices as Record<string, unknown>[];
    assert.deepEqual(choice, {
      content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 10 },
      content_filter_results: { hate: SAFE, violence: SAFE },
      finish_reason: null,
      index: 0,
      delta: {},
    });
  });
  await t.step("from the context when no complete chunk came first", () => {
    const chunk = chunkOf(run([PROMPT_FILTER, annotation()])[0]);
    assert.equal(chunk.id, CTX.id);
    assert.equal(chunk.created, CTX.created);
    assert.equal(chunk.model, CTX.model);
    assert.equal(chunk.object, "chat.completion.chunk");
  });
  await t.step("the first complete chunk wins over later ones", () => {
    const other = content("x").replace("chatcmpl-azure", "chatcmpl-other");
    const items = run([content("a"), other, annotation()]);
    assert.equal(chunkOf(items[2]).id, "chatcmpl-azure");
  });
  await t.step("a parsed complete chunk (usage numbers) sets the identity", () => {
    const items = run([USAGE, annotation()]);
    assert.equal(chunkOf(items[1]).id, "chatcmpl-azure");
  });
  await t.step("only the blank fields are replaced", () => {
    const partial = annotation({ id: "chatcmpl-own", model: "gpt-4o-mini" });
    const chunk = chunkOf(run([content("a"), partial])[1]);
    assert.equal(chunk.id, "chatcmpl-own");
    assert.equal(chunk.model, "gpt-4o-mini");
    assert.equal(chunk.created, 1_764_000_000);
  });
  await t.step("a blank chunk's usage null is dropped for a client that did not ask", () => {
    const items = run([content("a"), annotation({ usage: null })]);
    const [, sent] = clientData(items, false);
    assert.ok(sent !== undefined && !sent.includes('"usage"'), sent);
  });
  await t.step("a chunk matched only by a nested blank id is passed on unchanged", () => {
    const data = content("a").replace(
      '"delta":{"content":"a"}',
      '"delta":{"tool_calls":[{"index":0,"id":"","function":{"arguments":"{}"}}]}',
    );
    const items = run([data]);
    assert.equal(items.length, 1);
    const item = items[0] as StreamItem & { type: "chunk" };
    assert.equal(item.type, "chunk");
    assert.equal(item.raw, data);
  });
});

Deno.test("azureStream() turns an error event into an error item", async (t) => {
  const body = {
    error: {
      message: "The server had an error while processing your request.",
      type: "server_error",
      param: null,
      code: null,
    },
  };
  await t.step("an error object in the data", () => {
    const items = run([content("a"), JSON.stringify(body)], "azure-eu");
    assert.equal(items.length, 2);
    const last = items[1];
    assert.ok(last?.type === "error");
    assert.ok(last.error instanceof GatewayError);
    assert.equal(last.error.status, 502);
    assert.equal(last.error.type, "server_error");
    assert.equal(
      last.error.message,
      "azure-eu: The server had an error while processing your request.",
    );
  });
  await t.step("an event named error", () => {
    const items = run([{ event: "error", data: JSON.stringify({ error: { message: "boom" } }) }]);
    assert.equal(items[0]?.type, "error");
  });
  await t.step("a content filter's own error inside its results is not a stream error", () => {
    const data = content("a").replace(
      '"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}',
      '"content_filter_results":{"error":{"code":"content_filter_error","message":"timed out"}}',
    );
    assert.ok(data.includes("content_filter_error"));
    const [item] = run([data]);
    assert.equal(item?.type, "chunk", "parsed, since it names an error, but passed on");
    assert.equal((item as StreamItem & { type: "chunk" }).raw, data);
  });
  await t.step("a stream that is not JSON", () => {
    const items = run(['{"choices":[],"id":"" oops}']);
    assert.equal(items[0]?.type, "error");
  });
});

Deno.test("azureStream() ends on [DONE] only", async (t) => {
  await t.step("[DONE] → done", () => {
    assert.deepEqual(run(["[DONE]"]), [{ type: "done" }]);
  });
  await t.step("no [DONE]: nothing more is emitted (the client stream reports the cut)", () => {
    assert.deepEqual(run([PROMPT_FILTER]), []);
  });
});

Deno.test("azureStream() output reaches the client as OpenAI chunks", async (t) => {
  const events = [
    PROMPT_FILTER,
    content("Hel", { usage: null }),
    annotation({ usage: null }),
    content("lo", { usage: null }),
    JSON.stringify({
      ...JSON.parse(finish("content_filter", { violence: { filtered: true } })),
      usage: null,
    }),
    USAGE,
    "[DONE]",
  ];
  for (const includeUsage of [false, true]) {
    await t.step(`include_usage ${includeUsage}`, () => {
      const data = clientData(run(events), includeUsage);
      assert.equal(data.at(-1), "[DONE]");
      const chunks = data.slice(0, -1).map((text) => JSON.parse(text) as Record<string, unknown>);
      assert.equal(chunks.length, includeUsage ? 5 : 4);
      for (const chunk of chunks) {
        assert.equal(chunk.id, "chatcmpl-azure");
        assert.equal(chunk.object, "chat.completion.chunk");
        assert.equal(chunk.created, 1_764_000_000);
        assert.equal("usage" in chunk, includeUsage);
      }
      const finishes = chunks.flatMap((chunk) =>
        (chunk.choices as { finish_reason: string | null }[]).map((choice) => choice.finish_reason)
      );
      assert.ok(finishes.includes("content_filter"));
      for (const chunk of chunks.slice(0, 4)) {
        assert.equal((chunk.choices as unknown[]).length, 1, "choices[0] always exists");
      }
    });
  }
});
