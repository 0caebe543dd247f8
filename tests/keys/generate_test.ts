import assert from "node:assert/strict";
import fc from "fast-check";
import {
  digestKey,
  generateKey,
  generateKeyId,
  hasValidChecksum,
  KEY_PREFIX,
  KEY_RANDOM_BYTES,
  keyHint,
} from "../../src/keys/generate.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** DESIGN.md: `sk-choreo-` + base62 (≥ 160 random bits) + a 6-char checksum. */
const KEY_REGEXP = /^sk-choreo-[0-9A-Za-z]{39}$/;
const SECRET_CHARS = 39;

const randomBytes = fc.uint8Array({ minLength: KEY_RANDOM_BYTES, maxLength: KEY_RANDOM_BYTES });

function freshKey(): string {
  return generateKey(crypto.getRandomValues(new Uint8Array(KEY_RANDOM_BYTES)));
}

Deno.test("generateKey() makes sk-choreo- followed by 39 base62 characters", () => {
  fc.assert(fc.property(randomBytes, (bytes) => {
    assert.match(generateKey(bytes), KEY_REGEXP);
  }));
  assert.match(generateKey(new Uint8Array(KEY_RANDOM_BYTES)), KEY_REGEXP);
  assert.match(generateKey(new Uint8Array(KEY_RANDOM_BYTES).fill(255)), KEY_REGEXP);
});

Deno.test("generateKey() draws at least 160 random bits, and uses all of them", () => {
  assert.ok(KEY_RANDOM_BYTES * 8 >= 160, `${KEY_RANDOM_BYTES * 8} bits`);
  // Flipping any single bit of the random input changes the key: no bit is discarded.
  const base = new Uint8Array(KEY_RANDOM_BYTES).fill(0x5a);
  const reference = generateKey(base);
  for (let bit = 0; bit < KEY_RANDOM_BYTES * 8; bit++) {
    const flipped = base.slice();
    flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
    assert.notEqual(generateKey(flipped), reference, `bit ${bit} is ignored`);
  }
  // The random part can represent every 192-bit value: 62^33 > 2^192.
  assert.ok(62n ** 33n > 2n ** BigInt(KEY_RANDOM_BYTES * 8));
});

Deno.test("generateKey() refuses too few random bytes", () => {
  assert.throws(() => generateKey(new Uint8Array(KEY_RANDOM_BYTES - 1)), RangeError);
});

Deno.test("generateKey() keys are distinct", () => {
  const keys = new Set(Array.from({ length: 1000 }, freshKey));
  assert.equal(keys.size, 1000);
});

Deno.test("hasValidChecksum() accepts every generated key", () => {
  fc.assert(fc.property(randomBytes, (bytes) => hasValidChecksum(generateKey(bytes))));
});

Deno.test("hasValidChecksum() refuses a key with any single character changed", () => {
  fc.assert(
    fc.property(
      randomBytes,
      fc.nat({ max: SECRET_CHARS - 1 }),
      fc.constantFrom(...BASE62),
      (bytes, offset, replacement) => {
        const key = generateKey(bytes);
        const position = KEY_PREFIX.length + offset;
        fc.pre(key[position] !== replacement);
        const changed = key.slice(0, position) + replacement + key.slice(position + 1);
        return !hasValidChecksum(changed);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("hasValidChecksum() refuses malformed sk-choreo- tokens", async (t) => {
  const key = freshKey();
  const cases: [label: string, token: string][] = [
    ["truncated", key.slice(0, -1)],
    ["one character too many", `${key}0`],
    ["prefix only", KEY_PREFIX],
    ["non-base62 character", `${key.slice(0, -1)}-`],
    ["two characters swapped", key.slice(0, 10) + key[11] + key[10] + key.slice(12)],
  ];
  for (const [label, token] of cases) {
    await t.step(label, () => {
      if (token === key) return; // a swap of two equal characters changes nothing
      assert.equal(hasValidChecksum(token), false);
    });
  }
});

Deno.test("hasValidChecksum() leaves tokens without the prefix alone", () => {
  assert.equal(hasValidChecksum("sk-proj-abcdef"), true);
  assert.equal(hasValidChecksum("my-own-long-enough-token-1234567890"), true);
});

Deno.test("digestKey() is sha256: with 64 lowercase hex digits of SHA-256", () => {
  // FIPS 180-2 test vector for "abc".
  assert.equal(
    digestKey("abc"),
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  fc.assert(fc.property(fc.string({ minLength: 1 }), (token) => {
    assert.match(digestKey(token), /^sha256:[0-9a-f]{64}$/);
  }));
  const key = freshKey();
  assert.equal(digestKey(key), digestKey(key));
  assert.notEqual(digestKey(key), digestKey(`${key}x`));
});

Deno.test("keyHint() of a generated key shows at most 7 characters of its secret part", () => {
  fc.assert(fc.property(randomBytes, (bytes) => {
    const key = generateKey(bytes);
    const hint = keyHint(key);
    assert.ok(hint.startsWith(KEY_PREFIX), hint);
    assert.ok(hint.includes("…"), hint);
    const shown = hint.slice(KEY_PREFIX.length).replace("…", "");
    assert.ok(shown.length <= 7, `${hint} shows ${shown.length} characters`);
    // What it shows is the start and the end of the key, so a person can match it.
    const [head = "", tail = ""] = hint.split("…");
    assert.ok(key.startsWith(head) && key.endsWith(tail), hint);
  }));
});

Deno.test("keyHint() shows at most a sixth of a foreign key", () => {
  fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,80}$/), (token) => {
    fc.pre(!token.startsWith("sk-choreo-"));
    const hint = keyHint(token);
    if (/^…\(\d+ chars\)$/.test(hint)) {
      assert.equal(hint, `…(${token.length} chars)`);
      return;
    }
    const [head = "", tail = ""] = hint.split("…");
    assert.ok(token.startsWith(head) && token.endsWith(tail), hint);
    assert.ok(head.length + tail.length <= token.length / 6, `${hint} of ${token.length} chars`);
  }));
});

Deno.test("generateKeyId() makes key_ followed by 10 base62 characters", () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
    assert.match(generateKeyId(bytes), /^key_[0-9A-Za-z]{10}$/);
  }));
  const ids = new Set(
    Array.from({ length: 1000 }, () => generateKeyId(crypto.getRandomValues(new Uint8Array(8)))),
  );
  assert.equal(ids.size, 1000);
});
