/**
 * The SQLite store of Responses, against a real database file: scoping by key, conversations,
 * item lookup, paging, expiry and purge, natively passed-through ids, and the schema migration.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { GatewayError } from "../../src/errors.ts";
import type { ResponseItem } from "../../src/dialects/responses/items.ts";
import type { ResponseObject } from "../../src/dialects/responses/output.ts";
import { toResponsesResponse } from "../../src/dialects/responses/response.ts";
import { toStoredInputItems } from "../../src/dialects/responses/store.ts";
import { parseResponsesRequest } from "../../src/dialects/responses/schema.ts";
import { openResponsesStore } from "../../src/usage/responses_store.ts";
import { openUsageRecorder } from "../../src/usage/store.ts";
import { createLogger } from "../../src/log.ts";
import { SCHEMA_VERSION } from "../../src/usage/_db.ts";

const DAY = 86_400_000;
const TTL = 30 * DAY;
const T0 = Date.UTC(2026, 0, 1);

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-responses-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A store on a file in `dir` with a clock the test moves. */
function openStore(dir: string, clock: { now: number }, purgeIntervalMs?: number) {
  return openResponsesStore(`${dir}/choreoai.db`, {
    ttlMs: TTL,
    now: () => clock.now,
    purgeIntervalMs,
  });
}

function count(path: string, table: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n);
  } finally {
    db.close();
  }
}

/** One turn: a request saying `said`, answered `answer`, as the route would store it. */
function turn(id: string, said: string, answer: string, previous?: string) {
  const parsed = parseResponsesRequest({
    model: "smart",
    input: said,
    ...(previous === undefined ? {} : { previous_response_id: previous }),
  });
  if (!parsed.ok) throw parsed.error;
  const newItemId = (prefix: string) => `${prefix}_${id}_${said.length}${answer.length}`;
  const response = toResponsesResponse({
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop" }],
  }, { id, createdAt: 1, model: "smart", request: parsed.request, newItemId });
  if (response instanceof GatewayError) throw response;
  const input = toStoredInputItems(parsed.request, { newItemId: (p) => `${p}_in_${id}` });
  return { response, input };
}

function save(store: ReturnType<typeof openStore>, keyId: string, t: ReturnType<typeof turn>) {
  return store.save({ keyId, response: t.response, input: t.input, provider: "anthropic" });
}

/** The texts of a conversation's items, for comparison. */
function texts(items: readonly ResponseItem[] | undefined): string[] | undefined {
  return items?.map((item) =>
    (item.content as { text: string }[]).map((part) => `${item.role}:${part.text}`).join("")
  );
}

Deno.test("ResponsesStore keeps responses per key", async () => {
  await withTempDir(async (dir) => {
    const clock = { now: T0 };
    const store = openStore(dir, clock);
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
    const reopened = openStore(dir, clock);
    assert.equal((await reopened.get("key_a", "resp_1"))?.id, "resp_1", "kept on disk");
    await reopened.close();
  });
});

Deno.test("ResponsesStore lists input items and finds items by id", async () => {
  await withTempDir(async (dir) => {
    const store = openStore(dir, { now: T0 });
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
    const found = await store.items("key_a", [outputId, "msg_in_resp_1", "nope"]);
    assert.deepEqual([...found.keys()], [outputId, "msg_in_resp_1"]);
    assert.deepEqual(found.get(outputId), one.response.output[0]);
    await store.close();
  });
});

Deno.test("ResponsesStore.conversation() walks previous_response_id, oldest first", async (t) => {
  await withTempDir(async (dir) => {
    const store = openStore(dir, { now: T0 });
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
  });
});

Deno.test("ResponsesStore expires records after the TTL and purges them", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/choreoai.db`;
    const clock = { now: T0 };
    const store = openStore(dir, clock, DAY);
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
      assert.deepEqual(await store.items("key_a", ["msg_in_resp_2"]), new Map());
      assert.equal(count(path, "responses"), 3, "not purged yet");
    });
    await t.step("the next write purges what expired", async () => {
      await store.saveNative({ keyId: "key_a", id: "resp_native", provider: "openai" });
      assert.equal(count(path, "responses"), 2);
      assert.equal(count(path, "response_items"), 2);
    });
    await t.step("purgeExpired() purges at once", async () => {
      clock.now = T0 + 100 * DAY;
      assert.equal(await store.purgeExpired(), 2);
      assert.equal(count(path, "responses"), 0);
      assert.equal(count(path, "response_items"), 0);
    });
    await store.close();
  });
});

Deno.test("ResponsesStore records which provider owns a native id", async () => {
  await withTempDir(async (dir) => {
    const clock = { now: T0 };
    const store = openStore(dir, clock);
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
  });
});

Deno.test("openResponsesStore() migrates a version 1 usage database and shares it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/choreoai.db`;
    const v1 = new DatabaseSync(path);
    v1.exec(`CREATE TABLE requests (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,
      key_id TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT, provider TEXT,
      status INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
      total_tokens INTEGER NOT NULL, latency_ms REAL NOT NULL, ttfb_ms REAL);
      CREATE TABLE key_stats (key_id TEXT PRIMARY KEY, last_used_at INTEGER NOT NULL,
      requests INTEGER NOT NULL, errors INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO requests VALUES (1, 1, 'k', '/v1/chat/completions', 'm', 'p', 200, 1, 1, 2, 1, 1);
      PRAGMA user_version = 1;`);
    v1.close();
    const store = openStore(dir, { now: T0 });
    await save(store, "key_a", turn("resp_1", "Hi", "Hello"));
    const log = createLogger(() => {}, () => T0);
    const recorder = openUsageRecorder(path, { log });
    await recorder.close();
    await store.close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      assert.equal(Number(db.prepare("PRAGMA user_version").get()?.user_version), SCHEMA_VERSION);
      assert.equal(Number(db.prepare("SELECT count(*) AS n FROM requests").get()?.n), 1);
      assert.equal(Number(db.prepare("SELECT count(*) AS n FROM responses").get()?.n), 1);
    } finally {
      db.close();
    }
  });
});

Deno.test("openResponsesStore() refuses a newer schema; a closed store rejects", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/choreoai.db`;
    const store = openStore(dir, { now: T0 });
    await store.close();
    await assert.rejects(store.get("key_a", "resp_1"));
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    assert.throws(
      () => openStore(dir, { now: T0 }),
      new RegExp(`schema version 99 is newer than ${SCHEMA_VERSION}`),
    );
  });
});

Deno.test("ResponsesStore keeps a response whose output is empty", async () => {
  await withTempDir(async (dir) => {
    const store = openStore(dir, { now: T0 });
    const one = turn("resp_1", "Hi", "");
    assert.deepEqual(one.response.output, []);
    await save(store, "key_a", one);
    const record = await store.get("key_a", "resp_1");
    assert.deepEqual(record?.kind === "stored" && record.response, one.response as ResponseObject);
    await store.close();
  });
});
