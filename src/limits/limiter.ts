/**
 * The rate limiter the gateway uses, and its in-process implementation.
 *
 * A key's limits are two continuous token buckets (see `bucket.ts`): requests per minute and
 * tokens per minute. {@linkcode createMemoryLimiter} keeps them in a map for one process; the
 * Redis limiter (`redis.ts`) shares them between replicas and falls back to this one.
 */
import { adjustBuckets, type BucketPair, fullAt, takeFromBuckets } from "./bucket.ts";

/** A key's limits; `null` means unlimited in that dimension. */
export interface LimitSpec {
  readonly rpm: number | null;
  readonly tpm: number | null;
}

/** One limited dimension after a decision, for the `x-ratelimit-*` headers. */
export interface LimitView {
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
}

/** The answer to one {@linkcode RateLimiter.take}. */
export interface Decision {
  readonly allowed: boolean;
  /** Undefined when rpm is null. */
  readonly requests: LimitView | undefined;
  /** Undefined when tpm is null. */
  readonly tokens: LimitView | undefined;
  /** When refused: ms until the cost fits (≥ 1). */
  readonly retryAfterMs: number;
  /** When refused: which limit refused, and whether the cost can never fit. */
  readonly refusedBy: "requests" | "tokens" | undefined;
  readonly impossible: boolean;
}

/** Per-key limits, in process or shared. */
export interface RateLimiter {
  /** Takes the cost from the key's buckets: both dimensions or neither. */
  take(
    keyId: string,
    spec: LimitSpec,
    cost: { requests: number; tokens: number },
  ): Promise<Decision>;
  /** Gives back (positive) or charges (negative) requests/tokens after the fact; never refuses. */
  adjust(
    keyId: string,
    spec: LimitSpec,
    delta: { requests: number; tokens: number },
  ): Promise<void>;
  /** "ok", or "degraded" while a shared store (Redis) is unreachable and limits are per replica. */
  status(): "ok" | "degraded";
  close(): Promise<void>;
}

/** Options of {@linkcode createMemoryLimiter}. */
export interface MemoryLimiterOptions {
  /** The clock, in ms (fractions are dropped). */
  readonly now: () => number;
  /**
   * Most keys kept at once (default {@linkcode DEFAULT_MAX_KEYS}). Past it, the least recently
   * used key is forgotten even if its buckets are not full yet: that key may then be admitted
   * early, which only happens when more keys than this were active within about a minute.
   */
  readonly maxKeys?: number;
}

/** The in-process limiter; `size` is how many keys it holds (for tests and metrics). */
export interface MemoryLimiter extends RateLimiter {
  readonly size: number;
  /**
   * Sets a key's buckets to a shared store's (Redis's) as they were at `now`: where this
   * limiter goes on from, as the store's fallback, if the store goes away.
   */
  mirror(keyId: string, spec: LimitSpec, state: { buckets: BucketPair; now: number }): void;
}

/** Default of {@linkcode MemoryLimiterOptions.maxKeys}: at most about 30 MB (300 bytes a key). */
export const DEFAULT_MAX_KEYS = 100_000;

/** How many idle full entries one call may drop, so that no call pays for a long sweep. */
const SWEEP_BATCH = 32;

interface Entry {
  readonly buckets: BucketPair;
  /** When every bucket of the entry is full again: from then on, dropping it changes nothing. */
  readonly fullAt: number;
}

/**
 * Creates the in-process limiter.
 *
 * Memory stays bounded: the map is kept in least-recently-used order, each call drops the idle
 * entries at its front whose buckets are full again (an absent entry means full buckets, so
 * this changes no decision), an entry whose buckets are full is never stored, and the map never
 * holds more than `maxKeys` entries.
 *
 * @example Usage
 * ```ts
 * const limiter = createMemoryLimiter({ now: Date.now });
 * const decision = await limiter.take("key_1", { rpm: 60, tpm: null }, { requests: 1, tokens: 0 });
 * ```
 */
export function createMemoryLimiter(options: MemoryLimiterOptions): MemoryLimiter {
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(
      `Cannot create limiter: maxKeys must be a positive integer, got ${maxKeys}`,
    );
  }
  const entries = new Map<string, Entry>();

  /** Drops the idle entries at the front of the map whose buckets are full again. */
  function sweep(now: number): void {
    let dropped = 0;
    for (const [id, idle] of entries) {
      if (idle.fullAt > now || dropped === SWEEP_BATCH) break;
      entries.delete(id);
      dropped++;
    }
  }

  /** Stores the key's buckets as the most recently used entry, unless they are full. */
  function checkIn(
    keyId: string,
    { buckets, spec, now }: { buckets: BucketPair; spec: LimitSpec; now: number },
  ): void {
    entries.delete(keyId);
    sweep(now);
    const full = fullAt(buckets, spec);
    if (full <= now) return;
    entries.set(keyId, { buckets, fullAt: full });
    if (entries.size > maxKeys) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
  }

  return {
    get size() {
      return entries.size;
    },
    take(keyId, spec, cost) {
      try {
        const time = Math.floor(options.now());
        const result = takeFromBuckets(entries.get(keyId)?.buckets, { now: time, spec, cost });
        checkIn(keyId, { buckets: result.buckets, spec, now: time });
        return Promise.resolve(result.decision);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    adjust(keyId, spec, delta) {
      try {
        const time = Math.floor(options.now());
        const buckets = adjustBuckets(entries.get(keyId)?.buckets, { now: time, spec, delta });
        checkIn(keyId, { buckets, spec, now: time });
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    mirror(keyId, spec, { buckets, now }) {
      checkIn(keyId, { buckets, spec, now: Math.floor(now) });
    },
    status: () => "ok",
    close: () => Promise.resolve(),
  };
}
