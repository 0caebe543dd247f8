/**
 * The key operations as pure functions (src/keys/operations.ts), shared by the CLI and the admin
 * API: the lists they return, the records they make, and the rules that refuse.
 */
import assert from "node:assert/strict";
import { digestKey } from "../../src/keys/generate.ts";
import type { KeyFile, KeyRecord } from "../../src/keys/key_file.ts";
import type { NewKeySettings } from "../../src/keys/new_record.ts";
import {
  addKey,
  createKey,
  KeyOperationError,
  revokeKey,
  rotateKey,
  setKeyBudget,
  updateKey,
} from "../../src/keys/operations.ts";
import { FLAG_LABELS, KeySettingsError } from "../../src/keys/settings.ts";
import { makeKey } from "../_helpers/keys.ts";

const NOW = Date.parse("2026-12-01T10:00:00.500Z");
const HOUR = 3_600_000;

/** Bytes counting up from `seed`: the same keys and ids every run. */
function counting(seed = 1): (length: number) => Uint8Array {
  let next = seed;
  return (length) => Uint8Array.from({ length }, () => next++ % 256);
}

function ctx(now = NOW) {
  return { now, randomBytes: counting(), where: "keys.json", labels: FLAG_LABELS };
}

const SETTINGS: NewKeySettings = {
  name: "ci",
  role: "client",
  expires_at: null,
  models: ["gpt-4o"],
  endpoints: null,
  ips: null,
  rpm: 60,
  tpm: null,
  budget: null,
};

function fileOf(...keys: KeyRecord[]): KeyFile {
  return { version: 1, keys };
}

function refused(run: () => unknown): KeyOperationError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof KeyOperationError, String(error));
    return error;
  }
  assert.fail("expected a refusal");
}

Deno.test("createKey() appends a record holding the secret's digest, never the secret", () => {
  const existing = makeKey().record;
  const { file, record, secret } = createKey(fileOf(existing), SETTINGS, ctx());
  assert.deepEqual(file.keys, [existing, record]);
  assert.equal(record.digest, digestKey(secret));
  assert.equal(record.created_at, "2026-12-01T10:00:00Z");
  assert.deepEqual([record.models, record.rpm, record.role], [["gpt-4o"], 60, undefined]);
  assert.equal(JSON.stringify(file).includes(secret), false);
  // The same random bytes give the same key: nothing else is random.
  assert.equal(createKey(fileOf(existing), SETTINGS, ctx()).secret, secret);
});

Deno.test("addKey() refuses a key already listed", () => {
  const { token, record } = makeKey({ name: "old" });
  const error = refused(() => addKey(fileOf(record), token, SETTINGS, ctx()));
  assert.equal(error.kind, "conflict");
  assert.equal(error.message, `This key is already in the list as ${record.id} ("old")`);
});

Deno.test("revokeKey() revokes once; again, nothing changes", () => {
  const { record } = makeKey();
  const first = revokeKey(fileOf(record), record.id, ctx());
  assert.equal(first.changed, true);
  assert.equal(first.record.revoked_at, "2026-12-01T10:00:00Z");
  const again = revokeKey(first.file, record.id, ctx(NOW + HOUR));
  assert.equal(again.changed, false);
  assert.equal(again.file, first.file);
  const missing = refused(() => revokeKey(fileOf(record), "key_missing01", ctx()));
  assert.equal(missing.kind, "not_found");
  assert.equal(missing.message, 'No key with id "key_missing01" in keys.json');
});

