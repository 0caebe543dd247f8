/**
 * Stored Responses, end to end through the official `openai` client: `retrieve`, `delete` and
 * `inputItems.list` of a translated response (kept by the gateway) and of a passed-through one
 * (kept by OpenAI, the calls forwarded to it), scoping by key (another key's id is 404), `store:
 * false`, and expiry after the TTL (the store's clock injected).
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { openResponsesStore } from "../../src/usage/responses_store.ts";
import type { UsageRecord } from "../../src/usage/recorder.ts";
import { ANTHROPIC_KEY, startFakeAnthropic } from "../_helpers/fake_anthropic.ts";
import { anthropicModel } from "../_helpers/fake_model.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import {
  CLIENT_KEY,
  type GatewayOptions,
  openaiClient,
  startGateway,
  waitFor,
} from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

/** A gateway in front of a fake OpenAI and a fake Anthropic. */
function startBoth(options: GatewayOptions = {}) {
  const openai = startFakeOpenAI();
  const anthropic = startFakeAnthropic(anthropicModel());
  const gateway = startGateway({
    ...options,
    env: {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      ...options.env,
    },
  });
  return {
    gateway,
    openai,
    anthropic,
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await openai[Symbol.asyncDispose]();
      await anthropic[Symbol.asyncDispose]();
    },
  };
}

/** The error a call raised (it must raise one). */
async function raised(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  assert.fail("the call succeeded");
}

const INPUT: OpenAI.Responses.ResponseInput = [
  { role: "developer", content: "Be brief." },
  { role: "user", content: "Hi" },
  { role: "user", content: [{ type: "input_text", text: "How are you?" }] },
];

Deno.test("a translated response: retrieve, input items (paged), delete", async (t) => {
  await using s = startBoth();
  const client = openaiClient(s.gateway);
  const created = await client.responses.create({ model: "claude-sonnet-4-5", input: INPUT });

  await t.step("retrieve gives the same response, served by the gateway", async () => {
    const { data, response } = await client.responses.retrieve(created.id).withResponse();
    assert.deepEqual(JSON.parse(JSON.stringify(data)), JSON.parse(JSON.stringify(created)));
    assert.equal(response.headers.get("x-choreoai-provider"), "choreoai");
  });

  await t.step("input items: newest first by default, ordered, paged", async () => {
    const page = await client.responses.inputItems.list(created.id);
    assert.deepEqual(
      page.data.map((item) => item.type === "message" ? item.role : item.type),
      ["user", "user", "developer"],
    );
    assert.ok(page.data.every((item) => typeof item.id === "string" && item.id !== ""));
    const asc = await client.responses.inputItems.list(created.id, { order: "asc", limit: 2 });
    assert.deepEqual(
      asc.data.map((item) => item.id),
      page.data.slice(1).reverse().map((item) => item.id),
    );
    assert.equal(asc.has_more, true);
    const rest = await client.responses.inputItems.list(created.id, {
      order: "asc",
      after: asc.data.at(-1)?.id ?? "",
    });
    assert.deepEqual(rest.data.map((item) => item.id), [page.data[0]?.id]);
    assert.equal(rest.has_more, false);
    const bad = await raised(client.responses.inputItems.list(created.id, { limit: 500 }));
    assert.equal(bad.status, 400);
    assert.equal(bad.param, "limit");
  });

  await t.step("delete, then every call on it is 404", async () => {
    const deleted = await client.responses.delete(created.id);
    assert.deepEqual(deleted, { id: created.id, object: "response.deleted", deleted: true });
    for (
      const call of [
        client.responses.retrieve(created.id),
        client.responses.delete(created.id),
        client.responses.inputItems.list(created.id),
        client.responses.create({
          model: "claude-sonnet-4-5",
          input: "More",
          previous_response_id: created.id,
        }),
      ]
    ) {
      const error = await raised(call);
      assert.ok(error instanceof OpenAI.NotFoundError);
    }
    assert.equal(s.anthropic.requests.length, 1, "nothing more reached the provider");
  });
});

