/**
 * The admin API on PostgreSQL (CHOREOAI_DATABASE_URL, no key file): the key list is the
 * database's, changed through the gateway's own pool and in force on this replica when the
 * answer is sent; usage is read from the database with the same exact numbers as on SQLite.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { type GatewayDatabase, openGatewayDatabase } from "../../src/db/gateway_database.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { createLogger } from "../../src/log.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import { adminCall } from "../_helpers/admin.ts";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";
import { createDatabase, eventually } from "../_helpers/usage_records.ts";

const available = await hasPostgres();

const ROUTING_FILE = {
  models: {
    "gpt-4o": {
      targets: [{ provider: "openai", model: "gpt-4o" }],
      prices: { input_per_mtok: 2, output_per_mtok: 10 },
    },
  },
};

async function chatStatus(client: OpenAI): Promise<number> {
  try {
    await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    });
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status !== undefined) return error.status;
    throw error;
  }
}

Deno.test({
  name: available
    ? "admin API on PostgreSQL: keys in the database, usage read from it"
    : `admin API on PostgreSQL — ${POSTGRES_SKIPPED}`,
  ignore: !available,
}, async (t) => {
  await using pg = await startPostgres();
  const url = await createDatabase(pg);
  const log = createLogger(() => {}, Date.now);
  const database: GatewayDatabase = await openGatewayDatabase(url, {
    log,
    now: Date.now,
    responsesTtlMs: 60_000,
    compileKeys: (text) => compileKeyIndex(parseKeyFile(text)),
  });
  const { keys, keyList } = database;
  assert.ok(keys !== undefined && keyList !== undefined);
  const admin = makeKey({ role: "admin", name: "ops" });
  await keyList.update((file) => ({ version: 1, keys: [...file.keys, admin.record] }));
  await keys.reload();
  await using upstream = startFakeOpenAI({
    onChat: (body) =>
      Response.json({
        ...completionBody(String(body.model)),
        usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 },
      }),
  });
  try {
    await using gateway = startGateway({
      env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
      routingFile: ROUTING_FILE,
      pricing: createPricing({ now: () => Date.now() }),
      verifier: createKeyListVerifier(() => keys.current()),
      limiter: createMemoryLimiter({ now: Date.now }),
      usage: database.usage,
      keyList,
      keyStore: keys,
      usageReader: database.reader,
      responses: false,
    });
    const api = (path: string, options: Parameters<typeof adminCall>[2] = {}) =>
      adminCall(gateway, path, { ...options, token: admin.token });
    const openai = (apiKey: string) =>
      new OpenAI({ apiKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });

    let id = "";
    let secret = "";
    await t.step("create: written to the database, usable at once", async () => {
      const created = await api("/admin/api/keys", { body: { name: "db-client" } });
      assert.equal(created.status, 201);
      ({ secret } = created.body);
      id = created.body.key.id;
      assert.equal(await chatStatus(openai(secret)), 200);
      const listed = await api("/admin/api/keys");
      assert.equal(listed.body.source, "database");
      assert.deepEqual(listed.body.data.map((key: { name: string }) => key.name), [
        "ops",
        "db-client",
      ]);
    });
    await t.step("PATCH rpm 1: in force at once", async () => {
      const patched = await api(`/admin/api/keys/${id}`, { method: "PATCH", body: { rpm: 1 } });
      assert.equal(patched.body.key.rpm, 1);
      assert.equal(await chatStatus(openai(secret)), 200);
      assert.equal(await chatStatus(openai(secret)), 429);
      await api(`/admin/api/keys/${id}`, { method: "PATCH", body: { rpm: null } });
    });
    let next = "";
    await t.step("rotate with grace 0: the old key refused, the new one works", async () => {
      const rotated = await api(`/admin/api/keys/${id}/rotate`, { body: { grace: "0" } });
      assert.equal(rotated.status, 201);
      next = rotated.body.secret;
      assert.equal(await chatStatus(openai(secret)), 401);
      assert.equal(await chatStatus(openai(next)), 200);
      id = rotated.body.key.id;
    });
    await t.step("revoke: refused at once", async () => {
      const revoked = await api(`/admin/api/keys/${id}/revoke`, { method: "POST" });
      assert.equal(revoked.body.key.status, "revoked");
      assert.equal(await chatStatus(openai(next)), 401);
    });
    await t.step("overview: exact numbers from the database", async () => {
      // Recorded: the requests of known keys (three answered, one 429); the 401s name no key.
      await eventually("usage written", async () => {
        await database.usage.flush();
        return (await api("/admin/api/overview?period=hour")).body.totals.requests === 4;
      });
      const { body } = await api("/admin/api/overview?period=hour");
      assert.equal(body.totals.errors, 1);
      assert.equal(body.totals.prompt_tokens, 27);
      assert.equal(body.totals.completion_tokens, 60);
      assert.equal(body.totals.cost_usd, 0.000654);
      assert.equal(body.sampled, false);
      assert.equal(typeof body.totals.latency_p50_ms, "number");
      assert.equal(body.top_models[0].model, "gpt-4o");
      const csv = await api("/admin/api/usage?period=hour&by=model&format=csv");
      assert.equal(
        csv.body,
        "model,requests,errors,prompt_tokens,completion_tokens,total_tokens,cost_usd\r\n" +
          "gpt-4o,4,1,27,60,87,0.000654\r\n",
      );
    });
  } finally {
    await database.close();
  }
});
