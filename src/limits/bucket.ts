/**
 * Continuous token buckets: the pure arithmetic behind every limiter.
 *
 * A limit of L per minute is a bucket holding at most L, refilled continuously at L per
 * 60,000 ms. A cost is admitted when it fits in what the bucket holds now. Nothing is tied to
 * clock minutes, so at 100 rpm, 100 requests just before a minute boundary empty the bucket and
 * the 100 just after wait for the refill (one every 600 ms): never 200 in that second.
 *
 * Levels are counted in units of 1/60,000 token, so a limit of L refills exactly L units per ms
 * and, with whole-ms times, every number is an integer: exact in doubles below 2^53, that is for
 * limits up to about 1.5e11 per minute. The Redis script in `redis.ts` does the same arithmetic
 * in Lua, on the same integers.
 */
import type { Decision, LimitSpec, LimitView } from "./limiter.ts";

/** Units per token (or request): one minute in ms, so a limit of L refills L units per ms. */
export const UNITS_PER_TOKEN = 60_000;

/** One bucket: it held `level` units (negative after a charge) at time `at` (ms). */
export interface BucketState {
  readonly level: number;
  readonly at: number;
}

/** A key's two buckets; undefined when the dimension is unlimited or the bucket was never used. */
export interface BucketPair {
  readonly requests: BucketState | undefined;
  readonly tokens: BucketState | undefined;
}

/** A cost or a correction, in each dimension. */
export interface Amounts {
  readonly requests: number;
  readonly tokens: number;
}

/** One dimension of a key's limits. */
export type Dimension = "requests" | "tokens";

/** Available units in each limited dimension (undefined where unlimited). */
export interface Available {
  readonly requests: number | undefined;
  readonly tokens: number | undefined;
}

/** The result of {@linkcode takeFromBuckets}. */
export interface TakeResult {
  readonly decision: Decision;
  /** The buckets to store (unchanged when refused). */
  readonly buckets: BucketPair;
}

const DIMENSIONS: readonly Dimension[] = ["requests", "tokens"];

const NO_BUCKETS: BucketPair = { requests: undefined, tokens: undefined };

function limitOf(spec: LimitSpec, dimension: Dimension): number | null {
  return dimension === "requests" ? spec.rpm : spec.tpm;
}

/** Whole ms until `missing` units have refilled at `limit` units per ms (0 if none are missing). */
function msToRefill(limit: number, missing: number): number {
  return limit === 0 || missing <= 0 ? 0 : Math.ceil(missing / limit);
}

/** @throws {RangeError} unless each limit is null or a non-negative safe integer. */
export function checkLimitSpec(spec: LimitSpec, action: string): void {
  for (const dimension of DIMENSIONS) {
    const limit = limitOf(spec, dimension);
    if (limit !== null && !(Number.isSafeInteger(limit) && limit >= 0)) {
      throw new RangeError(
        `Cannot ${action}: the ${dimension} limit must be null or a non-negative integer, got ${limit}`,
      );
    }
  }
}

/** @throws {RangeError} unless each amount is a safe integer (non-negative unless `signed`). */
export function checkAmounts(
  amounts: Amounts,
  options: { readonly action: string; readonly signed: boolean },
): void {
  const { action, signed } = options;
  for (const dimension of DIMENSIONS) {
    const value = amounts[dimension];
    if (!Number.isSafeInteger(value) || (!signed && value < 0)) {
      const kind = signed ? "an integer" : "a non-negative integer";
      throw new RangeError(`Cannot ${action}: ${dimension} must be ${kind}, got ${value}`);
    }
  }
}

function checkNow(now: number, action: string): number {
  if (!Number.isFinite(now)) {
    throw new RangeError(`Cannot ${action}: now must be finite, got ${now}`);
  }
  return Math.floor(now);
}

/**
 * Units a bucket holds at `now`: its level plus the refill since `at`, at most its capacity. A
 * clock that went backwards refills nothing. No state means a bucket never used: full.
 */
export function availableUnits(
  state: BucketState | undefined,
  limit: number,
  now: number,
): number {
  const capacity = limit * UNITS_PER_TOKEN;
  if (state === undefined) return capacity;
  return Math.min(capacity, state.level + Math.max(0, now - state.at) * limit);
}

function viewOf(limit: number, units: number): LimitView {
  return {
    limit,
    remaining: Math.max(0, Math.floor(units / UNITS_PER_TOKEN)),
    resetMs: msToRefill(limit, limit * UNITS_PER_TOKEN - units),
  };
}

/**
 * Decides a cost against the units available in each limited dimension: admitted when it fits in
 * every one (a dimension whose cost is 0 always fits). When refused, a cost above a limit wins
 * (`impossible`: it can never fit, and `retryAfterMs` is then the time until that bucket is
 * full); otherwise the dimension with the longest wait refuses, and `retryAfterMs` is that wait.
 * The views show the buckets after the take, or untouched when refused.
 */
