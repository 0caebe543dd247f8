/**
 * The admin API's key operations over real HTTP, with a real key file: a created key works
 * through the official `openai` client at once and is refused at once after revocation; rotation
 * with and without grace; changed limits, scopes and budgets in force at once; the CLI's
 * validation rules and messages, field by field; 404 and 409.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { startAdminGateway } from "../_helpers/admin.ts";

const ECHO = { model: "choreoai/echo", messages: [{ role: "user" as const, content: "hi" }] };

function client(url: string, apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
}

/** The status a chat call through the official client ends with. */
async function chatStatus(url: string, apiKey: string): Promise<number> {
  try {
    await client(url, apiKey).chat.completions.create(ECHO);
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status !== undefined) return error.status;
    throw error;
  }
}

Deno.test("admin API: create → the key works at once → revoke → refused at once", async (t) => {
  await using setup = await startAdminGateway();
  const { url } = setup.gateway;
  let id = "";
  let secret = "";
  await t.step("POST /admin/api/keys: 201, the view and the secret once", async () => {
    const answer = await setup.api("/admin/api/keys", {
      body: { name: " ci ", expires_in: "30d", models: ["choreoai/*"], rpm: 100 },
    });
    assert.equal(answer.status, 201);
    ({ secret } = answer.body);
    id = answer.body.key.id;
    assert.match(secret, /^sk-choreo-[0-9A-Za-z]{39}$/);
    assert.equal(answer.body.key.name, "ci");
    assert.equal(answer.body.key.role, "client");
    assert.equal(answer.body.key.status, "active");
    assert.deepEqual(answer.body.key.models, ["choreoai/*"]);
    assert.equal(answer.body.key.rpm, 100);
    assert.equal(answer.body.key.requests, 0);
    assert.equal("digest" in answer.body.key, false);
    const days = (Date.parse(answer.body.key.expires_at) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, String(days));
    const file = parseKeyFile(await Deno.readTextFile(setup.keysPath));
    assert.ok(file.keys.some((key) => key.id === id));
    assert.equal((await Deno.readTextFile(setup.keysPath)).includes(secret), false);
  });
  await t.step("the secret works through the openai client at once", async () => {
    const completion = await client(url, secret).chat.completions.create(ECHO);
    assert.equal(completion.choices[0]?.message.content, "hi");
  });
  await t.step("GET /admin/api/keys lists it, without secrets", async () => {
    const answer = await setup.api("/admin/api/keys");
    assert.equal(answer.status, 200);
    assert.equal(answer.body.writable, true);
    assert.equal(answer.body.source, "file");
    assert.deepEqual(answer.body.data.map((key: { name: string }) => key.name), [
      "ops",
      "app",
      "ci",
    ]);
    assert.equal(JSON.stringify(answer.body).includes(secret), false);
    assert.equal(JSON.stringify(answer.body).includes("digest"), false);
  });
  await t.step("revoke: 200, status revoked, refused at once", async () => {
    const answer = await setup.api(`/admin/api/keys/${id}/revoke`, { method: "POST" });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.key.status, "revoked");
    assert.equal(await chatStatus(url, secret), 401);
  });
  await t.step("revoke again: 200, unchanged", async () => {
    const before = await Deno.readTextFile(setup.keysPath);
    const answer = await setup.api(`/admin/api/keys/${id}/revoke`, { method: "POST" });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.key.status, "revoked");
    assert.equal(await Deno.readTextFile(setup.keysPath), before);
  });
  await t.step("an admin key can be created too", async () => {
    const answer = await setup.api("/admin/api/keys", {
      body: { name: "second admin", role: "admin" },
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.body.key.role, "admin");
    const keys = await fetch(`${url}/admin/api/keys`, {
      headers: { authorization: `Bearer ${answer.body.secret}` },
    });
    assert.equal(keys.status, 200);
    await keys.body?.cancel();
  });
});

