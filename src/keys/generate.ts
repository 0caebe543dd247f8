/**
 * API key material: generated keys with a checksum, digests and display hints.
 *
 * Generated keys look like `sk-choreo-<33 base62 chars: 192 random bits><6 base62 chars: CRC-32>`.
 * The checksum lets the gateway refuse a mistyped or forged `sk-choreo-` token without a lookup.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

/** Prefix of every key ChoreoAI generates. */
export const KEY_PREFIX = "sk-choreo-";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_BYTES = 24;
const RANDOM_CHARS = 33; // ceil(192 / log2(62))
const CHECKSUM_CHARS = 6; // 62^6 > 2^32
const GENERATED_REGEXP = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);

function base62(value: bigint, width: number): string {
  let out = "";
  let rest = value;
  while (rest > 0n) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, "0");
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_CHARS);
}

/** Makes a new key from `RANDOM_BYTES` random bytes (passed in, so this stays pure). */
export function generateKey(random: Uint8Array): string {
  if (random.byteLength < RANDOM_BYTES) throw new RangeError(`Need ${RANDOM_BYTES} random bytes`);
  let value = 0n;
  for (const byte of random.subarray(0, RANDOM_BYTES)) value = (value << 8n) | BigInt(byte);
  const body = base62(value, RANDOM_CHARS);
  return `${KEY_PREFIX}${body}${checksum(body)}`;
}

/** How many random bytes {@linkcode generateKey} needs. */
export const KEY_RANDOM_BYTES = RANDOM_BYTES;

/**
 * Whether a token that claims to be a ChoreoAI key (has the prefix) is well-formed with a valid
 * checksum. Tokens without the prefix are not ours to judge and return true.
 */
export function hasValidChecksum(token: string): boolean {
  if (!token.startsWith(KEY_PREFIX)) return true;
  if (!GENERATED_REGEXP.test(token)) return false;
  const body = token.slice(KEY_PREFIX.length, KEY_PREFIX.length + RANDOM_CHARS);
  return checksum(body) === token.slice(KEY_PREFIX.length + RANDOM_CHARS);
}

/** The stored digest of a key: `sha256:<64 hex>`. */
export function digestKey(token: string): string {
  return `sha256:${createHash("sha256").update(token).digest("hex")}`;
}

/** A display hint that identifies a key without revealing it: `sk-choreo-AbC…9xYz`. */
export function keyHint(token: string): string {
  if (token.startsWith(KEY_PREFIX) && token.length > KEY_PREFIX.length + 8) {
    return `${token.slice(0, KEY_PREFIX.length + 3)}…${token.slice(-4)}`;
  }
  // A key of the operator's own shape: never show more than a sixth of it.
  if (token.length >= 48) return `${token.slice(0, 4)}…${token.slice(-4)}`;
  if (token.length >= 24) return `…${token.slice(-4)}`;
  return `…(${token.length} chars)`;
}

/** A new key id, `key_` + 10 base62 characters, from 8 random bytes. */
export function generateKeyId(random: Uint8Array): string {
  let value = 0n;
  for (const byte of random.subarray(0, 8)) value = (value << 8n) | BigInt(byte);
  return `key_${base62(value % 62n ** 10n, 10)}`;
}
