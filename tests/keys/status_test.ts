import assert from "node:assert/strict";
import { keyStatus } from "../../src/keys/status.ts";

const T = Date.parse("2026-11-25T10:00:00Z");
const AT_T = "2026-11-25T10:00:00Z";

interface Key {
  id: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
}

function key(overrides: Partial<Key> = {}): Key {
  return {
    id: "key_Old0000001",
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    ...overrides,
  };
}

function successor(of: string): Key {
  return key({ id: "key_New0000001", rotated_from: of });
}

Deno.test("keyStatus() is active for a key with no expiry and no revocation", () => {
  const k = key();
  assert.equal(keyStatus(k, [k], T), "active");
  assert.equal(keyStatus(k, [], T), "active");
});

Deno.test("keyStatus() revokes at revoked_at: −1 ms, 0, +1 ms", async (t) => {
  const k = key({ revoked_at: AT_T });
  for (const [offset, expected] of [[-1, "active"], [0, "revoked"], [1, "revoked"]] as const) {
    await t.step(`now = revoked_at ${offset > 0 ? "+" : ""}${offset} ms → ${expected}`, () => {
      assert.equal(keyStatus(k, [k], T + offset), expected);
    });
  }
});

Deno.test("keyStatus() expires at expires_at: −1 ms, 0, +1 ms", async (t) => {
  const k = key({ expires_at: AT_T });
  for (const [offset, expected] of [[-1, "active"], [0, "expired"], [1, "expired"]] as const) {
    await t.step(`now = expires_at ${offset > 0 ? "+" : ""}${offset} ms → ${expected}`, () => {
      assert.equal(keyStatus(k, [k], T + offset), expected);
    });
  }
});

Deno.test("keyStatus() is rotating during the grace period: −1 ms, 0, +1 ms", async (t) => {
  const old = key({ expires_at: AT_T });
  const all = [old, successor(old.id)];
  for (const [offset, expected] of [[-1, "rotating"], [0, "expired"], [1, "expired"]] as const) {
    await t.step(`now = expires_at ${offset > 0 ? "+" : ""}${offset} ms → ${expected}`, () => {
      assert.equal(keyStatus(old, all, T + offset), expected);
    });
  }
});

Deno.test("keyStatus() puts revoked before expired before rotating", async (t) => {
  const cases: [label: string, k: Key, all: Key[], expected: string][] = [
    [
      "revoked and expired",
      key({ revoked_at: "2026-11-25T09:00:00Z", expires_at: "2026-11-25T08:00:00Z" }),
      [],
      "revoked",
    ],
    [
      "revoked while rotating (--grace 0)",
      key({ revoked_at: AT_T, expires_at: "2026-11-26T10:00:00Z" }),
      [successor("key_Old0000001")],
      "revoked",
    ],
    [
      "expired with a successor",
      key({ expires_at: "2026-11-25T09:59:59Z" }),
      [successor("key_Old0000001")],
      "expired",
    ],
  ];
  for (const [label, k, others, expected] of cases) {
    await t.step(label, () => {
      assert.equal(keyStatus(k, [k, ...others], T), expected);
    });
  }
});

Deno.test("keyStatus() is rotating only with a successor and a future expiry", async (t) => {
  const future = "2026-11-26T10:00:00Z";
  await t.step("a future expiry without a successor is active", () => {
    const k = key({ expires_at: future });
    assert.equal(keyStatus(k, [k, successor("key_Other00001")], T), "active");
  });
  await t.step("a successor without an expiry leaves the old key active", () => {
    const k = key();
    assert.equal(keyStatus(k, [k, successor(k.id)], T), "active");
  });
  await t.step("the successor itself is active", () => {
    const old = key({ expires_at: future });
    const next = successor(old.id);
    assert.equal(keyStatus(old, [old, next], T), "rotating");
    assert.equal(keyStatus(next, [old, next], T), "active");
  });
  await t.step("a key never counts as its own successor", () => {
    const k = key({ expires_at: future, rotated_from: "key_Old0000001" });
    assert.equal(keyStatus(k, [k], T), "active");
  });
});

Deno.test("keyStatus() reads times with an offset", () => {
  // 12:00+02:00 is 10:00Z.
  const k = key({ expires_at: "2026-11-25T12:00:00+02:00" });
  assert.equal(keyStatus(k, [k], T - 1), "active");
  assert.equal(keyStatus(k, [k], T), "expired");
});
