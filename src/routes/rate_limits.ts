/**
 * Per-key rate limits around a request: once the prompt is known, one check-and-take of the
 * request and its token reservation (estimate + max completion); a request that fails before
 * that still counts; the reservation is reconciled with the provider's usage when it ends.
 * OpenAI's `x-ratelimit-*` headers on every answer to a limited key; a 429 with `Retry-After`
 * when a limit is reached, and a 429 with `x-should-retry: false` (no `Retry-After`) for a
 * reservation larger than the key's whole token limit, which no wait can make fit. ChoreoAI
 * never retries its own 429s.
 */
import type { Principal } from "../auth/verifier.ts";
import type { Config } from "../config.ts";
import { GatewayError } from "../errors.ts";
import type { Decision, LimitSpec, LimitView, RateLimiter } from "../limits/limiter.ts";

/** Completion tokens reserved when a request sets no `max_tokens`. */
export const DEFAULT_COMPLETION_RESERVE = 1_024;

/** The limits of one request in flight. */
export interface RequestLimits {
  readonly keyId: string;
  readonly spec: LimitSpec;
  /** The latest decision, whose numbers go into the response headers. */
  decision: Decision | undefined;
  /** Tokens taken for this request so far (reconciled at the end). */
  reservedTokens: number;
  /** Whether the limiter has ruled on this request (admitted, refused, or counted as failed). */
  decided: boolean;
}

/** The key's own limits, or the gateway's defaults; null when neither limits anything. */
export function limitsFor(principal: Principal, config: Config): RequestLimits | undefined {
  const rpm = principal.limits.rpm ?? config.defaultRpm ?? null;
  const tpm = principal.limits.tpm ?? config.defaultTpm ?? null;
  if (rpm === null && tpm === null) return undefined;
  return {
    keyId: principal.id,
    spec: { rpm, tpm },
    decision: undefined,
    reservedTokens: 0,
    decided: false,
  };
}

/** Formats a duration as OpenAI's reset headers do: `20ms`, `7s`, `6m0s`. */
export function formatReset(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1_000) return `${Math.ceil(ms)}ms`;
  const seconds = Math.ceil(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

function viewHeaders(kind: "requests" | "tokens", view: LimitView | undefined) {
  if (view === undefined) return {};
  return {
    [`x-ratelimit-limit-${kind}`]: String(view.limit),
    [`x-ratelimit-remaining-${kind}`]: String(view.remaining),
    [`x-ratelimit-reset-${kind}`]: formatReset(view.resetMs),
  };
}

/** Sets OpenAI's rate-limit headers of a decision on an answer (only the limited dimensions). */
export function setRateLimitHeaders(headers: Headers, decision: Decision): void {
  const { requests, tokens } = decision;
  if (requests !== undefined) {
    headers.set("x-ratelimit-limit-requests", String(requests.limit));
    headers.set("x-ratelimit-remaining-requests", String(requests.remaining));
    headers.set("x-ratelimit-reset-requests", formatReset(requests.resetMs));
  }
  if (tokens !== undefined) {
    headers.set("x-ratelimit-limit-tokens", String(tokens.limit));
    headers.set("x-ratelimit-remaining-tokens", String(tokens.remaining));
    headers.set("x-ratelimit-reset-tokens", formatReset(tokens.resetMs));
  }
}

/** OpenAI's six rate-limit headers for a decision (only the limited dimensions). */
export function rateLimitHeaders(decision: Decision): Record<string, string> {
  return {
    ...viewHeaders("requests", decision.requests),
    ...viewHeaders("tokens", decision.tokens),
  };
}

function refusal(limits: RequestLimits, decision: Decision, requested: number): GatewayError {
  const kind = decision.refusedBy ?? "requests";
  const view = kind === "requests" ? decision.requests : decision.tokens;
  const limit = view?.limit ?? 0;
  const label = kind === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)";
  const retryAfterS = Math.max(1, Math.ceil(decision.retryAfterMs / 1_000));
  const message = `Rate limit reached for key ${limits.keyId} on ${label}: Limit ${limit}, ` +
    `Used ${limit - (view?.remaining ?? 0)}, Requested ${requested}. ` +
    `Please try again in ${formatReset(decision.retryAfterMs)}.`;
  return new GatewayError(message, {
    status: 429,
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(retryAfterS), ...rateLimitHeaders(decision) },
  });
}

/** What a request reserves from a token limit: its estimated input and its completion budget. */
export interface TokenReservation {
  /** Estimated tokens of the prompt (chat) or of the input (embeddings). */
  readonly prompt: number;
  /** The completion budget of a chat request; undefined for embeddings, which have none. */
  readonly completion: CompletionBudget | undefined;
}

/** A chat request's completion budget: `perChoice` tokens for each of its `choices` (`n`). */
export interface CompletionBudget {
  readonly perChoice: number;
  readonly choices: number;
  /** The field that set `perChoice`; undefined when neither did (the default reserve). */
  readonly setBy: "max_completion_tokens" | "max_tokens" | "max_output_tokens" | undefined;
  /** The field a client sets to change the budget when `setBy` is undefined; default `max_tokens`. */
  readonly field?: "max_output_tokens" | undefined;
}

/** The tokens a reservation takes: the prompt plus every choice's completion budget. */
export function reservedTokens(reservation: TokenReservation): number {
  const { prompt, completion } = reservation;
  return prompt + (completion === undefined ? 0 : completion.perChoice * completion.choices);
}

