/**
 * The key-verifier interface that every authentication mode plugs into, and development mode.
 *
 * A verifier turns a well-formed bearer token into the {@linkcode Principal} the request acts
 * as, or a 401. The production key list (hashed, expiring, scoped) implements the same interface.
 */
import type { GatewayError } from "../errors.ts";
import { keyHint } from "../keys/generate.ts";
import type { Budget, Spender } from "../spend/budget.ts";

/** Who a request acts as, and what it may do. */
export interface Principal {
  /** Stable key id for logs and usage (`dev` in development mode). */
  readonly id: string;
  /** A shortened, safe-to-log form of the key, such as `sk-choreo-AbC…9xYz`. */
  readonly hint: string;
  /** An admin key: it may call `/metrics` and `/admin` (never true in development mode). */
  readonly admin: boolean;
  /** Whether this key may use a model, by the name the client sent. */
  mayUseModel(model: string): boolean;
  /** Whether this key may call an endpoint path such as `/v1/chat/completions`. */
  mayUseEndpoint(path: string): boolean;
  /** The key's own rate limits (null: the gateway's defaults apply). */
  readonly limits: { readonly rpm: number | null; readonly tpm: number | null };
  /** The key's own budget (null: the gateway's default applies, if any). */
  readonly budget: Budget | null;
  /** Whose spend a budget counts: the key's rotation chain (`dev` alone in development mode). */
  readonly spender: Spender;
}

/** What verification may depend on besides the token. */
export interface VerifyContext {
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** The client's address (after trusted proxies), if known. */
  readonly ip: string | undefined;
}

/** Checks a well-formed bearer token. */
export interface KeyVerifier {
  /** `development` accepts any token; `keys` checks a key list. */
  readonly mode: "development" | "keys";
  verify(token: string, context: VerifyContext): Principal | GatewayError;
}

/**
 * The principal of development mode (id `dev`): every model and endpoint, not an admin key;
 * every request counts against one budget, the gateway's default (if any).
 */
export function developmentPrincipal(hint: string): Principal {
  return {
    id: "dev",
    hint,
    admin: false,
    mayUseModel: () => true,
    mayUseEndpoint: () => true,
    limits: { rpm: null, tpm: null },
    budget: null,
    spender: DEVELOPMENT_SPENDER,
  };
}

const DEVELOPMENT_SPENDER: Spender = Object.freeze({ id: "dev", keyIds: Object.freeze(["dev"]) });

/** Development mode: every well-formed token is accepted, with full access to the models. */
export function createDevelopmentVerifier(): KeyVerifier {
  return {
    mode: "development",
    verify(token: string): Principal {
      return developmentPrincipal(keyHint(token));
    },
  };
}
