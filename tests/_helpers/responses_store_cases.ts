/**
 * The behaviour every {@linkcode ResponsesStore} shares, as a table of cases run against each
 * implementation (SQLite: tests/usage/responses_store_test.ts, PostgreSQL:
 * tests/db/responses_store_test.ts): scoping by key, conversations, item lookup, paging, expiry
 * and purge, natively passed-through ids. Each case gets an empty database of its own.
 */
import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.ts";
import type { ResponseItem } from "../../src/dialects/responses/items.ts";
import type { ResponseObject } from "../../src/dialects/responses/output.ts";
import { toResponsesResponse } from "../../src/dialects/responses/response.ts";
import { type ResponsesStore, toStoredInputItems } from "../../src/dialects/responses/store.ts";
import { parseResponsesRequest } from "../../src/dialects/responses/schema.ts";

export const DAY = 86_400_000;
export const TTL = 30 * DAY;
export const T0 = Date.UTC(2026, 0, 1);

/** A clock the test moves. */
export interface Clock {
  now: number;
}

/** An empty database of one implementation, for one case. */
export interface StoreBackend extends AsyncDisposable {
  /** A store on this database (TTL {@linkcode TTL}); several may be open at once. */
  open(clock: Clock, purgeIntervalMs?: number): ResponsesStore;
  /** How many rows a table holds. */
  count(table: "responses" | "response_items"): Promise<number>;
}

/** A response as the route would store it, with its input items. */
export interface Turn {
  readonly response: ResponseObject;
  readonly input: ResponseItem[];
}

/**
 * One turn: a request saying `said` (a string, or one message a string, with id `msg_<text>`),
 * answered `answer`, as the route would store it.
 */
export function turn(
  id: string,
  said: string | string[],
  answer: string,
  previous?: string,
): Turn {
  const input = typeof said === "string"
    ? said
    : said.map((text) => ({ type: "message", role: "user", content: text, id: `msg_${text}` }));
  const parsed = parseResponsesRequest({
    model: "smart",
    input,
    ...(previous === undefined ? {} : { previous_response_id: previous }),
  });
  if (!parsed.ok) throw parsed.error;
  const newItemId = (prefix: string) => `${prefix}_${id}_${said.length}${answer.length}`;
  const response = toResponsesResponse({
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }],
  }, { id, createdAt: 1, model: "smart", request: parsed.request, newItemId });
  if (response instanceof GatewayError) throw response;
  const stored = toStoredInputItems(parsed.request, { newItemId: (p) => `${p}_in_${id}` });
  return { response, input: stored };
}

/** Saves a turn as answered by `anthropic`. */
export function save(store: ResponsesStore, keyId: string, t: Turn): Promise<void> {
  return store.save({ keyId, response: t.response, input: t.input, provider: "anthropic" });
}

/** The texts of a conversation's items, for comparison. */
export function texts(items: readonly ResponseItem[] | undefined): string[] | undefined {
  return items?.map((item) =>
    (item.content as { text: string }[]).map((part) => `${item.role}:${part.text}`).join("")
  );
}

/** The ids of a page's items. */
function ids(items: readonly ResponseItem[] | undefined): unknown[] | undefined {
  return items?.map((item) => item.id);
}

type Case = readonly [name: string, run: (b: StoreBackend, t: Deno.TestContext) => Promise<void>];

