/**
 * Production keys end to end: a real key file on disk, watched by the store, checked on every
 * request; revocation, rotation, scopes, IP allowlists, a corrupted file under load, and usage
 * recorded in a real SQLite file.
 */
import assert from "node:assert/strict";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { type KeyStore, openKeyStore } from "../../src/keys/store.ts";
import { createLogger } from "../../src/log.ts";
import { openUsageRecorder, readKeyStats } from "../../src/usage/store.ts";
import { startGateway, type TestGateway, waitFor } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

interface Setup extends AsyncDisposable {
  readonly dir: string;
  readonly file: string;
  readonly store: KeyStore;
  readonly logs: Record<string, unknown>[];
  /** Replaces the file atomically, as the CLI does. */
  write(text: string): Promise<void>;
}

async function keyFile(records: Parameters<typeof keyFileText>[0]): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-keys-" });
  const file = `${dir}/keys.json`;
  await Deno.writeTextFile(file, keyFileText(records), { mode: 0o600 });
  const logs: Record<string, unknown>[] = [];
  const store = await openKeyStore(
    file,
    createLogger((line) => logs.push(JSON.parse(line)), Date.now),
  );
  store.watch();
  return {
    dir,
    file,
    store,
    logs,
    async write(text) {
      const temp = `${file}.tmp-${crypto.randomUUID()}`;
      await Deno.writeTextFile(temp, text, { mode: 0o600 });
      await Deno.rename(temp, file);
    },
    async [Symbol.asyncDispose]() {
      store[Symbol.dispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function gatewayFor(setup: Setup, env: Record<string, string> = {}): TestGateway {
  return startGateway({ env, verifier: createKeyListVerifier(() => setup.store.current()) });
}

async function echo(
  gateway: TestGateway,
  token: string,
  extra: RequestInit = {},
  model = "choreoai/echo",
) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    ...extra,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...(extra.headers as Record<string, string> | undefined),
    },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "ping" }] }),
  });
  const body = await response.json();
  return { status: response.status, body };
}

Deno.test("a listed key works; unknown, expired and revoked keys get the exact 401s", async () => {
  const good = makeKey();
  const expired = makeKey({ expires_at: "2020-01-01T00:00:00Z" });
  const revoked = makeKey({ revoked_at: "2020-01-01T00:00:00Z" });
  await using setup = await keyFile([good.record, expired.record, revoked.record]);
  await using gateway = gatewayFor(setup);
  assert.equal((await echo(gateway, good.token)).status, 200);
  const unknown = await echo(gateway, makeKey().token);
  assert.equal(unknown.status, 401);
  assert.deepEqual(unknown.body.error, {
    message: "Invalid API key provided",
    type: "authentication_error",
    param: null,
    code: "invalid_api_key",
  });
  const old = await echo(gateway, expired.token);
  assert.equal(old.status, 401);
  assert.equal(old.body.error.message, "API key has expired");
  assert.equal(old.body.error.code, "invalid_api_key");
  const gone = await echo(gateway, revoked.token);
  assert.equal(gone.body.error.message, "Invalid API key provided");
});

Deno.test("a revoked key is refused within 1 s of the file change", async () => {
  const key = makeKey();
  await using setup = await keyFile([key.record]);
  await using gateway = gatewayFor(setup);
  assert.equal((await echo(gateway, key.token)).status, 200);
  const revokedAt = Date.now();
  await setup.write(
    keyFileText([{ ...key.record, revoked_at: new Date(revokedAt).toISOString() }]),
  );
  let status = 200;
  while (status === 200 && Date.now() - revokedAt < 3_000) {
    status = (await echo(gateway, key.token)).status;
    if (status === 200) await new Promise((r) => setTimeout(r, 10));
  }
  const took = Date.now() - revokedAt;
  assert.equal(status, 401);
  assert.ok(took < 1_000, `revocation took ${took} ms`);
});

Deno.test("rotation: both keys work during the grace period, then only the new one", async () => {
  const old = makeKey();
  await using setup = await keyFile([old.record]);
  await using gateway = gatewayFor(setup);
  const fresh = makeKey({ rotated_from: old.record.id, name: old.record.name });
  const graceEnds = Date.now() + 400;
  await setup.write(keyFileText([
    { ...old.record, expires_at: new Date(graceEnds).toISOString() },
    fresh.record,
  ]));
  await waitFor(() => setup.store.current().size === 2);
  assert.equal((await echo(gateway, old.token)).status, 200);
  assert.equal((await echo(gateway, fresh.token)).status, 200);
  await new Promise((r) => setTimeout(r, Math.max(0, graceEnds - Date.now()) + 20));
  const after = await echo(gateway, old.token);
  assert.equal(after.status, 401);
  assert.equal(after.body.error.message, "API key has expired");
  assert.equal((await echo(gateway, fresh.token)).status, 200);
});

