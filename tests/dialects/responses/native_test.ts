import assert from "node:assert/strict";
import { withStoredItems } from "../../../src/dialects/responses/native.ts";
import { parseResponsesRequest } from "../../../src/dialects/responses/schema.ts";
import type { ResponseItem } from "../../../src/dialects/responses/items.ts";

function parsed(body: Record<string, unknown>) {
  const result = parseResponsesRequest(body);
  if (!result.ok) throw result.error;
  return result.request;
}

const USER: ResponseItem = {
  id: "msg_u",
  type: "message",
  role: "user",
  status: "completed",
  content: [{ type: "input_text", text: "My name is Ada." }],
};
const ANSWER: ResponseItem = {
  id: "msg_a",
  type: "message",
  role: "assistant",
  status: "completed",
  content: [{ type: "output_text", text: "Hello Ada.", annotations: [], logprobs: [] }],
};
const THOUGHT: ResponseItem = {
  id: "rs_1",
  type: "reasoning",
  summary: [{ type: "summary_text", text: "Hm" }],
};
const OPENAI_THOUGHT: ResponseItem = { ...THOUGHT, id: "rs_2", encrypted_content: "gAAAA" };

const strip = ({ id: _id, ...rest }: ResponseItem) => rest;

Deno.test("withStoredItems() writes what only the gateway keeps into input", async (t) => {
  await t.step("nothing stored is needed: the body itself", () => {
    const body = { model: "gpt-5", input: [{ type: "item_reference", id: "msg_openai" }] };
    const out = withStoredItems(body, parsed(body), { items: new Map() });
    assert.equal(out, body);
  });
  await t.step("a stored conversation: prepended, ids removed, previous_response_id gone", () => {
    const body = {
      model: "gpt-5",
      input: "And my name?",
      previous_response_id: "resp_1",
      store: true,
    };
    const out = withStoredItems(body, parsed(body), {
      history: [USER, THOUGHT, OPENAI_THOUGHT, ANSWER],
    });
    assert.deepEqual(out, {
      model: "gpt-5",
      store: true,
      input: [
        strip(USER),
        OPENAI_THOUGHT,
        strip(ANSWER),
        { type: "message", role: "user", content: "And my name?" },
      ],
    });
    assert.equal(body.previous_response_id, "resp_1", "the body itself is unchanged");
  });
  await t.step("item_references: stored ones resolved, the provider's own left", () => {
    const body = {
      model: "gpt-5",
      input: [
        { role: "user", content: "Hi" },
        { type: "item_reference", id: "msg_a" },
        { id: "rs_1" },
        { type: "item_reference", id: "msg_openai" },
      ],
      previous_response_id: "resp_openai",
    };
    const out = withStoredItems(body, parsed(body), {
      items: new Map([["msg_a", ANSWER], ["rs_1", THOUGHT]]),
    });
    assert.deepEqual(out, {
      ...body,
      input: [
        { role: "user", content: "Hi" },
        strip(ANSWER),
        { type: "item_reference", id: "msg_openai" },
      ],
    });
  });
});