/** The shared cases: a name, and what to do with a fresh backend. */
export const RESPONSES_STORE_CASES: readonly Case[] = [
  ["keeps responses per key, for a store opened again", async (backend) => {
    const clock = { now: T0 };
    const store = backend.open(clock);
    const one = turn("resp_1", "Hi", "Hello!");
    await save(store, "key_a", one);
    const record = await store.get("key_a", "resp_1");
    assert.equal(record?.kind, "stored");
    assert.deepEqual(record?.kind === "stored" && record.response, one.response);
    assert.deepEqual([record?.provider, record?.createdAt, record?.expiresAt], [
      "anthropic",
      T0,
      T0 + TTL,
    ]);
    assert.equal(await store.get("key_b", "resp_1"), undefined, "another key sees nothing");
    assert.equal(await store.get("key_a", "resp_x"), undefined);
    assert.equal(await store.inputItems("key_b", "resp_1"), undefined);
    assert.equal(await store.conversation("key_b", "resp_1"), undefined);
    assert.deepEqual(await store.items("key_b", ["msg_in_resp_1"]), new Map());
    assert.equal(await store.delete("key_b", "resp_1"), false);
    await store.close();
    const reopened = backend.open(clock);
    assert.equal((await reopened.get("key_a", "resp_1"))?.id, "resp_1", "kept");
    await reopened.close();
  }],
  ["lists input items and finds items by id", async (backend) => {
    const store = backend.open({ now: T0 });
    const one = turn("resp_1", "Hi", "Hello!");
    await save(store, "key_a", one);
    const list = await store.inputItems("key_a", "resp_1");
    assert.deepEqual(list, {
      object: "list",
      data: one.input,
      first_id: "msg_in_resp_1",
      last_id: "msg_in_resp_1",
      has_more: false,
    });
    const outputId = one.response.output[0]?.id ?? "";
    const found = await store.items("key_a", [outputId, "msg_in_resp_1", "nope", outputId]);
    assert.deepEqual([...found.keys()], [outputId, "msg_in_resp_1"]);
    assert.deepEqual(found.get(outputId), one.response.output[0]);
    assert.deepEqual(await store.items("key_a", []), new Map());
    await store.close();
  }],
  ["pages input items with after, before, limit and order", async (backend, t) => {
    const store = backend.open({ now: T0 });
    // Ids with a quote and a comma: array parameters must carry them whole.
    const said = ["a", "b,c", 'd"e', "f", "g"];
    await save(store, "key_a", turn("resp_1", said, "ok"));
    const all = said.map((text) => `msg_${text}`);
    const cases: [string, Parameters<ResponsesStore["inputItems"]>[2], unknown[], boolean][] = [
      ["newest first by default", {}, [...all].reverse(), false],
      ["asc, limit 2", { order: "asc", limit: 2 }, all.slice(0, 2), true],
      ["asc, after the second", { order: "asc", after: "msg_b,c" }, all.slice(2), false],
      ["desc, before the fourth", { before: "msg_f" }, ["msg_g"], false],
      ["asc, before the last, limit 2", { order: "asc", before: "msg_g", limit: 2 }, [
        'msg_d"e',
        "msg_f",
      ], true],
      ["an unknown cursor", { after: "msg_zz" }, [], false],
    ];
    for (const [name, query, expected, hasMore] of cases) {
      await t.step(name, async () => {
        const page = await store.inputItems("key_a", "resp_1", query);
        assert.deepEqual([ids(page?.data), page?.has_more], [expected, hasMore]);
      });
    }
    const found = await store.items("key_a", ['msg_d"e', "msg_b,c"]);
    assert.deepEqual([...found.keys()], ['msg_d"e', "msg_b,c"]);
    await store.close();
  }],
  ["conversation() walks previous_response_id, oldest first", async (backend, t) => {
    const store = backend.open({ now: T0 });
    await save(store, "key_a", turn("resp_1", "One", "1"));
    await save(store, "key_a", turn("resp_2", "Two", "2", "resp_1"));
    await save(store, "key_a", turn("resp_3", "Three", "3", "resp_2"));
    await t.step("the whole chain", async () => {
      assert.deepEqual(texts(await store.conversation("key_a", "resp_3")), [
        "user:One",
        "assistant:1",
        "user:Two",
        "assistant:2",
        "user:Three",
        "assistant:3",
      ]);
    });
    await t.step("a deleted predecessor ends the walk", async () => {
      assert.equal(await store.delete("key_a", "resp_2"), true);
      assert.deepEqual(texts(await store.conversation("key_a", "resp_3")), [
        "user:Three",
        "assistant:3",
      ]);
      assert.equal(await store.get("key_a", "resp_2"), undefined);
      assert.deepEqual(await store.items("key_a", ["msg_in_resp_2"]), new Map());
      assert.equal(await store.delete("key_a", "resp_2"), false);
    });
    await store.close();
  }],
  ["expires records after the TTL and purges them", async (backend, t) => {
    const clock = { now: T0 };
    const store = backend.open(clock, DAY);
    await save(store, "key_a", turn("resp_1", "One", "1"));
    await t.step("a continuation keeps its predecessors alive", async () => {
      clock.now = T0 + 20 * DAY;
      await save(store, "key_a", turn("resp_2", "Two", "2", "resp_1"));
      clock.now = T0 + 40 * DAY;
      assert.equal((await store.get("key_a", "resp_1"))?.expiresAt, T0 + 50 * DAY);
      assert.equal((await store.conversation("key_a", "resp_2"))?.length, 4);
    });
    await t.step("past the TTL nothing is visible", async () => {
      await save(store, "key_a", turn("resp_3", "Lone", "x"));
      clock.now = T0 + 50 * DAY;
      assert.equal(await store.get("key_a", "resp_2"), undefined);
      assert.equal(await store.inputItems("key_a", "resp_2"), undefined);
      assert.equal(await store.conversation("key_a", "resp_2"), undefined);
      assert.deepEqual(await store.items("key_a", ["msg_in_resp_2"]), new Map());
      assert.equal(await store.delete("key_a", "resp_2"), false);
      assert.equal(await backend.count("responses"), 3, "not purged yet");
    });
    await t.step("the next write purges what expired", async () => {
      await store.saveNative({ keyId: "key_a", id: "resp_native", provider: "openai" });
      assert.equal(await backend.count("responses"), 2);
      assert.equal(await backend.count("response_items"), 2);
    });
    await t.step("purgeExpired() purges at once", async () => {
      clock.now = T0 + 100 * DAY;
      assert.equal(await store.purgeExpired(), 2);
      assert.equal(await backend.count("responses"), 0);
      assert.equal(await backend.count("response_items"), 0);
    });
    await store.close();
  }],
  ["records which provider owns a native id", async (backend) => {
    const clock = { now: T0 };
    const store = backend.open(clock);
    await store.saveNative({ keyId: "key_a", id: "resp_o1", provider: "azure-eu" });
    clock.now = T0 + 25 * DAY;
    await store.saveNative({
      keyId: "key_a",
      id: "resp_o2",
      provider: "azure-eu",
      previousResponseId: "resp_o1",
    });
    assert.deepEqual(await store.get("key_a", "resp_o1"), {
      kind: "native",
      id: "resp_o1",
      provider: "azure-eu",
      createdAt: T0,
      expiresAt: T0 + 25 * DAY + TTL,
    });
    assert.equal(await store.get("key_b", "resp_o1"), undefined);
    assert.equal(await store.inputItems("key_a", "resp_o1"), undefined, "the provider lists them");
    assert.equal(await store.conversation("key_a", "resp_o2"), undefined);
    assert.equal(await store.delete("key_a", "resp_o1"), true);
    assert.equal(await store.get("key_a", "resp_o1"), undefined);
    await store.close();
  }],
  ["keeps a response whose output is empty", async (backend) => {
    const store = backend.open({ now: T0 });
    const one = turn("resp_1", "Hi", "");
    assert.deepEqual(one.response.output, []);
    await save(store, "key_a", one);
    const record = await store.get("key_a", "resp_1");
    assert.deepEqual(record?.kind === "stored" && record.response, one.response as ResponseObject);
    assert.deepEqual(texts(await store.conversation("key_a", "resp_1")), ["user:Hi"]);
    const empty = turn("resp_2", [], "");
    await save(store, "key_a", empty);
    assert.deepEqual(await store.conversation("key_a", "resp_2"), []);
    assert.deepEqual((await store.inputItems("key_a", "resp_2"))?.data, []);
    await store.close();
  }],
];

/** Runs every case of {@linkcode RESPONSES_STORE_CASES} as a step, each on a fresh backend. */
export async function runResponsesStoreCases(
  t: Deno.TestContext,
  fresh: () => Promise<StoreBackend>,
): Promise<void> {
  for (const [name, run] of RESPONSES_STORE_CASES) {
    await t.step(name, async (t) => {
      await using backend = await fresh();
      await run(backend, t);
    });
  }
}
