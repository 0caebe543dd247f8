/**
 * Who may call the operators' paths (`/metrics`, `/admin`): admin keys, or, in development mode
 * (no key list), whoever connects over loopback.
 */
import { GatewayError } from "../errors.ts";
import { isLoopback } from "../keys/scopes.ts";
import { developmentPrincipal, type KeyVerifier, type Principal } from "./verifier.ts";

/** The hint logged for a development-mode request to an admin path, which needs no key. */
export const LOOPBACK_HINT = "(loopback)";

/** What {@linkcode admitAdmin} needs to know of a request. */
export interface AdminRequest {
  /** The gateway's authentication mode. */
  readonly mode: KeyVerifier["mode"];
  /** The TCP peer's address (never `X-Forwarded-For`). */
  readonly peer: string | undefined;
  /** The usual authentication: the request's key, or a thrown 401. */
  readonly authenticate: () => Principal;
}

/**
 * Admits a request to an admin path, or throws 403 `endpoint_not_allowed`. In development mode
 * a loopback peer needs no key and acts as the development principal (hint
 * {@linkcode LOOPBACK_HINT}); any other peer is refused. With a key list the request is
 * authenticated as usual (401s), then only an admin key passes.
 *
 * @example Usage
 * ```ts
 * import { admitAdmin } from "./admin_access.ts";
 * const principal = admitAdmin("/metrics", {
 *   mode: "development",
 *   peer: "127.0.0.1",
 *   authenticate: () => {
 *     throw new Error("no key needed on loopback");
 *   },
 * });
 * principal.id; // "dev"
 * ```
 */
export function admitAdmin(path: string, request: AdminRequest): Principal {
  let message: string;
  if (request.mode === "development") {
    if (isLoopback(request.peer)) return developmentPrincipal(LOOPBACK_HINT);
    message = `${path} is open on loopback only in development mode; from elsewhere, serve ` +
      "with a key list (CHOREOAI_KEYS_FILE) and call it with an admin key";
  } else {
    const principal = request.authenticate();
    if (principal.admin) return principal;
    message = `Only admin keys may call ${path}`;
  }
  throw new GatewayError(message, {
    status: 403,
    type: "permission_error",
    code: "endpoint_not_allowed",
  });
}