Deno.test("a passed-through response: retrieve, input items and delete are forwarded to OpenAI", async (t) => {
  await using s = startBoth();
  const client = openaiClient(s.gateway);
  const created = await client.responses.create({ model: "gpt-5-mini", input: INPUT });
  assert.ok(s.openai.storedResponses.has(created.id), "OpenAI keeps it under its own id");

  await t.step("retrieve", async () => {
    const { data, response } = await client.responses.retrieve(created.id).withResponse();
    assert.deepEqual(JSON.parse(JSON.stringify(data)), JSON.parse(JSON.stringify(created)));
    assert.equal(response.headers.get("x-choreoai-provider"), "openai");
    const last = s.openai.requests.at(-1);
    assert.equal(last?.method, "GET");
    assert.equal(last?.path, `/v1/responses/${created.id}`);
    assert.equal(last?.headers.get("authorization"), `Bearer ${PROVIDER_KEY}`);
  });

  await t.step("input items, with the client's query", async () => {
    const page = await client.responses.inputItems.list(created.id, { order: "asc", limit: 2 });
    assert.deepEqual(
      page.data.map((item) => item.type === "message" ? item.role : item.type),
      ["developer", "user"],
    );
    assert.equal(page.has_more, true);
    assert.equal(s.openai.requests.at(-1)?.path, `/v1/responses/${created.id}/input_items`);
  });

  await t.step("delete", async () => {
    const deleted = await client.responses.delete(created.id);
    assert.deepEqual(deleted, { id: created.id, object: "response.deleted", deleted: true });
    assert.equal(s.openai.requests.at(-1)?.method, "DELETE");
    assert.equal(s.openai.storedResponses.has(created.id), false);
    const requests = s.openai.requests.length;
    const error = await raised(client.responses.retrieve(created.id));
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.equal(s.openai.requests.length, requests, "the gateway knows it is gone");
  });

  await t.step("a response OpenAI no longer has is 404, and forgotten", async () => {
    const other = await client.responses.create({ model: "gpt-5-mini", input: "Hi" });
    (s.openai.storedResponses as Map<string, unknown>).delete(other.id);
    const error = await raised(client.responses.retrieve(other.id));
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.match(error.message, new RegExp(other.id));
  });
});

Deno.test("responses belong to the key that made them: another key gets 404", async () => {
  const a = makeKey();
  const b = makeKey();
  const index = compileKeyIndex(parseKeyFile(keyFileText([a.record, b.record])));
  await using s = startBoth({ verifier: createKeyListVerifier(() => index) });
  const clientA = openaiClient(s.gateway, a.token);
  const clientB = openaiClient(s.gateway, b.token);
  for (const model of ["claude-sonnet-4-5", "gpt-5-mini"]) {
    const created = await clientA.responses.create({ model, input: "Hi" });
    for (
      const call of [
        clientB.responses.retrieve(created.id),
        clientB.responses.delete(created.id),
        clientB.responses.inputItems.list(created.id),
      ]
    ) {
      const error = await raised(call);
      assert.equal(error.status, 404, model);
    }
    const followUp = await raised(
      clientB.responses.create({ model, input: "More", previous_response_id: created.id }),
    );
    assert.equal(followUp.status, 404);
    assert.equal(followUp.code, "previous_response_not_found");
    assert.equal(followUp.param, "previous_response_id");
    assert.equal((await clientA.responses.retrieve(created.id)).id, created.id, "A still has it");
  }
  assert.equal(s.openai.requests.filter((r) => r.method !== "POST").length, 1, "B reached nothing");
});

Deno.test("store: false keeps nothing: not retrievable, not continued", async (t) => {
  await using s = startBoth();
  const client = openaiClient(s.gateway);
  for (const model of ["claude-sonnet-4-5", "gpt-5-mini"]) {
    await t.step(model, async () => {
      const created = await client.responses.create({ model, input: "Hi", store: false });
      assert.equal((created as unknown as { store: boolean }).store, false);
      const error = await raised(client.responses.retrieve(created.id));
      assert.ok(error instanceof OpenAI.NotFoundError);
      const followUp = await raised(
        client.responses.create({ model, input: "More", previous_response_id: created.id }),
      );
      assert.equal(followUp.code, "previous_response_not_found");
    });
  }
  await t.step("a stream with store: false is not kept either", async () => {
    const stream = client.responses.stream({
      model: "claude-sonnet-4-5",
      input: "Hi",
      store: false,
    });
    const final = await stream.finalResponse();
    assert.ok(final.id.startsWith("resp_"));
    const error = await raised(client.responses.retrieve(final.id));
    assert.ok(error instanceof OpenAI.NotFoundError);
  });
});

Deno.test("responses expire after CHOREOAI_RESPONSES_TTL; a streamed one is kept too", async () => {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const ttlMs = 60_000;
  const store = openResponsesStore(":memory:", { ttlMs, now: () => clock.now });
  try {
    await using s = startBoth({ responses: store });
    const client = openaiClient(s.gateway, CLIENT_KEY);
    const stream = client.responses.stream({ model: "claude-sonnet-4-5", input: "Hi" });
    const streamed = await stream.finalResponse();
    const kept = await client.responses.retrieve(streamed.id);
    assert.equal(kept.output_text, streamed.output_text);
    const native = await client.responses.create({ model: "gpt-5-mini", input: "Hi" });
    clock.now += ttlMs - 1;
    assert.equal((await client.responses.retrieve(streamed.id)).id, streamed.id);
    clock.now += 2;
    for (const id of [streamed.id, native.id]) {
      const error = await raised(client.responses.retrieve(id));
      assert.ok(error instanceof OpenAI.NotFoundError, id);
      const followUp = await raised(
        client.responses.create({
          model: "claude-sonnet-4-5",
          input: "More",
          previous_response_id: id,
        }),
      );
      assert.equal(followUp.code, "previous_response_not_found");
    }
  } finally {
    await store.close();
  }
});