Deno.test("admin API: rotate with a grace period, and with none", async (t) => {
  await using setup = await startAdminGateway();
  const { url } = setup.gateway;
  const created = await setup.api("/admin/api/keys", { body: { name: "svc", tpm: 5000 } });
  const { id } = created.body.key;
  let next = "";
  await t.step("rotate with grace 2h: 201, both keys work", async () => {
    const answer = await setup.api(`/admin/api/keys/${id}/rotate`, { body: { grace: "2h" } });
    assert.equal(answer.status, 201);
    next = answer.body.secret;
    assert.equal(answer.body.key.rotated_from, id);
    assert.equal(answer.body.key.name, "svc");
    assert.equal(answer.body.key.tpm, 5000);
    assert.equal(answer.body.previous.id, id);
    assert.equal(answer.body.previous.status, "rotating");
    const grace = Date.parse(answer.body.previous.expires_at) - Date.now();
    assert.ok(grace > 7_190_000 && grace <= 7_200_000, String(grace));
    assert.equal(await chatStatus(url, created.body.secret), 200);
    assert.equal(await chatStatus(url, next), 200);
  });
  await t.step("rotating it again: 409 key_conflict naming the newer key", async () => {
    const answer = await setup.api(`/admin/api/keys/${id}/rotate`, { method: "POST" });
    assert.equal(answer.status, 409);
    assert.equal(answer.body.error.code, "key_conflict");
    assert.match(answer.body.error.message, /was already rotated to key_/);
  });
  await t.step(
    "rotate the new key with grace 0 (no body → default; here 0): old refused",
    async () => {
      const rotated = await setup.api("/admin/api/keys", { body: { name: "other" } });
      const answer = await setup.api(`/admin/api/keys/${rotated.body.key.id}/rotate`, {
        body: { grace: "0" },
      });
      assert.equal(answer.status, 201);
      assert.equal(answer.body.previous.status, "revoked");
      assert.equal(await chatStatus(url, rotated.body.secret), 401);
      assert.equal(await chatStatus(url, answer.body.secret), 200);
    },
  );
  await t.step("rotate without a body: 24 h of grace", async () => {
    const created = await setup.api("/admin/api/keys", { body: { name: "third" } });
    const answer = await setup.api(`/admin/api/keys/${created.body.key.id}/rotate`, {
      method: "POST",
    });
    assert.equal(answer.status, 201);
    const grace = Date.parse(answer.body.previous.expires_at) - Date.now();
    assert.ok(grace > 86_390_000 && grace <= 86_400_000, String(grace));
  });
  await t.step("a bad grace: 400 naming it", async () => {
    const answer = await setup.api(`/admin/api/keys/${id}/rotate`, { body: { grace: "soon" } });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.param, "grace");
    assert.equal(
      answer.body.error.message,
      'grace must be a duration such as 30d, 12h, 15m or 90s (or 0), got "soon"',
    );
  });
});

Deno.test("admin API: PATCH limits, scopes, expiry and budget, in force at once", async (t) => {
  await using setup = await startAdminGateway();
  const { url } = setup.gateway;
  const created = await setup.api("/admin/api/keys", { body: { name: "limited" } });
  const { id } = created.body.key;
  const { secret } = created.body;
  const patch = (body: unknown) => setup.api(`/admin/api/keys/${id}`, { method: "PATCH", body });
  await t.step("rpm 1: the second request within the minute is 429", async () => {
    const answer = await patch({ rpm: 1 });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.key.rpm, 1);
    assert.equal(await chatStatus(url, secret), 200);
    assert.equal(await chatStatus(url, secret), 429);
  });
  await t.step("models: only gpt-4o → the echo model is 403; null clears", async () => {
    assert.deepEqual((await patch({ rpm: null, models: ["gpt-4o"] })).body.key.models, [
      "gpt-4o",
    ]);
    const refused = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify(ECHO),
    });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, "model_not_allowed");
    const cleared = await patch({ models: null });
    assert.equal(cleared.body.key.models, null);
    assert.equal(cleared.body.key.rpm, null);
  });
  await t.step(
    "budget: set, its status shown; the period kept when left out; null removes",
    async () => {
      const set = await patch({ budget: { usd: 25, period: "day" } });
      assert.deepEqual(set.body.key.budget, { usd: 25, period: "day" });
      assert.equal(set.body.key.budget_status.usd, 25);
      assert.equal(set.body.key.budget_status.source, "key");
      assert.equal(set.body.key.budget_status.spent_usd, 0);
      const amount = await patch({ budget: { usd: 30 } });
      assert.deepEqual(amount.body.key.budget, { usd: 30, period: "day" });
      const removed = await patch({ budget: null });
      assert.equal(removed.body.key.budget, undefined);
      assert.equal(removed.body.key.budget_status, null);
    },
  );
  await t.step("name and expiry; an expiry in the past is refused", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const answer = await patch({ name: "renamed", expires_at: future });
    assert.equal(answer.body.key.name, "renamed");
    assert.equal(Date.parse(answer.body.key.expires_at), Math.floor(Date.parse(future)));
    const past = await patch({ expires_at: "2020-01-01T00:00:00Z" });
    assert.equal(past.status, 400);
    assert.equal(past.body.error.param, "expires_at");
    assert.match(past.body.error.message, /^expires_at must be in the future/);
    assert.equal((await patch({ expires_at: null })).body.key.expires_at, null);
  });
  await t.step("an empty patch changes nothing", async () => {
    const before = await Deno.readTextFile(setup.keysPath);
    const answer = await patch({});
    assert.equal(answer.status, 200);
    assert.equal(await Deno.readTextFile(setup.keysPath), before);
  });
  await t.step("a client key may not be given an admin endpoint", async () => {
    const answer = await patch({ endpoints: ["/metrics"] });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.param, "endpoints");
    assert.equal(
      answer.body.error.message,
      'endpoints: only admin keys may call /metrics: create it with "role": "admin"',
    );
  });
});

