/**
 * Who may call the admin API: on every path and method, no key and a wrong key get 401, a client
 * key 403, an admin key through; in development mode loopback needs no key. Every answer (errors
 * included) carries the security headers and `Cache-Control: no-store`; unknown paths and wrong
 * methods are 404 and 405 after the admin check.
 */
import assert from "node:assert/strict";
import { ADMIN_SECURITY_HEADERS } from "../../src/admin/headers.ts";
import { adminCall, startAdminGateway } from "../_helpers/admin.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";

/** Every route of the API, with a body that would pass validation. */
const ROUTES: [string, string, unknown?][] = [
  ["GET", "/admin/api/overview"],
  ["GET", "/admin/api/keys"],
  ["POST", "/admin/api/keys", { name: "x" }],
  ["PATCH", "/admin/api/keys/key_test999999", { rpm: 5 }],
  ["POST", "/admin/api/keys/key_test999999/revoke"],
  ["POST", "/admin/api/keys/key_test999999/rotate", { grace: "1h" }],
  ["GET", "/admin/api/usage?period=hour&by=model"],
  ["GET", "/admin/api/usage?format=csv"],
  ["GET", "/admin/api/providers"],
];

function assertAdminHeaders(headers: Headers, where: string): void {
  for (const [name, value] of Object.entries(ADMIN_SECURITY_HEADERS)) {
    assert.equal(headers.get(name), value, `${name} on ${where}`);
  }
  assert.equal(headers.get("cache-control"), "no-store", `cache-control on ${where}`);
}

Deno.test("admin API: no key 401, wrong key 401, client key 403 on every path", async (t) => {
  await using setup = await startAdminGateway();
  const { gateway } = setup;
  for (const [method, path, body] of ROUTES) {
    await t.step(`${method} ${path}`, async () => {
      const none = await adminCall(gateway, path, { method, body });
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, "missing_authorization");
      assert.equal(none.headers.get("www-authenticate")?.startsWith("Bearer"), true);
      assertAdminHeaders(none.headers, `${method} ${path} (no key)`);

      const wrong = await adminCall(gateway, path, {
        method,
        body,
        token: makeKey({ role: "admin" }).token,
      });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body.error, {
        message: "Invalid API key provided",
        type: "authentication_error",
        param: null,
        code: "invalid_api_key",
      });

      const client = await adminCall(gateway, path, { method, body, token: setup.clientToken });
      assert.equal(client.status, 403);
      assert.equal(client.body.error.code, "endpoint_not_allowed");
      assert.equal(client.body.error.type, "permission_error");
      assertAdminHeaders(client.headers, `${method} ${path} (client key)`);

      const admin = await setup.api(path, { method, body });
      assert.ok(
        ![401, 403].includes(admin.status),
        `${admin.status} ${JSON.stringify(admin.body)}`,
      );
      assertAdminHeaders(admin.headers, `${method} ${path} (admin key)`);
    });
  }
  await t.step("the key file is unchanged by the refused calls", async () => {
    const keys = JSON.parse(await Deno.readTextFile(setup.keysPath)).keys;
    // The admin call to create "x" made the only new key.
    assert.deepEqual(keys.map((key: { name: string }) => key.name), ["ops", "app", "x"]);
  });
});

Deno.test("admin API: unknown paths 404 and wrong methods 405, after the admin check", async (t) => {
  await using setup = await startAdminGateway();
  const cases: [string, string, number, string][] = [
    ["GET", "/admin/api/nothing", 404, "not_found"],
    ["GET", "/admin/api/keys/key_test000001/extra", 404, "not_found"],
    ["DELETE", "/admin/api/keys", 405, "method_not_allowed"],
    ["GET", "/admin/api/keys/key_test000001/revoke", 405, "method_not_allowed"],
    ["POST", "/admin/api/overview", 405, "method_not_allowed"],
  ];
  for (const [method, path, status, code] of cases) {
    await t.step(`${method} ${path}: ${status}`, async () => {
      const outsider = await adminCall(setup.gateway, path, { method });
      assert.equal(outsider.status, 401);
      const answer = await setup.api(path, { method });
      assert.equal(answer.status, status);
      assert.equal(answer.body.error.code, code);
      assertAdminHeaders(answer.headers, path);
      if (status === 405) assert.ok(answer.headers.get("allow"));
    });
  }
});

Deno.test("admin API in development mode: loopback needs no key, and there is no key list", async (t) => {
  await using gateway = startGateway();
  await t.step("GET keys: no list, not writable", async () => {
    const answer = await adminCall(gateway, "/admin/api/keys");
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { data: [], writable: false, source: "none", warnings: [] });
  });
  await t.step("POST keys: 409 key_list_not_configured", async () => {
    const answer = await adminCall(gateway, "/admin/api/keys", { body: { name: "x" } });
    assert.equal(answer.status, 409);
    assert.equal(answer.body.error.code, "key_list_not_configured");
  });
  await t.step("revoke, rotate, patch: 409 too", async () => {
    for (
      const [method, path] of [
        ["POST", "/admin/api/keys/key_test000001/revoke"],
        ["POST", "/admin/api/keys/key_test000001/rotate"],
        ["PATCH", "/admin/api/keys/key_test000001"],
      ] as const
    ) {
      const answer = await adminCall(gateway, path, { method, body: {} });
      assert.equal(answer.status, 409, path);
      assert.equal(answer.body.error.code, "key_list_not_configured");
    }
  });
  await t.step("overview and usage without a usage store: zeros", async () => {
    const answer = await adminCall(gateway, "/admin/api/overview?period=hour");
    assert.equal(answer.status, 200);
    assert.equal(answer.body.series.length, 60);
    assert.equal(answer.body.totals.requests, 0);
    assert.equal(answer.body.totals.latency_p50_ms, null);
  });
});
