/**
 * The admin API in the real gateway process (`main.ts` with a key file and its SQLite usage
 * database): main.ts hands the API the key list, the store it reloads and the usage reader.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { adminCall } from "../_helpers/admin.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { spawnGateway } from "../_helpers/process.ts";
import { eventually } from "../_helpers/usage_records.ts";

Deno.test("main.ts serves the admin API: create, use, revoke, and the usage recorded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-admin-main-" });
  try {
    const admin = makeKey({ role: "admin", name: "ops" });
    await Deno.writeTextFile(`${dir}/keys.json`, keyFileText([admin.record]));
    await using gateway = await spawnGateway({
      CHOREOAI_KEYS_FILE: `${dir}/keys.json`,
      CHOREOAI_DB: `${dir}/usage.db`,
    });
    const api = (path: string, options: Parameters<typeof adminCall>[2] = {}) =>
      adminCall(gateway, path, { ...options, token: admin.token });
    const created = await api("/admin/api/keys", { body: { name: "from the api" } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("x-frame-options"), "DENY");
    const client = new OpenAI({
      apiKey: created.body.secret,
      baseURL: `${gateway.url}/v1`,
      maxRetries: 0,
    });
    const messages = [{ role: "user" as const, content: "hello" }];
    const answer = await client.chat.completions.create({ model: "choreoai/echo", messages });
    assert.equal(answer.choices[0]?.message.content, "hello");
    const revoked = await api(`/admin/api/keys/${created.body.key.id}/revoke`, { method: "POST" });
    assert.equal(revoked.body.key.status, "revoked");
    await assert.rejects(
      client.chat.completions.create({ model: "choreoai/echo", messages }),
      (error) => error instanceof OpenAI.APIError && error.status === 401,
    );
    await eventually("the echo request in the overview", async () => {
      const { body } = await api("/admin/api/overview?period=hour");
      return body.totals.requests === 1 &&
        body.top_keys[0]?.name === "from the api" &&
        body.totals.total_tokens === answer.usage?.total_tokens;
    });
    // The page needs no key (served, or 404 where no page is wired), and has the headers.
    const page = await fetch(`${gateway.url}/admin`);
    assert.ok([200, 404].includes(page.status), String(page.status));
    assert.equal(page.headers.get("content-security-policy")?.includes("default-src 'none'"), true);
    await page.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