Deno.test("rotateKey(): same settings, rotated_from, the old key's grace", async (t) => {
  const { record } = makeKey({
    name: "svc",
    created_at: "2026-11-01T10:00:00Z",
    expires_at: "2026-12-31T10:00:00Z",
    tpm: 500,
    budget: { usd: 5, period: "month" },
    metadata: { team: "a" },
  });
  await t.step("the new key keeps the old one's lifetime and settings", () => {
    const { record: next, previous } = rotateKey(
      fileOf(record),
      record.id,
      { graceMs: 2 * HOUR, labels: FLAG_LABELS },
      ctx(),
    );
    assert.equal(next.rotated_from, record.id);
    assert.deepEqual([next.name, next.tpm, next.budget, next.metadata], [
      "svc",
      500,
      { usd: 5, period: "month" },
      { team: "a" },
    ]);
    // 60 days of lifetime from now (whole seconds).
    assert.equal(next.expires_at, "2027-01-30T10:00:00Z");
    assert.equal(previous.expires_at, "2026-12-01T12:00:00Z");
  });
  await t.step("the grace never outlasts the old key's own expiry", () => {
    const { previous } = rotateKey(
      fileOf(record),
      record.id,
      { graceMs: 100 * 24 * HOUR, labels: FLAG_LABELS },
      ctx(),
    );
    assert.equal(previous.expires_at, record.expires_at);
  });
  await t.step("grace 0 revokes the old key now", () => {
    const { previous } = rotateKey(
      fileOf(record),
      record.id,
      { graceMs: 0, labels: FLAG_LABELS },
      ctx(),
    );
    assert.equal(previous.revoked_at, "2026-12-01T10:00:00Z");
  });
  await t.step("revoked, expired and rotating keys are refused", () => {
    const options = { graceMs: HOUR, labels: FLAG_LABELS };
    const revoked = { ...record, revoked_at: "2026-11-02T00:00:00Z" };
    assert.match(
      refused(() => rotateKey(fileOf(revoked), record.id, options, ctx())).message,
      /is revoked and cannot be rotated/,
    );
    const expired = { ...record, expires_at: "2026-11-30T00:00:00Z" };
    assert.equal(
      refused(() => rotateKey(fileOf(expired), record.id, options, ctx())).message,
      `Key ${record.id} expired at 2026-11-30T00:00:00Z and cannot be rotated: create a new key`,
    );
    const once = rotateKey(fileOf(record), record.id, options, ctx());
    const error = refused(() => rotateKey(once.file, record.id, options, ctx()));
    assert.equal(error.kind, "conflict");
    assert.match(error.message, new RegExp(`already rotated to ${once.record.id}`));
  });
  await t.step("a grace past the year 9999 is a settings error naming the label", () => {
    assert.throws(
      () =>
        rotateKey(fileOf(record), record.id, {
          graceMs: 9_000 * 365 * 24 * HOUR,
          labels: FLAG_LABELS,
        }, ctx()),
      (error) => error instanceof KeySettingsError && error.setting === "--grace",
    );
  });
});

Deno.test("setKeyBudget(): set, change the period alone, remove", () => {
  const { record } = makeKey();
  const missing = refused(() => setKeyBudget(fileOf(record), record.id, { period: "day" }, ctx()));
  assert.equal(
    missing.message,
    `Key ${record.id} has no budget of its own to change the period of: give --budget-usd too`,
  );
  const set = setKeyBudget(fileOf(record), record.id, { usd: 10 }, ctx());
  assert.deepEqual(set.record.budget, { usd: 10, period: "month" });
  const period = setKeyBudget(set.file, record.id, { period: "total" }, ctx());
  assert.deepEqual(period.record.budget, { usd: 10, period: "total" });
  const removed = setKeyBudget(period.file, record.id, null, ctx());
  assert.equal("budget" in removed.record, false);
});

Deno.test("updateKey(): changes what it is given, keeps the rest and the field order", async (t) => {
  const { record } = makeKey({ rpm: 5, budget: { usd: 1, period: "day" } });
  const file = fileOf(record);
  await t.step("nothing to change: the same list", () => {
    assert.equal(updateKey(file, record.id, {}, ctx()).file, file);
    assert.equal(updateKey(file, record.id, { rpm: 5 }, ctx()).file, file);
  });
  await t.step("null clears, values set, budget kept in place", () => {
    const { record: next } = updateKey(file, record.id, { rpm: null, models: ["a*"] }, ctx());
    assert.deepEqual([next.rpm, next.models], [null, ["a*"]]);
    assert.deepEqual(Object.keys(next), Object.keys(record));
  });
  await t.step("budget: set and removed", () => {
    const set = updateKey(file, record.id, { budget: { usd: 3, period: "month" } }, ctx());
    assert.deepEqual(set.record.budget, { usd: 3, period: "month" });
    assert.equal("budget" in updateKey(file, record.id, { budget: null }, ctx()).record, false);
  });
  await t.step("a client key may not get an admin endpoint", () => {
    assert.throws(
      () => updateKey(file, record.id, { endpoints: ["/admin"] }, ctx()),
      new KeySettingsError(
        "--endpoints: only admin keys may call /admin: add --admin",
        "--endpoints",
      ),
    );
  });
});
