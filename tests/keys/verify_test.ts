import assert from "node:assert/strict";
import { createDevelopmentVerifier, type Principal } from "../../src/auth/verifier.ts";
import { GatewayError } from "../../src/errors.ts";
import { type KeyRecord, parseKeyFile } from "../../src/keys/key_file.ts";
import {
  compileKeyIndex,
  createKeyListVerifier,
  rotationSpenders,
  TOKEN_CACHE_SIZE,
  verifyApiKey,
} from "../../src/keys/verify.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");

function indexOf(...records: Parameters<typeof keyFileText>[0]) {
  return compileKeyIndex(parseKeyFile(keyFileText(records)));
}

function expectError(
  result: Principal | GatewayError,
  status: number,
  code: string,
  message?: string,
) {
  assert.ok(result instanceof GatewayError, "expected an error");
  assert.equal(result.status, status);
  assert.equal(result.code, code);
  if (message !== undefined) assert.equal(result.message, message);
}

Deno.test("verifyApiKey() accepts a listed key and refuses everything else", async (t) => {
  const good = makeKey();
  const index = indexOf(good.record);
  await t.step("listed key → its principal", () => {
    const result = verifyApiKey(index, good.token, { now: NOW, ip: "127.0.0.1" });
    assert.ok(!(result instanceof GatewayError));
    assert.equal(result.id, good.record.id);
    assert.equal(result.hint, good.record.hint);
  });
  await t.step("unknown key → 401 invalid_api_key with the seed's message", () => {
    const other = makeKey();
    expectError(
      verifyApiKey(index, other.token, { now: NOW, ip: undefined }),
      401,
      "invalid_api_key",
      "Invalid API key provided",
    );
  });
  await t.step("our prefix with a bad checksum → 401 without a lookup", () => {
    const last = good.token.at(-1) === "A" ? "B" : "A";
    const forged = good.token.slice(0, -1) + last;
    expectError(verifyApiKey(index, forged, { now: NOW, ip: undefined }), 401, "invalid_api_key");
  });
  await t.step("an operator's own key format is looked up by digest", () => {
    const legacy = makeKey({}, "prod-key-456");
    const legacyIndex = indexOf(legacy.record);
    const result = verifyApiKey(legacyIndex, "prod-key-456", { now: NOW, ip: undefined });
    assert.ok(!(result instanceof GatewayError));
    expectError(
      verifyApiKey(legacyIndex, "prod-key-457", { now: NOW, ip: undefined }),
      401,
      "invalid_api_key",
    );
  });
  await t.step("the error never echoes the key", () => {
    const other = makeKey();
    const result = verifyApiKey(index, other.token, { now: NOW, ip: undefined });
    assert.ok(result instanceof GatewayError);
    assert.ok(!JSON.stringify(result.toJSON()).includes(other.token));
  });
});

Deno.test("verifyApiKey() expiry and revocation edges", async (t) => {
  const at = "2026-11-25T12:00:00.000Z";
  const edge = Date.parse(at);
  const cases = [
    { name: "expires 1 ms later: valid", key: { expires_at: at }, now: edge - 1, ok: true },
    {
      name: "expires now: expired",
      key: { expires_at: at },
      now: edge,
      ok: false,
      message: "API key has expired",
    },
    {
      name: "expired 1 ms ago",
      key: { expires_at: at },
      now: edge + 1,
      ok: false,
      message: "API key has expired",
    },
    { name: "revoked 1 ms later: still valid", key: { revoked_at: at }, now: edge - 1, ok: true },
    {
      name: "revoked now",
      key: { revoked_at: at },
      now: edge,
      ok: false,
      message: "Invalid API key provided",
    },
    {
      name: "revoked and expired: revoked wins",
      key: { revoked_at: at, expires_at: at },
      now: edge + 1,
      ok: false,
      message: "Invalid API key provided",
    },
    {
      name: "rotation grace still running",
      key: { expires_at: "2026-11-26T12:00:00Z" },
      now: edge,
      ok: true,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const key = makeKey(c.key);
      const result = verifyApiKey(indexOf(key.record), key.token, { now: c.now, ip: undefined });
      if (c.ok) assert.ok(!(result instanceof GatewayError), String(result));
      else expectError(result, 401, "invalid_api_key", c.message);
    });
  }
});

