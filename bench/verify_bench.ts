/**
 * Key verification cost with 10,000 keys in the list, against development mode.
 *
 *     deno task bench:verify
 */
import { createDevelopmentVerifier } from "../src/auth/verifier.ts";
import { parseAuthorization } from "../src/auth/authorization.ts";
import { digestKey, generateKey, keyHint } from "../src/keys/generate.ts";
import { parseKeyFile } from "../src/keys/key_file.ts";
import { compileKeyIndex, verifyApiKey } from "../src/keys/verify.ts";

const SIZE = 10_000;
const tokens: string[] = [];
const keys = [];
for (let i = 0; i < SIZE; i++) {
  const token = generateKey(crypto.getRandomValues(new Uint8Array(24)));
  tokens.push(token);
  keys.push({
    id: `key_bench${String(i).padStart(6, "0")}`,
    name: `bench ${i}`,
    digest: digestKey(token),
    hint: keyHint(token),
    created_at: "2026-01-01T00:00:00Z",
    ips: i % 2 === 0 ? ["10.0.0.0/8", "2001:db8::/32"] : null,
    models: ["gpt-4o", "claude-*"],
  });
}
const text = JSON.stringify({ version: 1, keys });
const index = compileKeyIndex(parseKeyFile(text));
const development = createDevelopmentVerifier();
const context = { now: Date.parse("2026-11-25T00:00:00Z"), ip: "10.1.2.3" };
const hit = tokens[SIZE / 2] ?? "";
const withIps = tokens[0] ?? "";
const unknown = generateKey(crypto.getRandomValues(new Uint8Array(24)));
const forged = `${hit.slice(0, -1)}${hit.endsWith("A") ? "B" : "A"}`;
const header = `Bearer ${hit}`;

Deno.bench("development mode: parse header + accept", { group: "verify", baseline: true }, () => {
  const parsed = parseAuthorization(header);
  if (parsed.ok) development.verify(parsed.token, context);
});

Deno.bench("key list (10,000): parse header + verify a listed key", { group: "verify" }, () => {
  const parsed = parseAuthorization(header);
  if (parsed.ok) verifyApiKey(index, parsed.token, context);
});

Deno.bench("key list (10,000): listed key with an IP allowlist", { group: "verify" }, () => {
  verifyApiKey(index, withIps, context);
});

Deno.bench("key list (10,000): unknown key", { group: "verify" }, () => {
  verifyApiKey(index, unknown, context);
});

Deno.bench("key list (10,000): bad checksum, refused without a lookup", { group: "verify" }, () => {
  verifyApiKey(index, forged, context);
});

Deno.bench("load: parse and compile a 10,000-key file", { group: "reload" }, () => {
  compileKeyIndex(parseKeyFile(text));
});