Deno.test("admin API: validation errors name the field, with the CLI's rules", async (t) => {
  await using setup = await startAdminGateway();
  const cases: [string, unknown, string, RegExp][] = [
    ["no name", {}, "name", /^Invalid value for 'name'/],
    ["an empty name", { name: "  " }, "name", /^name must not be empty$/],
    ["a long name", { name: "x".repeat(201) }, "name", /at most 200 characters/],
    ["an unknown field", { name: "x", color: "red" }, "color", /^Unknown field "color"$/],
    ["a bad role", { name: "x", role: "root" }, "role", /role/],
    ["a bad duration", { name: "x", expires_in: "1y" }, "expires_in", /must be a duration/],
    ["both expiries", { name: "x", expires_in: "1d", expires_at: null }, "expires_at", /together/],
    ["a past expiry", { name: "x", expires_at: "2001-01-01" }, "expires_at", /in the future/],
    [
      "no models",
      { name: "x", models: [] },
      "models",
      /needs at least one value \(null allows all\)/,
    ],
    ["a bad model", { name: "x", models: ["a b"] }, "models", /is not a model name/],
    ["a bad endpoint", { name: "x", endpoints: ["/v2/x"] }, "endpoints", /not an endpoint/],
    ["a bad IP", { name: "x", ips: ["10.0.0.300"] }, "ips", /IP address or CIDR/],
    ["rpm 0", { name: "x", rpm: 0 }, "rpm", /^rpm must be a positive integer, got "0"$/],
    ["rpm 1.5", { name: "x", rpm: 1.5 }, "rpm", /positive integer/],
    ["a string rpm", { name: "x", rpm: "5" }, "rpm", /Invalid value for 'rpm'/],
    ["a negative budget", { name: "x", budget: { usd: -1 } }, "budget.usd", /more than 0/],
    ["a bad period", { name: "x", budget: { usd: 1, period: "week" } }, "budget.period", /day/],
  ];
  for (const [name, body, param, message] of cases) {
    await t.step(`${name}: 400`, async () => {
      const answer = await setup.api("/admin/api/keys", { body });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(answer.body.error.type, "invalid_request_error");
      if (param !== "") assert.equal(answer.body.error.param, param);
      assert.match(answer.body.error.message, message);
    });
  }
  await t.step("not JSON: 415; bad JSON: 400 invalid_json", async () => {
    const text = await setup.api("/admin/api/keys", {
      method: "POST",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(text.status, 415);
    const response = await fetch(`${setup.gateway.url}/admin/api/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${setup.adminToken}`, "content-type": "application/json" },
      body: "{nope",
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, "invalid_json");
  });
  await t.step("nothing was written by the refused calls", async () => {
    assert.equal(parseKeyFile(await Deno.readTextFile(setup.keysPath)).keys.length, 2);
  });
  await t.step("unknown or malformed ids: 404 key_not_found", async () => {
    for (const id of ["key_nosuchkey1", "not-a-key", "%E0%A4%A"]) {
      const answer = await setup.api(`/admin/api/keys/${id}/revoke`, { method: "POST" });
      assert.equal(answer.status, 404, id);
      assert.ok(["key_not_found", "not_found"].includes(answer.body.error.code), id);
    }
    const patch = await setup.api("/admin/api/keys/key_nosuchkey1", { method: "PATCH", body: {} });
    assert.equal(patch.status, 404);
    assert.equal(patch.body.error.code, "key_not_found");
  });
});