Deno.test("verifyApiKey() IP allowlists: v4, v6, IPv4-mapped, edges", async (t) => {
  const key = makeKey({ ips: ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"] });
  const index = indexOf(key.record);
  const cases: [string | undefined, boolean][] = [
    ["10.0.0.0", true],
    ["10.255.255.255", true],
    ["11.0.0.0", false],
    ["9.255.255.255", false],
    ["192.168.1.7", true],
    ["192.168.1.8", false],
    ["::ffff:10.1.2.3", true],
    ["::ffff:11.1.2.3", false],
    ["2001:db8::1", true],
    ["2001:db8:ffff:ffff::1", true],
    ["2001:db9::1", false],
    ["::1", false],
    ["not-an-ip", false],
    [undefined, false],
  ];
  for (const [ip, ok] of cases) {
    await t.step(`${ip} → ${ok ? "allowed" : "403"}`, () => {
      const result = verifyApiKey(index, key.token, { now: NOW, ip });
      if (ok) assert.ok(!(result instanceof GatewayError));
      else expectError(result, 403, "ip_not_allowed");
    });
  }
  await t.step("403 is a permission_error", () => {
    const result = verifyApiKey(index, key.token, { now: NOW, ip: "8.8.8.8" });
    assert.ok(result instanceof GatewayError);
    assert.equal(result.type, "permission_error");
  });
});

Deno.test("principal scopes: models (exact and prefix*) and endpoints", async (t) => {
  const key = makeKey({
    models: ["gpt-4o", "claude-*", "choreoai/echo"],
    endpoints: ["/v1/chat/completions"],
  });
  const result = verifyApiKey(indexOf(key.record), key.token, { now: NOW, ip: undefined });
  assert.ok(!(result instanceof GatewayError));
  const models: [string, boolean][] = [
    ["gpt-4o", true],
    ["gpt-4o-mini", false],
    ["openai/gpt-4o", false],
    ["claude-sonnet-4-5", true],
    ["claude-", true],
    ["anthropic/claude-sonnet-4-5", false],
    ["choreoai/echo", true],
  ];
  for (const [model, ok] of models) {
    await t.step(`model ${model}`, () => assert.equal(result.mayUseModel(model), ok));
  }
  await t.step("endpoints", () => {
    assert.equal(result.mayUseEndpoint("/v1/chat/completions"), true);
    assert.equal(result.mayUseEndpoint("/v1/models"), false);
    assert.equal(result.mayUseEndpoint("/v1/embeddings"), false);
  });
  await t.step("no scopes: everything allowed, limits null", () => {
    const open = makeKey();
    const principal = verifyApiKey(indexOf(open.record), open.token, { now: NOW, ip: undefined });
    assert.ok(!(principal instanceof GatewayError));
    assert.equal(principal.mayUseModel("anything"), true);
    assert.equal(principal.mayUseEndpoint("/v1/models"), true);
    assert.deepEqual(principal.limits, { rpm: null, tpm: null });
  });
  await t.step("rpm and tpm are carried on the principal", () => {
    const limited = makeKey({ rpm: 60, tpm: 1000 });
    const principal = verifyApiKey(indexOf(limited.record), limited.token, {
      now: NOW,
      ip: undefined,
    });
    assert.ok(!(principal instanceof GatewayError));
    assert.deepEqual(principal.limits, { rpm: 60, tpm: 1000 });
  });
});

Deno.test("principal role: admin keys are admin, and model keys only for the models they list", async (t) => {
  const probes = ["gpt-4o", "choreoai/echo", "claude-sonnet-4-5"];
  const cases: [label: string, key: Partial<KeyRecord>, admin: boolean, models: string[]][] = [
    ["no role: a client key, every model", {}, false, probes],
    ["role client: every model", { role: "client" }, false, probes],
    ["admin without models: no model at all", { role: "admin" }, true, []],
    ["admin listing models: those", { role: "admin", models: ["choreoai/*"] }, true, [
      "choreoai/echo",
    ]],
    ["client listing models: those", { models: ["choreoai/*"] }, false, ["choreoai/echo"]],
  ];
  for (const [label, overrides, admin, models] of cases) {
    await t.step(label, () => {
      const key = makeKey(overrides);
      const principal = verifyApiKey(indexOf(key.record), key.token, { now: NOW, ip: undefined });
      assert.ok(!(principal instanceof GatewayError));
      assert.equal(principal.admin, admin);
      for (const model of probes) {
        assert.equal(principal.mayUseModel(model), models.includes(model), model);
      }
      assert.equal(principal.mayUseEndpoint("/metrics"), true, "no endpoint scope");
    });
  }
  await t.step("development mode: every model, never admin", () => {
    const principal = createDevelopmentVerifier().verify("sk-anything-at-all", {
      now: NOW,
      ip: "127.0.0.1",
    });
    assert.ok(!(principal instanceof GatewayError));
    assert.equal(principal.admin, false);
    assert.equal(principal.id, "dev");
    assert.equal(principal.mayUseModel("gpt-4o"), true);
  });
});

Deno.test("createKeyListVerifier() remembers keys it found, never past a reload", async (t) => {
  const good = makeKey();
  const revokeAt = "2026-11-25T12:00:00.000Z";
  const ending = makeKey({ revoked_at: revokeAt });
  let index = indexOf(good.record, ending.record);
  const verifier = createKeyListVerifier(() => index);
  const verify = (token: string, now = NOW - 1) => verifier.verify(token, { now, ip: undefined });
  await t.step("the same token twice: the same principal", () => {
    const first = verify(good.token);
    assert.ok(!(first instanceof GatewayError));
    assert.equal(verify(good.token), first);
  });
  await t.step("a remembered key still ends at its revocation time", () => {
    assert.ok(!(verify(ending.token) instanceof GatewayError));
    expectError(verify(ending.token, Date.parse(revokeAt)), 401, "invalid_api_key");
  });
  await t.step("a reload that revokes the key: refused at once", () => {
    index = indexOf({ ...good.record, revoked_at: "2026-01-02T00:00:00Z" }, ending.record);
    expectError(verify(good.token), 401, "invalid_api_key");
  });
  await t.step("a reload that drops the key: refused; one that lists it again: accepted", () => {
    index = indexOf(ending.record);
    expectError(verify(good.token), 401, "invalid_api_key");
    index = indexOf(good.record);
    assert.equal((verify(good.token) as Principal).id, good.record.id);
  });
  await t.step("unknown tokens are refused every time and never fill the memory", () => {
    for (let i = 0; i < 3; i++) expectError(verify(makeKey().token), 401, "invalid_api_key");
  });
  await t.step("past the memory's size every key is still verified", () => {
    const many = Array.from({ length: 3 }, () => makeKey({}, `own-key-${crypto.randomUUID()}`));
    index = indexOf(...many.map((key) => key.record));
    assert.ok(TOKEN_CACHE_SIZE >= 1_000);
    for (const key of many) assert.equal((verify(key.token) as Principal).id, key.record.id);
  });
});

Deno.test("principal budget: the key's own, and one account for its whole rotation chain", async (t) => {
  const root = makeKey({ id: "key_Root000001", budget: { usd: 10, period: "day" } });
  const next = makeKey({ id: "key_Next000002", rotated_from: "key_Root000001" });
  const last = makeKey({
    id: "key_Last000003",
    rotated_from: "key_Next000002",
    budget: { usd: 20, period: "month" },
  });
  const alone = makeKey({ id: "key_Alone00004" });
  const orphan = makeKey({ id: "key_Orphan0005", rotated_from: "key_Deleted006" });
  const index = indexOf(root.record, next.record, last.record, alone.record, orphan.record);
  const principal = (token: string) => {
    const result = verifyApiKey(index, token, { now: NOW, ip: undefined });
    assert.ok(!(result instanceof GatewayError));
    return result;
  };
  const chain = ["key_Root000001", "key_Next000002", "key_Last000003"];
  const cases: [string, string, unknown, unknown][] = [
    ["the first key", root.token, { usd: 10, period: "day" }, {
      id: "key_Root000001",
      keyIds: chain,
    }],
    ["a rotated key without its own budget", next.token, null, {
      id: "key_Root000001",
      keyIds: chain,
    }],
    ["the last of the chain", last.token, { usd: 20, period: "month" }, {
      id: "key_Root000001",
      keyIds: chain,
    }],
    ["a key never rotated", alone.token, null, {
      id: "key_Alone00004",
      keyIds: ["key_Alone00004"],
    }],
    ["a key rotated from one no longer listed", orphan.token, null, {
      id: "key_Orphan0005",
      keyIds: ["key_Orphan0005"],
    }],
  ];
  for (const [name, token, budget, spender] of cases) {
    await t.step(name, () => {
      const { budget: actual, spender: actualSpender } = principal(token);
      assert.deepEqual(actual, budget);
      assert.deepEqual(actualSpender, spender);
    });
  }
  await t.step("development mode: one spender, dev, and no budget of its own", () => {
    const dev = createDevelopmentVerifier().verify("anything", { now: NOW, ip: undefined });
    assert.ok(!(dev instanceof GatewayError));
    assert.equal(dev.budget, null);
    assert.deepEqual(dev.spender, { id: "dev", keyIds: ["dev"] });
  });
});

Deno.test("rotationSpenders() survives a cycle of rotated_from", () => {
  const a = makeKey({ id: "key_CycleA0001", rotated_from: "key_CycleB0002" });
  const b = makeKey({ id: "key_CycleB0002", rotated_from: "key_CycleA0001" });
  const spenders = rotationSpenders([a.record, b.record]);
  assert.equal(spenders.size, 2);
  for (const spender of spenders.values()) {
    assert.ok(["key_CycleA0001", "key_CycleB0002"].includes(spender.id));
  }
});
