/** Builds key lists for tests with real generated keys (digests stored, keys kept by the test). */
import { digestKey, generateKey, keyHint } from "../../src/keys/generate.ts";
import type { KeyRecord } from "../../src/keys/key_file.ts";

let counter = 0;

/** A fresh key and its stored record; `overrides` sets scopes, times and so on. */
export function makeKey(
  overrides: Partial<KeyRecord> = {},
  token: string = generateKey(crypto.getRandomValues(new Uint8Array(24))),
): { token: string; record: KeyRecord } {
  counter += 1;
  const record: KeyRecord = {
    id: `key_test${String(counter).padStart(6, "0")}`,
    name: "test",
    digest: digestKey(token),
    hint: keyHint(token),
    created_at: "2026-01-01T00:00:00Z",
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    models: null,
    endpoints: null,
    ips: null,
    rpm: null,
    tpm: null,
    metadata: {},
    ...overrides,
  };
  return { token, record };
}

/** The text of a key file holding `records`. */
export function keyFileText(records: readonly KeyRecord[]): string {
  return `${JSON.stringify({ version: 1, keys: records }, null, 2)}\n`;
}
