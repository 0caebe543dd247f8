/**
 * Admin keys end to end: only admin keys reach `/metrics` and `/admin/…` (no such route exists
 * yet, so an admitted request ends in 404), client keys get 403 before any route lookup, and an
 * admin key is a model key only for the models it lists. In development mode those paths need no
 * key but answer loopback peers only.
 */
import assert from "node:assert/strict";
import { createDevelopmentVerifier } from "../../src/auth/verifier.ts";
import { parseConfig } from "../../src/config.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { createLogger } from "../../src/log.ts";
import { createHandler } from "../../src/server.ts";
import { startGateway, type TestGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

// `/admin` and `/admin/` are the public web page (tests/admin/page_test.ts).
const ADMIN_PATHS = ["/metrics", "/admin/keys", "/admin/no/such/page"];

function keyListGateway(records: Parameters<typeof keyFileText>[0]): TestGateway {
  const index = compileKeyIndex(parseKeyFile(keyFileText(records)));
  return startGateway({ verifier: createKeyListVerifier(() => index) });
}

async function call(
  gateway: TestGateway,
  path: string,
  options: { token?: string; method?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: options.method ?? "GET",
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
  });
  const body = await response.json();
  return { status: response.status, error: body.error ?? null, body };
}

async function echo(gateway: TestGateway, token: string) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "choreoai/echo", messages: [{ role: "user", content: "hi" }] }),
  });
  const body = await response.json();
  return { status: response.status, error: body.error ?? null };
}

Deno.test("with a key list, only admin keys pass /metrics and /admin; client keys get 403", async (t) => {
  const client = makeKey();
  const admin = makeKey({ role: "admin" });
  await using gateway = keyListGateway([client.record, admin.record]);
  for (const path of ADMIN_PATHS) {
    await t.step(`${path}: client key → 403 endpoint_not_allowed`, async () => {
      for (const method of ["GET", "POST", "DELETE"]) {
        const { status, error } = await call(gateway, path, { token: client.token, method });
        assert.equal(status, 403, `${method} ${path}`);
        assert.deepEqual(error, {
          message: `Only admin keys may call ${path}`,
          type: "permission_error",
          param: null,
          code: "endpoint_not_allowed",
        });
      }
    });
    await t.step(`${path}: admin key → admitted (404: no such route yet)`, async () => {
      const { status, error } = await call(gateway, path, { token: admin.token });
      assert.equal(status, 404);
      assert.equal(error.code, "not_found");
    });
    await t.step(`${path}: no key, unknown key → the usual 401s`, async () => {
      const missing = await call(gateway, path);
      assert.equal(missing.status, 401);
      assert.equal(missing.error.code, "missing_authorization");
      const unknown = await call(gateway, path, { token: makeKey({ role: "admin" }).token });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.error.code, "invalid_api_key");
    });
  }
  await t.step("a loopback peer gets no favours with a key list", async () => {
    assert.equal((await call(gateway, "/metrics")).status, 401);
  });
});

Deno.test("an admin key is a model key only for the models it lists", async (t) => {
  const client = makeKey();
  const admin = makeKey({ role: "admin" });
  const adminWithModels = makeKey({ role: "admin", models: ["choreoai/*"] });
  await using gateway = keyListGateway([client.record, admin.record, adminWithModels.record]);
  await t.step("a client key is unchanged: 200", async () => {
    assert.equal((await echo(gateway, client.token)).status, 200);
  });
  await t.step("an admin key without models: 403 model_not_allowed", async () => {
    const { status, error } = await echo(gateway, admin.token);
    assert.equal(status, 403);
    assert.equal(error.code, "model_not_allowed");
    assert.equal(error.type, "permission_error");
    const models = await call(gateway, "/v1/models", { token: admin.token });
    assert.equal(models.status, 200);
    assert.deepEqual(models.body.data, []);
  });
  await t.step("an admin key listing choreoai/*: 200, and those models listed", async () => {
    assert.equal((await echo(gateway, adminWithModels.token)).status, 200);
    const models = await call(gateway, "/v1/models", { token: adminWithModels.token });
    const ids: string[] = models.body.data.map((model: { id: string }) => model.id);
    assert.ok(ids.includes("choreoai/echo"), ids.join(", "));
    assert.ok(ids.every((id) => id.startsWith("choreoai/")), ids.join(", "));
    assert.equal((await call(gateway, "/metrics", { token: adminWithModels.token })).status, 404);
  });
});