function describeReservation({ prompt, completion }: TokenReservation): string {
  if (completion === undefined) return `about ${prompt} input tokens`;
  const { perChoice, choices, setBy } = completion;
  const budget = choices === 1 ? `${perChoice}` : `${choices} × ${perChoice}`;
  const source = setBy === undefined
    ? `reserved by default when ${completion.field ?? "max_tokens"} is not set`
    : `for ${setBy}${choices === 1 ? "" : ` with n = ${choices}`}`;
  return `about ${prompt} prompt tokens + ${budget} ${source}`;
}

function whatToDo({ prompt, completion }: TokenReservation, tpm: number): string {
  if (completion === undefined) {
    return "the input alone is over the limit: shorten it (or split it across requests), or " +
      "give the key a higher tpm.";
  }
  const room = Math.floor((tpm - prompt) / completion.choices);
  if (room < 1) {
    return "the prompt alone leaves no room for a completion: shorten the prompt, or give the " +
      "key a higher tpm.";
  }
  const field = completion.setBy ?? completion.field ?? "max_tokens";
  const verb = completion.setBy === undefined ? "set" : "lower";
  return `${verb} ${field} to at most ${room}, shorten the prompt, or give the key a higher tpm.`;
}

/**
 * The refusal of a reservation larger than the key's whole token limit, or undefined when it
 * fits. No wait can make such a request fit, so the 429 carries `x-should-retry: false` and no
 * `Retry-After`: OpenAI's SDKs and ChoreoAI's clients then do not retry it.
 *
 * @example A 5,000-token `max_tokens` under a 2,000 tpm key
 * ```ts
 * const error = neverFits("key_1", 2_000, {
 *   prompt: 10,
 *   completion: { perChoice: 5_000, choices: 1, setBy: "max_tokens" },
 * });
 * error?.headers["x-should-retry"]; // "false"
 * ```
 */
export function neverFits(
  keyId: string,
  tpm: number,
  reservation: TokenReservation,
): GatewayError | undefined {
  const requested = reservedTokens(reservation);
  if (requested <= tpm) return undefined;
  const message = `Request too large for key ${keyId} on tokens per min (TPM): Limit ${tpm}, ` +
    `Requested ${requested} (${describeReservation(reservation)}). It can never fit, so ` +
    `retrying will not help: ${whatToDo(reservation, tpm)}`;
  return new GatewayError(message, {
    status: 429,
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    headers: { "x-should-retry": "false" },
  });
}

/**
 * Admits one request with its token reservation in one check-and-take: both or neither. The
 * reservation is estimated only under a token limit. One larger than the key's whole token
 * limit is refused before the limiter is asked to take it, the same way in process and through
 * Redis: it counts once as a request, like any other that fails, and takes no tokens.
 *
 * @throws {GatewayError} 429 when either limit is reached, or when the reservation never fits.
 */
export async function admit(
  limiter: RateLimiter,
  limits: RequestLimits,
  reservation: () => TokenReservation,
): Promise<void> {
  const { tpm } = limits.spec;
  let reserve = 0;
  if (tpm !== null) {
    const wanted = reservation();
    const tooLarge = neverFits(limits.keyId, tpm, wanted);
    if (tooLarge !== undefined) {
      await countRejected(limiter, limits);
      throw tooLarge;
    }
    reserve = reservedTokens(wanted);
  }
  const decision = await limiter.take(limits.keyId, limits.spec, { requests: 1, tokens: reserve });
  limits.decision = decision;
  // Decided either way: the limiter's own refusals are not counted again as failures. With
  // rpm ≥ 1 and the reservation checked above, a refusal here is one a wait resolves.
  limits.decided = true;
  if (!decision.allowed) {
    throw refusal(limits, decision, decision.refusedBy === "tokens" ? reserve : 1);
  }
  limits.reservedTokens = reserve;
}

/**
 * Counts a request that failed before it could be admitted (a bad body, an unknown model): it
 * counts whatever its outcome, even past the limit, and its answer still carries the headers.
 */
export async function countRejected(limiter: RateLimiter, limits: RequestLimits): Promise<void> {
  if (limits.decided) return;
  limits.decided = true;
  const decision = await limiter.take(limits.keyId, limits.spec, { requests: 1, tokens: 0 });
  if (!decision.allowed) {
    await limiter.adjust(limits.keyId, limits.spec, { requests: -1, tokens: 0 });
  }
  limits.decision = decision;
}

/**
 * Settles the reservation with the tokens really used: unused tokens go back, extra ones are
 * charged. `used` is undefined when nobody knows (a stream cut midway): the reservation stands.
 */
export function reconcileTokens(
  limiter: RateLimiter,
  limits: RequestLimits,
  used: number | undefined,
): Promise<void> {
  if (limits.reservedTokens === 0 && used === undefined) return Promise.resolve();
  const delta = limits.reservedTokens - (used ?? limits.reservedTokens);
  if (delta === 0) return Promise.resolve();
  return limiter.adjust(limits.keyId, limits.spec, { requests: 0, tokens: delta });
}

/** The limiter of a gateway without limits: nothing is ever refused. */
export const NO_LIMITS: RateLimiter = {
  take: () =>
    Promise.resolve({
      allowed: true,
      requests: undefined,
      tokens: undefined,
      retryAfterMs: 0,
      refusedBy: undefined,
      impossible: false,
    }),
  adjust: () => Promise.resolve(),
  status: () => "ok",
  close: () => Promise.resolve(),
};