export function decideFromAvailable(
  available: Available,
  spec: LimitSpec,
  cost: Amounts,
): Decision {
  let refusedBy: Dimension | undefined;
  let impossible = false;
  let retryAfterMs = 0;
  for (const dimension of DIMENSIONS) {
    const limit = limitOf(spec, dimension);
    if (limit === null) continue;
    const units = available[dimension] ?? limit * UNITS_PER_TOKEN;
    const needed = cost[dimension] * UNITS_PER_TOKEN;
    if (cost[dimension] === 0 || units >= needed) continue;
    const never = cost[dimension] > limit;
    const wait = Math.max(
      1,
      never
        ? msToRefill(limit, limit * UNITS_PER_TOKEN - units)
        : msToRefill(limit, needed - units),
    );
    const wins = refusedBy === undefined || (never && !impossible) ||
      (never === impossible && wait > retryAfterMs);
    if (wins) {
      refusedBy = dimension;
      impossible = never;
      retryAfterMs = wait;
    }
  }
  const allowed = refusedBy === undefined;
  const views = DIMENSIONS.map((dimension) => {
    const limit = limitOf(spec, dimension);
    if (limit === null) return undefined;
    const units = available[dimension] ?? limit * UNITS_PER_TOKEN;
    return viewOf(limit, allowed ? units - cost[dimension] * UNITS_PER_TOKEN : units);
  });
  return { allowed, requests: views[0], tokens: views[1], retryAfterMs, refusedBy, impossible };
}

/**
 * Takes `cost` from both buckets or from neither.
 *
 * @param buckets The key's stored buckets (undefined: never used, full).
 * @param options `now` in ms (fractions are dropped), the key's limits and the cost.
 * @returns The decision and the buckets to store.
 * @throws {RangeError} A limit, cost or clock that is not a valid number (a caller's bug).
 *
 * @example At 100 rpm the 101st request of a burst waits 600 ms
 * ```ts
 * const spec = { rpm: 100, tpm: null };
 * let buckets = undefined;
 * for (let i = 0; i < 100; i++) {
 *   buckets = takeFromBuckets(buckets, { now: 0, spec, cost: { requests: 1, tokens: 0 } }).buckets;
 * }
 * takeFromBuckets(buckets, { now: 0, spec, cost: { requests: 1, tokens: 0 } }).decision.retryAfterMs; // 600
 * ```
 */
export function takeFromBuckets(
  buckets: BucketPair | undefined,
  options: { readonly now: number; readonly spec: LimitSpec; readonly cost: Amounts },
): TakeResult {
  const { spec, cost } = options;
  checkLimitSpec(spec, "take from rate limit buckets");
  checkAmounts(cost, { action: "take from rate limit buckets", signed: false });
  const now = checkNow(options.now, "take from rate limit buckets");
  const stored = buckets ?? NO_BUCKETS;
  const available = {
    requests: spec.rpm === null ? undefined : availableUnits(stored.requests, spec.rpm, now),
    tokens: spec.tpm === null ? undefined : availableUnits(stored.tokens, spec.tpm, now),
  };
  const decision = decideFromAvailable(available, spec, cost);
  if (!decision.allowed) {
    return {
      decision,
      buckets: {
        requests: spec.rpm === null ? undefined : stored.requests,
        tokens: spec.tpm === null ? undefined : stored.tokens,
      },
    };
  }
  const after = (dimension: Dimension): BucketState | undefined => {
    const units = available[dimension];
    if (units === undefined) return undefined;
    const at = Math.max(stored[dimension]?.at ?? now, now);
    return { level: units - cost[dimension] * UNITS_PER_TOKEN, at };
  };
  return { decision, buckets: { requests: after("requests"), tokens: after("tokens") } };
}

/**
 * Reconciles after the fact: a positive delta gives units back (never above the capacity), a
 * negative one charges more, and the bucket may go below zero so that later costs wait for it.
 *
 * @throws {RangeError} A limit, delta or clock that is not a valid number (a caller's bug).
 */
export function adjustBuckets(
  buckets: BucketPair | undefined,
  options: { readonly now: number; readonly spec: LimitSpec; readonly delta: Amounts },
): BucketPair {
  const { spec, delta } = options;
  checkLimitSpec(spec, "adjust rate limit buckets");
  checkAmounts(delta, { action: "adjust rate limit buckets", signed: true });
  const now = checkNow(options.now, "adjust rate limit buckets");
  const stored = buckets ?? NO_BUCKETS;
  const after = (dimension: Dimension): BucketState | undefined => {
    const limit = limitOf(spec, dimension);
    const state = stored[dimension];
    if (limit === null) return undefined;
    if (delta[dimension] === 0) return state;
    const units = availableUnits(state, limit, now) + delta[dimension] * UNITS_PER_TOKEN;
    return {
      level: Math.min(limit * UNITS_PER_TOKEN, units),
      at: Math.max(state?.at ?? now, now),
    };
  };
  return { requests: after("requests"), tokens: after("tokens") };
}

/**
 * The time (ms) at which every limited bucket of the pair is full again; from then on, forgetting
 * the pair changes no decision. `-Infinity` when nothing is stored.
 */
export function fullAt(buckets: BucketPair, spec: LimitSpec): number {
  let time = -Infinity;
  for (const dimension of DIMENSIONS) {
    const limit = limitOf(spec, dimension);
    const state = buckets[dimension];
    if (limit === null || state === undefined) continue;
    time = Math.max(time, state.at + msToRefill(limit, limit * UNITS_PER_TOKEN - state.level));
  }
  return time;
}