Deno.test("development mode: /metrics and /admin need no key on loopback", async (t) => {
  await using gateway = startGateway({ env: { CHOREOAI_TRUSTED_PROXIES: "127.0.0.1/32" } });
  for (const path of ADMIN_PATHS) {
    await t.step(`${path}: no Authorization → admitted (404: no such route yet)`, async () => {
      const { status, error } = await call(gateway, path);
      assert.equal(status, 404);
      assert.equal(error.code, "not_found");
    });
  }
  await t.step("X-Forwarded-For does not matter: the TCP peer is loopback", async () => {
    const { status } = await call(gateway, "/metrics", {
      headers: { "x-forwarded-for": "203.0.113.9" },
    });
    assert.equal(status, 404);
  });
  await t.step("other paths still need a key", async () => {
    const { status, error } = await call(gateway, "/v1/models");
    assert.equal(status, 401);
    assert.equal(error.code, "missing_authorization");
  });
  await t.step("the access log names the loopback caller", () => {
    const line = gateway.logs.find((log) => log.msg === "request" && log.path === "/metrics");
    assert.equal(line?.key, "(loopback)");
  });
});

Deno.test("development mode: a peer that is not loopback gets 403 on /metrics and /admin", async (t) => {
  const now = () => performance.timeOrigin + performance.now();
  const handler = createHandler({
    config: parseConfig({ CHOREOAI_PORT: "0", CHOREOAI_TRUSTED_PROXIES: "10.0.0.0/8" }),
    verifier: createDevelopmentVerifier(),
    fetch: globalThis.fetch,
    now,
    randomId: () => crypto.randomUUID().replaceAll("-", ""),
    log: createLogger(() => {}, now),
  });
  const from = (hostname: string): Deno.ServeHandlerInfo<Deno.NetAddr> => ({
    remoteAddr: { transport: "tcp", hostname, port: 40_000 },
    completed: Promise.resolve(),
  });
  const send = async (path: string, hostname: string, headers: Record<string, string> = {}) => {
    const response = await handler(
      new Request(`http://gateway.test${path}`, { headers }),
      from(hostname),
    );
    return { status: response.status, error: (await response.json()).error };
  };
  for (const hostname of ["10.0.0.5", "192.0.2.7", "2001:db8::5", "::ffff:10.0.0.5"]) {
    for (const path of ["/metrics", "/admin/keys"]) {
      await t.step(`${path} from ${hostname}: 403, even with a key`, async () => {
        for (const headers of [{}, { authorization: "Bearer sk-dev-anything-goes-0123" }]) {
          const { status, error } = await send(path, hostname, headers);
          assert.equal(status, 403);
          assert.equal(error.type, "permission_error");
          assert.equal(error.code, "endpoint_not_allowed");
          assert.equal(
            error.message,
            `${path} is open on loopback only in development mode; from elsewhere, serve with ` +
              "a key list (CHOREOAI_KEYS_FILE) and call it with an admin key",
          );
        }
      });
    }
  }
  await t.step("a trusted proxy cannot claim loopback through X-Forwarded-For", async () => {
    const { status } = await send("/metrics", "10.0.0.1", { "x-forwarded-for": "127.0.0.1" });
    assert.equal(status, 403);
  });
  await t.step("127.0.0.1 and ::1 as the peer: admitted (404: no such route yet)", async () => {
    assert.equal((await send("/metrics", "127.0.0.1")).status, 404);
    assert.equal((await send("/metrics", "::1")).status, 404);
  });
  await t.step("/v1 paths from elsewhere behave as before", async () => {
    const { status, error } = await send("/v1/models", "10.0.0.5");
    assert.equal(status, 401);
    assert.equal(error.code, "missing_authorization");
  });
});