Deno.test("a stored conversation continues on another provider, and an id OpenAI keeps stays on OpenAI", async (t) => {
  await using s = startBoth({
    env: { OPENAI_API_KEY: PROVIDER_KEY },
    routingFile: {
      models: {
        mixed: {
          targets: [
            { provider: "anthropic", model: "claude-sonnet-4-5" },
            { provider: "openai", model: "gpt-5-mini" },
          ],
        },
        claude: { targets: [{ provider: "anthropic", model: "claude-sonnet-4-5" }] },
      },
    },
  });
  const client = openaiClient(s.gateway);

  await t.step(
    "Anthropic's answer continued on OpenAI: the conversation goes into input",
    async () => {
      const first = await client.responses.create({
        model: "claude-sonnet-4-5",
        input: "My name is Ada.",
      });
      const next = await client.responses.create({
        model: "gpt-5-mini",
        input: "What is my name?",
        previous_response_id: first.id,
      });
      assert.equal(next.output_text, "turns=3 images=0: What is my name?");
      const sent = s.openai.requests.at(-1)?.body ?? {};
      assert.equal("previous_response_id" in sent, false);
      const items = sent.input as Record<string, unknown>[];
      assert.deepEqual(items.map((item) => [item.role, "id" in item]), [
        ["user", false],
        ["assistant", false],
        ["user", false],
      ]);
    },
  );

  await t.step("OpenAI's answer continued: the model's OpenAI target serves it", async () => {
    const first = await client.responses.create({ model: "gpt-5-mini", input: "My name is Ada." });
    for (let i = 0; i < 3; i++) {
      const { data, response } = await client.responses.create({
        model: "mixed",
        input: "What is my name?",
        previous_response_id: first.id,
      }).withResponse();
      assert.equal(response.headers.get("x-choreoai-provider"), "openai");
      assert.equal(data.output_text, "turns=3 images=0: What is my name?");
      assert.equal(s.openai.requests.at(-1)?.body?.previous_response_id, first.id);
    }
    const refused = await raised(client.responses.create({
      model: "claude",
      input: "What is my name?",
      previous_response_id: first.id,
    }));
    assert.equal(refused.status, 400);
    assert.equal(refused.param, "previous_response_id");
    assert.match(refused.message, /openai/);
  });
});

Deno.test("usage records and the access log: translated answers and streams, reads of stored responses", async () => {
  const records: UsageRecord[] = [];
  await using s = startBoth({ usage: { record: (entry) => records.push(entry) } });
  const client = openaiClient(s.gateway);
  const created = await client.responses.create({ model: "claude-sonnet-4-5", input: "Hi" });
  const stream = client.responses.stream({ model: "claude-sonnet-4-5", input: "Hi" });
  const streamed = await stream.finalResponse();
  await client.responses.retrieve(created.id);
  await client.responses.inputItems.list(streamed.id);
  await client.responses.delete(created.id);
  await waitFor(() => records.length === 5);
  assert.deepEqual(
    records.map((record) => [record.endpoint, record.provider, record.status]),
    [
      ["/v1/responses", "anthropic", 200],
      ["/v1/responses", "anthropic", 200],
      ["/v1/responses/{id}", "choreoai", 200],
      ["/v1/responses/{id}/input_items", "choreoai", 200],
      ["/v1/responses/{id}", "choreoai", 200],
    ],
  );
  for (const [record, response] of [[records[0], created], [records[1], streamed]] as const) {
    assert.equal(record?.prompt_tokens, response.usage?.input_tokens);
    assert.equal(record?.completion_tokens, response.usage?.output_tokens);
    assert.equal(record?.model, "claude-sonnet-4-5");
  }
  const lines = s.gateway.logs.filter((log) => log.msg === "request");
  assert.deepEqual(lines.map((line) => line.path), [
    "/v1/responses",
    "/v1/responses",
    `/v1/responses/${created.id}`,
    `/v1/responses/${streamed.id}/input_items`,
    `/v1/responses/${created.id}`,
  ]);
  assert.equal(lines[1]?.stream, true);
  assert.equal(lines[1]?.upstream_model, "claude-sonnet-4-5");
  // The output items of a streamed answer are kept under the ids the stream gave them.
  const answer = streamed.output.find((item) => item.type === "message");
  const next = await client.responses.create({
    model: "claude-sonnet-4-5",
    input: [
      { role: "user", content: "Hi" },
      { type: "item_reference", id: answer?.id ?? "" },
      { role: "user", content: "Again" },
    ],
  });
  assert.equal(next.output_text, "turns=3 images=0: Again");
});
