import assert from "node:assert/strict";
import { admitAdmin, LOOPBACK_HINT } from "../../src/auth/admin_access.ts";
import { developmentPrincipal, type Principal } from "../../src/auth/verifier.ts";
import { authErrors } from "../../src/auth/authorization.ts";
import { GatewayError } from "../../src/errors.ts";
import { isAdminPagePath, isAdminPath } from "../../src/routes/paths.ts";

function keyPrincipal(admin: boolean): Principal {
  return { ...developmentPrincipal("sk-choreo-AbC…9xYz"), id: "key_test000001", admin };
}

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${error}`);
    return error;
  }
  assert.fail("expected a refusal");
}

Deno.test("isAdminPath() is true for /metrics and everything under /admin/ but the page", async (t) => {
  const cases: [string, boolean][] = [
    ["/metrics", true],
    ["/admin", false],
    ["/admin/", false],
    ["/admin/assets/app.js", false],
    ["/admin/assetsx", true],
    ["/admin/assets/", false],
    ["/admin/assets", true],
    ["/admin/api/keys", true],
    ["/admin/keys", true],
    ["/admin/keys/key_1/revoke", true],
    ["/metrics/", false],
    ["/metricsx", false],
    ["/adminx", false],
    ["/Admin", false],
    ["/v1/metrics", false],
    ["/v1/chat/completions", false],
    ["/health", false],
    ["/", false],
  ];
  for (const [path, admin] of cases) {
    await t.step(path, () => assert.equal(isAdminPath(path), admin));
  }
});

Deno.test("isAdminPagePath() is true for exactly the page: /admin, /admin/, /admin/assets/…", async (t) => {
  const cases: [string, boolean][] = [
    ["/admin", true],
    ["/admin/", true],
    ["/admin/assets/app.js", true],
    ["/admin/assets/", true],
    ["/admin/assets", false],
    ["/admin/api/keys", false],
    ["/admin/index.html", false],
    ["/adminx", false],
    ["/metrics", false],
  ];
  for (const [path, page] of cases) {
    await t.step(path, () => assert.equal(isAdminPagePath(path), page));
  }
});

Deno.test("admitAdmin() in development mode: loopback peers only, with no key", async (t) => {
  const noKeyNeeded = () => assert.fail("development mode must not authenticate");
  for (const peer of ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"]) {
    await t.step(`${peer}: the development principal`, () => {
      const principal = admitAdmin("/metrics", {
        mode: "development",
        peer,
        authenticate: noKeyNeeded,
      });
      assert.equal(principal.id, "dev");
      assert.equal(principal.hint, LOOPBACK_HINT);
      assert.equal(principal.admin, false);
    });
  }
  for (const peer of ["10.0.0.5", "192.0.2.1", "::ffff:10.0.0.5", "2001:db8::1", undefined]) {
    await t.step(`${peer}: 403 endpoint_not_allowed`, () => {
      const error = refusal(() =>
        admitAdmin("/admin/keys", { mode: "development", peer, authenticate: noKeyNeeded })
      );
      assert.equal(error.status, 403);
      assert.equal(error.type, "permission_error");
      assert.equal(error.code, "endpoint_not_allowed");
      assert.match(error.message, /^\/admin\/keys is open on loopback only in development mode/);
      assert.match(error.message, /key list/);
    });
  }
});

Deno.test("admitAdmin() with a key list: authenticates, then admits admin keys only", async (t) => {
  for (const peer of ["127.0.0.1", "10.0.0.5"]) {
    await t.step(`admin key from ${peer}: admitted`, () => {
      const admin = keyPrincipal(true);
      assert.equal(
        admitAdmin("/metrics", { mode: "keys", peer, authenticate: () => admin }),
        admin,
      );
    });
    await t.step(`client key from ${peer}: 403 endpoint_not_allowed`, () => {
      const error = refusal(() =>
        admitAdmin("/metrics", { mode: "keys", peer, authenticate: () => keyPrincipal(false) })
      );
      assert.equal(error.status, 403);
      assert.equal(error.type, "permission_error");
      assert.equal(error.code, "endpoint_not_allowed");
      assert.equal(error.message, "Only admin keys may call /metrics");
    });
  }
  await t.step("no valid key: the authentication error, unchanged", () => {
    const error = refusal(() =>
      admitAdmin("/metrics", {
        mode: "keys",
        peer: "127.0.0.1",
        authenticate: () => {
          throw authErrors.missing();
        },
      })
    );
    assert.equal(error.status, 401);
    assert.equal(error.code, "missing_authorization");
  });
});
