/**
 * Parsing of the client's `Authorization: Bearer <token>` header (RFC 6750 §2.1), and of the
 * `x-api-key: <token>` header Anthropic clients send (accepted on the Messages endpoints).
 *
 * Pure: the header values in, a token or the seed's exact 401 error out.
 */
import { GatewayError } from "../errors.ts";

/** Longest token accepted, in bytes (b64token characters are ASCII, so also characters). */
export const MAX_TOKEN_BYTES = 512;

const BEARER_REGEXP = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const TOKEN_REGEXP = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The seed's three 401 errors, with `WWW-Authenticate: Bearer` on each. */
export const authErrors = {
  missing(): GatewayError {
    return authError("Missing Authorization header", "missing_authorization");
  },
  malformed(header = "Authorization"): GatewayError {
    return authError(`Malformed ${header} header`, "malformed_authorization");
  },
  invalidKey(message = "Invalid API key provided"): GatewayError {
    return authError(message, "invalid_api_key");
  },
} as const;

function authError(message: string, code: string): GatewayError {
  return new GatewayError(message, {
    status: 401,
    type: "authentication_error",
    code,
    headers: { "www-authenticate": "Bearer" },
  });
}

/** Result of {@linkcode parseAuthorization}: the token, or the 401 to answer with. */
export type ParsedAuthorization =
  | { ok: true; token: string }
  | { ok: false; error: GatewayError };

/**
 * Extracts the bearer token from an `Authorization` header value (`null` when absent).
 *
 * The scheme is case-insensitive and followed by one or more spaces; the token must be
 * RFC 6750's b64token and at most {@linkcode MAX_TOKEN_BYTES}. Two headers, which the
 * runtime joins with ", ", never form a valid b64token and so are malformed.
 */
export function parseAuthorization(header: string | null): ParsedAuthorization {
  if (header === null) return { ok: false, error: authErrors.missing() };
  const match = BEARER_REGEXP.exec(header);
  const token = match?.[1];
  if (token === undefined || token.length > MAX_TOKEN_BYTES) {
    return { ok: false, error: authErrors.malformed() };
  }
  return { ok: true, token };
}

/**
 * Extracts the key of a Messages request: `Authorization: Bearer <token>` when that header is
 * present (it wins, and is parsed as {@linkcode parseAuthorization} does), else `x-api-key:
 * <token>`, which must be the same b64token of at most {@linkcode MAX_TOKEN_BYTES} (else 401
 * "Malformed x-api-key header"). With neither, the seed's "Missing Authorization header".
 *
 * @example Usage
 * ```ts
 * import { parseMessagesCredentials } from "./authorization.ts";
 * parseMessagesCredentials(null, "sk-choreo-abc"); // { ok: true, token: "sk-choreo-abc" }
 * ```
 */
export function parseMessagesCredentials(
  authorization: string | null,
  apiKey: string | null,
): ParsedAuthorization {
  if (authorization !== null || apiKey === null) return parseAuthorization(authorization);
  const token = apiKey.trim();
  if (!TOKEN_REGEXP.test(token) || token.length > MAX_TOKEN_BYTES) {
    return { ok: false, error: authErrors.malformed("x-api-key") };
  }
  return { ok: true, token };
}
