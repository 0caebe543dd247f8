/**
 * Key verification against a key list. Pure: (index, token, now, client IP) → principal or error.
 *
 * Each load of the key file is compiled once into an immutable {@linkcode KeyIndex} keyed by
 * digest; a reload builds a new index and swaps it whole.
 */
import { timingSafeEqual } from "node:crypto";
import { authErrors } from "../auth/authorization.ts";
import type { KeyVerifier, Principal, VerifyContext } from "../auth/verifier.ts";
import { GatewayError } from "../errors.ts";
import { digestKey, hasValidChecksum } from "./generate.ts";
import type { Spender } from "../spend/budget.ts";
import { type KeyFile, type KeyRecord, keyRole } from "./key_file.ts";
import { compileEndpointScope, compileIpScope, compileModelScope } from "./scopes.ts";

/** A key ready for verification: times parsed, scopes compiled. */
export interface CompiledKey {
  readonly record: KeyRecord;
  readonly digest: Uint8Array;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly principal: Omit<Principal, never>;
  readonly ipAllowed: (ip: string | undefined) => boolean;
}

/** An immutable, compiled key list. */
export interface KeyIndex {
  readonly size: number;
  readonly byDigest: ReadonlyMap<string, CompiledKey>;
}

const encoder = new TextEncoder();

function time(value: string | null): number | null {
  return value === null ? null : Date.parse(value);
}

/** No model at all: an admin key's model scope when it lists none. */
function noModel(): boolean {
  return false;
}

/**
 * Every key's spender: the first key of its rotation chain (following `rotated_from` while it
 * names a key of the list) and every key of that chain, so that a rotated key goes on spending
 * the same budget.
 */
export function rotationSpenders(keys: readonly KeyRecord[]): Map<string, Spender> {
  const byId = new Map(keys.map((key) => [key.id, key]));
  const rootOf = (key: KeyRecord): string => {
    if (key.rotated_from === null) return key.id;
    const seen = new Set<string>();
    let current = key;
    while (current.rotated_from !== null && !seen.has(current.id)) {
      seen.add(current.id);
      const previous = byId.get(current.rotated_from);
      if (previous === undefined) break;
      current = previous;
    }
    return current.id;
  };
  const chains = new Map<string, string[]>();
  const roots = new Map<string, string>();
  for (const key of keys) {
    const root = rootOf(key);
    roots.set(key.id, root);
    const chain = chains.get(root);
    if (chain === undefined) chains.set(root, [key.id]);
    else chain.push(key.id);
  }
  const spenders = new Map<string, Spender>();
  const frozen = new Map<string, Spender>();
  for (const [id, root] of roots) {
    let spender = frozen.get(root);
    if (spender === undefined) {
      spender = Object.freeze({ id: root, keyIds: Object.freeze(chains.get(root) ?? [root]) });
      frozen.set(root, spender);
    }
    spenders.set(id, spender);
  }
  return spenders;
}

/**
 * Compiles a parsed key file into an index. An admin key is a model key only for the models it
 * lists: with `models` null it may use none.
 */
export function compileKeyIndex(file: KeyFile): KeyIndex {
  const byDigest = new Map<string, CompiledKey>();
  const spenders = rotationSpenders(file.keys);
  for (const record of file.keys) {
    const admin = keyRole(record) === "admin";
    const mayUseModel = admin && record.models === null
      ? noModel
      : compileModelScope(record.models);
    const mayUseEndpoint = compileEndpointScope(record.endpoints);
    byDigest.set(record.digest, {
      record,
      digest: encoder.encode(record.digest),
      expiresAt: time(record.expires_at),
      revokedAt: time(record.revoked_at),
      ipAllowed: compileIpScope(record.ips),
      principal: Object.freeze({
        id: record.id,
        hint: record.hint,
        admin,
        limits: { rpm: record.rpm, tpm: record.tpm },
        budget: record.budget ?? null,
        spender: spenders.get(record.id) ?? { id: record.id, keyIds: [record.id] },
        mayUseModel,
        mayUseEndpoint,
      }),
    });
  }
  return { size: byDigest.size, byDigest };
}

/** The key a token is, by checksum and digest (constant-time compare); undefined: none. */
function findKey(index: KeyIndex, token: string): CompiledKey | undefined {
  if (!hasValidChecksum(token)) return undefined;
  const digest = digestKey(token);
  const key = index.byDigest.get(digest);
  if (key === undefined || !timingSafeEqual(key.digest, encoder.encode(digest))) return undefined;
  return key;
}

/** Revocation, expiry (invalid from `expires_at` on), then the client IP allowlist. */
function admitKey(key: CompiledKey, context: VerifyContext): Principal | GatewayError {
  if (key.revokedAt !== null && key.revokedAt <= context.now) return authErrors.invalidKey();
  if (key.expiresAt !== null && key.expiresAt <= context.now) {
    return authErrors.invalidKey("API key has expired");
  }
  if (!key.ipAllowed(context.ip)) {
    return new GatewayError(
      `This API key may not be used from ${context.ip ?? "an unknown address"}`,
      { status: 403, type: "permission_error", code: "ip_not_allowed" },
    );
  }
  return key.principal;
}

/**
 * Verifies a bearer token: checksum of our own keys (no lookup when wrong), lookup by digest
 * with a constant-time comparison, revocation, expiry (invalid from `expires_at` on), then the
 * client IP allowlist. Never echoes the token.
 */
export function verifyApiKey(
  index: KeyIndex,
  token: string,
  context: VerifyContext,
): Principal | GatewayError {
  const key = findKey(index, token);
  return key === undefined ? authErrors.invalidKey() : admitKey(key, context);
}

/** How many tokens a verifier remembers the key of before it starts again. */
export const TOKEN_CACHE_SIZE = 10_000;

/**
 * A verifier over whatever key list is current (the store swaps it on reload).
 *
 * The digest of a token (SHA-256) is the costliest step of verifying it, and clients send the
 * same key request after request: the key a token was found to be is remembered, for the key
 * list it was found in, so a reload (a rotation, a revocation, a new list) forgets everything.
 * Only tokens that are keys are remembered, at most {@linkcode TOKEN_CACHE_SIZE} of them, and
 * revocation, expiry and the IP allowlist are checked on every request all the same.
 */
export function createKeyListVerifier(current: () => KeyIndex): KeyVerifier {
  let cachedIndex: KeyIndex | undefined;
  const keyOf = new Map<string, CompiledKey>();
  return {
    mode: "keys",
    verify(token, context) {
      const index = current();
      if (index !== cachedIndex) {
        keyOf.clear();
        cachedIndex = index;
      }
      let key = keyOf.get(token);
      if (key === undefined) {
        key = findKey(index, token);
        if (key === undefined) return authErrors.invalidKey();
        if (keyOf.size >= TOKEN_CACHE_SIZE) keyOf.clear();
        keyOf.set(token, key);
      }
      return admitKey(key, context);
    },
  };
}