Deno.test("a corrupted key file mid-run keeps the last good list: no request fails", async () => {
  const key = makeKey();
  await using setup = await keyFile([key.record]);
  await using gateway = gatewayFor(setup);
  let failures = 0;
  let sent = 0;
  const stop = Date.now() + 800;
  const load = (async () => {
    while (Date.now() < stop && sent < 2_000) {
      const results = await Promise.all([1, 2, 3, 4].map(() => echo(gateway, key.token)));
      sent += results.length;
      failures += results.filter((r) => r.status !== 200).length;
    }
  })();
  const good = keyFileText([key.record]);
  await new Promise((r) => setTimeout(r, 100));
  await Deno.writeTextFile(setup.file, good.slice(0, good.length / 2)); // half-written
  await new Promise((r) => setTimeout(r, 150));
  await Deno.writeTextFile(setup.file, "{ not json at all");
  await new Promise((r) => setTimeout(r, 150));
  await setup.write(good);
  await load;
  assert.ok(sent > 20, `only ${sent} requests sent`);
  assert.equal(failures, 0);
  assert.ok(
    setup.logs.some((l) =>
      String(l.msg).includes("key list reload failed; keeping the last good key list")
    ),
  );
  assert.equal(setup.store.current().size, 1);
});

Deno.test("scopes: model and endpoint 403s, and /v1/models lists only what the key may use", async () => {
  const scoped = makeKey({ models: ["choreoai/*"], endpoints: ["/v1/chat/completions"] });
  const modelsOnly = makeKey({ models: ["gpt-4o"] });
  await using setup = await keyFile([scoped.record, modelsOnly.record]);
  await using gateway = gatewayFor(setup);
  assert.equal((await echo(gateway, scoped.token)).status, 200);
  const denied = await echo(gateway, modelsOnly.token);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, "model_not_allowed");
  assert.equal(denied.body.error.type, "permission_error");
  const endpoint = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: `Bearer ${scoped.token}` },
  });
  assert.equal(endpoint.status, 403);
  assert.equal((await endpoint.json()).error.code, "endpoint_not_allowed");
  const list = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: `Bearer ${modelsOnly.token}` },
  });
  assert.deepEqual((await list.json()).data, []);
});

Deno.test("IP allowlist: the socket peer, or X-Forwarded-For from a trusted proxy", async () => {
  const key = makeKey({ ips: ["10.0.0.0/8"] });
  await using setup = await keyFile([key.record]);
  await using direct = gatewayFor(setup);
  const refused = await echo(direct, key.token, { headers: { "x-forwarded-for": "10.1.2.3" } });
  assert.equal(refused.status, 403, "an untrusted peer cannot claim an address");
  assert.equal(refused.body.error.code, "ip_not_allowed");
  await using proxied = gatewayFor(setup, { CHOREOAI_TRUSTED_PROXIES: "127.0.0.1/32" });
  assert.equal(
    (await echo(proxied, key.token, { headers: { "x-forwarded-for": "10.1.2.3" } })).status,
    200,
  );
  const outsider = await echo(proxied, key.token, { headers: { "x-forwarded-for": "192.0.2.1" } });
  assert.equal(outsider.status, 403);
});

Deno.test("1,000 concurrent requests on one key: exactly 1,000 usage records, kept across a restart", async () => {
  const key = makeKey();
  await using setup = await keyFile([key.record]);
  const db = `${setup.dir}/usage.db`;
  const log = createLogger(() => {}, Date.now);
  const recorder = openUsageRecorder(db, { log });
  const before = Date.now();
  {
    await using gateway = startGateway({
      verifier: createKeyListVerifier(() => setup.store.current()),
      usage: recorder,
    });
    const results = await Promise.all(
      Array.from({ length: 1_000 }, () => echo(gateway, key.token)),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1_000);
  }
  await recorder.close();
  const stats = readKeyStats(db).get(key.record.id);
  assert.equal(stats?.requests, 1_000);
  const lastUsed = Date.parse(stats?.last_used_at ?? "");
  assert.ok(lastUsed >= before - 1_000 && lastUsed <= Date.now(), String(stats?.last_used_at));
  const reopened = openUsageRecorder(db, { log });
  await reopened.close();
  assert.equal(readKeyStats(db).get(key.record.id)?.requests, 1_000);
});

Deno.test("no key ever appears in a log line or a response", async () => {
  const key = makeKey();
  const other = makeKey();
  await using setup = await keyFile([key.record]);
  await using gateway = gatewayFor(setup);
  const responses = [
    await echo(gateway, key.token),
    await echo(gateway, other.token),
    await echo(gateway, key.token.slice(0, -2) + "zz"),
  ];
  await new Promise((r) => setTimeout(r, 20));
  const captured = JSON.stringify(responses) + JSON.stringify(gateway.logs) +
    JSON.stringify(setup.logs);
  for (const token of [key.token, other.token]) {
    assert.ok(!captured.includes(token));
    assert.ok(!captured.includes(token.slice(10, 30)), "no long fragment of a key");
  }
});
