import assert from "node:assert/strict";
import { GatewayError } from "../../../src/errors.ts";
import type { ResponseItem } from "../../../src/dialects/responses/items.ts";
import {
  pageItems,
  parseInputItemsQuery,
  previousResponseNotFound,
  referencedItemIds,
  responseNotFound,
  toStoredInputItems,
} from "../../../src/dialects/responses/store.ts";
import { parseResponsesRequest } from "../../../src/dialects/responses/schema.ts";
import { sdkClient } from "./_sdk.ts";

function request(input: unknown) {
  const parsed = parseResponsesRequest({ model: "m", input });
  if (!parsed.ok) throw parsed.error;
  return parsed.request;
}

function numbered() {
  let n = 0;
  return (prefix: string) => `${prefix}_${++n}`;
}

Deno.test("referencedItemIds() lists the ids item references name, once each", () => {
  assert.deepEqual(referencedItemIds(request("Hi")), []);
  assert.deepEqual(
    referencedItemIds(request([
      { type: "item_reference", id: "msg_1" },
      { role: "user", content: "x", id: "msg_9" },
      { id: "fc_2" },
      { type: "item_reference", id: "msg_1" },
    ])),
    ["msg_1", "fc_2"],
  );
});

Deno.test("toStoredInputItems() keeps input items as input_items lists them", async (t) => {
  await t.step("a string input is one user message with an id", () => {
    assert.deepEqual(toStoredInputItems(request("Hi"), { newItemId: numbered() }), [
      {
        id: "msg_1",
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: "Hi" }],
        status: "completed",
      },
    ]);
  });
  await t.step("items get ids, types and statuses; references are replaced", () => {
    const items = new Map<string, ResponseItem>([
      ["msg_old", { id: "msg_old", type: "message", role: "assistant", content: [] }],
    ]);
    const stored = toStoredInputItems(
      request([
        { role: "assistant", content: "Before" },
        { role: "developer", content: [{ type: "input_text", text: "Rules" }], id: "msg_mine" },
        { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "c", output: "ok" },
        { type: "reasoning", summary: [] },
        { type: "item_reference", id: "msg_old" },
        { id: "msg_gone" },
      ]),
      { items, newItemId: numbered() },
    );
    assert.deepEqual(stored, [
      {
        id: "msg_1",
        type: "message",
        role: "assistant",
        content: [{ type: "output_text", text: "Before", annotations: [] }],
        status: "completed",
      },
      {
        id: "msg_mine",
        type: "message",
        role: "developer",
        content: [{ type: "input_text", text: "Rules" }],
        status: "completed",
      },
      {
        id: "fc_2",
        type: "function_call",
        call_id: "c",
        name: "f",
        arguments: "{}",
        status: "completed",
      },
      {
        id: "fco_3",
        type: "function_call_output",
        call_id: "c",
        output: "ok",
        status: "completed",
      },
      { id: "rs_4", type: "reasoning", summary: [] },
      { id: "msg_old", type: "message", role: "assistant", content: [] },
    ]);
  });
});

Deno.test("parseInputItemsQuery() reads OpenAI's paging parameters", async (t) => {
  const ok: [string, Record<string, unknown>][] = [
    ["", {}],
    ["limit=5&order=asc&after=msg_1&include=x", { limit: 5, order: "asc", after: "msg_1" }],
    ["before=msg_3&after=", { before: "msg_3" }],
  ];
  for (const [search, expected] of ok) {
    await t.step(search || "nothing", () => {
      assert.deepEqual(parseInputItemsQuery(new URLSearchParams(search)), expected);
    });
  }
  for (
    const [search, param] of [["limit=0", "limit"], ["limit=101", "limit"], [
      "limit=abc",
      "limit",
    ], ["order=up", "order"]]
  ) {
    await t.step(search as string, () => {
      const error = parseInputItemsQuery(new URLSearchParams(search));
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 400);
      assert.equal(error.param, param);
    });
  }
});

const ITEMS: ResponseItem[] = ["a", "b", "c", "d", "e"].map((id) => ({ id, type: "message" }));
const ids = (list: { data: ResponseItem[] }) => list.data.map((item) => item.id);

Deno.test("pageItems() pages like OpenAI's lists", async (t) => {
  await t.step("newest first by default, 20 at most", () => {
    const page = pageItems(ITEMS);
    assert.deepEqual(ids(page), ["e", "d", "c", "b", "a"]);
    assert.deepEqual([page.object, page.first_id, page.last_id, page.has_more], [
      "list",
      "e",
      "a",
      false,
    ]);
  });
  const cases: [string, Parameters<typeof pageItems>[1], string[], boolean][] = [
    ["asc with a limit", { order: "asc", limit: 2 }, ["a", "b"], true],
    ["after a cursor", { order: "asc", after: "b", limit: 2 }, ["c", "d"], true],
    ["after the last", { order: "asc", after: "e" }, [], false],
    ["desc after a cursor", { after: "c" }, ["b", "a"], false],
    ["before a cursor", { order: "asc", before: "d", limit: 2 }, ["b", "c"], true],
    ["an unknown cursor", { after: "zz" }, [], false],
  ];
  for (const [name, query, expected, more] of cases) {
    await t.step(name, () => {
      const page = pageItems(ITEMS, query);
      assert.deepEqual(ids(page), expected);
      assert.equal(page.has_more, more);
    });
  }
  await t.step("an empty page has no first or last id", () => {
    const page = pageItems([]);
    assert.deepEqual([page.first_id, page.last_id], [null, null]);
  });
});

Deno.test("pageItems() and parseInputItemsQuery() serve the SDK's auto-pagination", async () => {
  const seen: string[] = [];
  const client = sdkClient((req) => {
    const url = new URL(req.url);
    seen.push(url.search);
    const query = parseInputItemsQuery(url.searchParams);
    if (query instanceof GatewayError) return Response.json(query.toJSON(), { status: 400 });
    return Response.json(pageItems(ITEMS, query));
  });
  const got: string[] = [];
  for await (const item of client.responses.inputItems.list("resp_1", { limit: 2, order: "asc" })) {
    got.push((item as { id: string }).id);
  }
  assert.deepEqual(got, ["a", "b", "c", "d", "e"]);
  assert.equal(seen.length, 3);
});

Deno.test("responseNotFound() and previousResponseNotFound() are OpenAI's 404s", async () => {
  const gone = responseNotFound("resp_x");
  assert.deepEqual(gone.toJSON(), {
    error: {
      message: "Response with id 'resp_x' not found.",
      type: "invalid_request_error",
      param: null,
      code: "not_found",
    },
  });
  const previous = previousResponseNotFound("resp_y");
  assert.equal(previous.status, 404);
  assert.equal(previous.param, "previous_response_id");
  const client = sdkClient(() => Response.json(previous.toJSON(), { status: 404 }));
  await assert.rejects(
    client.responses.create({ model: "m", input: "x", previous_response_id: "resp_y" }),
    (error: unknown) => error instanceof Error && error.constructor.name === "NotFoundError",
  );
});
