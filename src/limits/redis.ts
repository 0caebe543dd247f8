/**
 * Rate limits shared by several replicas through Redis.
 *
 * Each `take` is one atomic check-and-take: a Lua script that refills and tests both of the key's
 * buckets and takes the cost from both or from neither, with the arithmetic of `bucket.ts`. The
 * script runs through a {@linkcode RedisLink} (`../redis/link.ts`), which may be shared with
 * budgets: at most 64 calls in flight, and the others wait their turn.
 *
 * A call the in-process fallback limiter answers is a call the other replicas never see, so a
 * call waits as long as Redis keeps answering, however busy this process is. Only a Redis that
 * is down, unreachable, or silent for `timeoutMs` while this process was free to hear it is left
 * for the fallback. Limits then hold per replica, never vanish, and the client never sees an
 * error; the limiter reports "degraded", the link warns at most once a minute, and node-redis
 * keeps reconnecting in the background. Once Redis answers again, so does the limiter.
 *
 * The fallback mirrors every answer from Redis: it goes on from the shared buckets as this
 * replica last saw them, not from full ones, so that losing Redis does not hand each replica a
 * whole new allowance. Redis in turn does not learn what the fallback admitted meanwhile.
 */
import type { Logger } from "../log.ts";
import { createRedisLink, luaScript, REDIS_TIMEOUT_MS, type RedisLink } from "../redis/link.ts";
import {
  adjustBuckets,
  type BucketPair,
  checkAmounts,
  checkLimitSpec,
  takeFromBuckets,
  UNITS_PER_TOKEN,
} from "./bucket.ts";
import type { Decision, LimitSpec, MemoryLimiter, RateLimiter } from "./limiter.ts";

/**
 * The buckets of one key live in one hash, `{rl, ra, tl, ta}`: level (units) and time (ms) of the
 * requests and the tokens bucket. Levels use bucket.ts's units (1 token = 60,000 units, so a limit
 * of L refills L units per ms) and every number is an integer, which Lua's doubles hold exactly.
 *
 * The time is the caller's `now`, passed in ARGV, rather than Redis `TIME`: the replicas and their
 * in-process fallback then run on the one injected clock (tests freeze it and get exact counts),
 * and the script is the same function of its inputs as `takeFromBuckets`. Replica clocks are
 * assumed NTP-synchronised; a skew costs little because a bucket's time never moves backwards:
 * a replica that lags sees no refill until its clock catches up, one that leads gains its lead
 * at most once.
 *
 * The hash expires when every bucket would be full again (plus a second of slack for skew):
 * forgetting a full bucket changes nothing, and Redis memory stays bounded by the active keys.
 */
const SCRIPT = luaScript(`
local U = ${UNITS_PER_TOKEN}
local take = ARGV[1] == 'take'
local now = tonumber(ARGV[2])
local limits = { tonumber(ARGV[3]), tonumber(ARGV[4]) }
local amounts = { tonumber(ARGV[5]), tonumber(ARGV[6]) }
local names = { { 'rl', 'ra' }, { 'tl', 'ta' } }
local stored = redis.call('HMGET', KEYS[1], 'rl', 'ra', 'tl', 'ta')
local available = { 0, 0 }
local at = { now, now }
for i = 1, 2 do
  local limit = limits[i]
  if limit >= 0 then
    local level = tonumber(stored[2 * i - 1])
    local last = tonumber(stored[2 * i])
    if level == nil or last == nil then
      available[i] = limit * U
    else
      available[i] = math.min(limit * U, level + math.max(0, now - last) * limit)
      at[i] = math.max(last, now)
    end
  end
end
if take then
  for i = 1, 2 do
    if limits[i] >= 0 and amounts[i] > 0 and available[i] < amounts[i] * U then
      return { 0, available[1], available[2] }
    end
  end
end
local fields = {}
local ttl = 0
for i = 1, 2 do
  local limit = limits[i]
  if limit >= 0 then
    local level
    if take then
      level = available[i] - amounts[i] * U
    else
      level = math.min(limit * U, available[i] + amounts[i] * U)
    end
    table.insert(fields, names[i][1])
    table.insert(fields, string.format('%.0f', level))
    table.insert(fields, names[i][2])
    table.insert(fields, string.format('%.0f', at[i]))
    if limit > 0 then
      ttl = math.max(ttl, at[i] - now + math.ceil((limit * U - level) / limit))
    end
  end
end
if #fields > 0 then
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], ttl + 1000)
end
return { 1, available[1], available[2] }
`);

/** Where a key's buckets live in Redis. */
export const REDIS_KEY_PREFIX = "choreoai:limits:";

/** Default of {@linkcode RedisLimiterOptions.timeoutMs}. */
export { REDIS_TIMEOUT_MS };

/** Options of {@linkcode createRedisLimiter}. */
export interface RedisLimiterOptions {
  /**
   * `redis://` or `rediss://` URL, for a link of the limiter's own (closed with it); or `link`,
   * a link shared with budgets (closed by its owner).
   */
  readonly url?: string;
  readonly link?: RedisLink;
  /** The clock, in ms (fractions are dropped); shared by every replica through the script. */
  readonly now: () => number;
  readonly log: Logger;
  /**
   * Answers every call Redis cannot answer, and mirrors Redis's answers meanwhile (see the
   * module documentation): an in-process limiter of its own ({@linkcode createMemoryLimiter}).
   */
  readonly fallback: MemoryLimiter;
  /**
   * With `url`: how long Redis may stay silent, while this process is free to hear it, before
   * the fallback answers the calls waiting for it (default 200 ms). Time this process spends
   * busy does not count, nor does a call's wait for its turn: a Redis that keeps answering is
   * never left.
   */
  readonly timeoutMs?: number;
}

const UNLIMITED: Decision = {
  allowed: true,
  requests: undefined,
  tokens: undefined,
  retryAfterMs: 0,
  refusedBy: undefined,
  impossible: false,
};

/** The key's buckets as the script found them at `now` (units available in each). */
function sharedBuckets(
  spec: LimitSpec,
  reply: readonly [number, number, number],
  now: number,
): BucketPair {
  return {
    requests: spec.rpm === null ? undefined : { level: reply[1], at: now },
    tokens: spec.tpm === null ? undefined : { level: reply[2], at: now },
  };
}

/**
 * The script's reply: admitted (0 or 1), then the units available in each bucket before;
 * undefined for anything else (the fallback answers).
 */
function parseReply(reply: unknown): readonly [number, number, number] | undefined {
  if (!Array.isArray(reply) || reply.length !== 3) return undefined;
  const [admitted, requests, tokens] = reply as unknown[];
  if (typeof admitted !== "number" || typeof requests !== "number" || typeof tokens !== "number") {
    return undefined;
  }
  return [admitted, requests, tokens];
}

/**
 * Creates a limiter shared through Redis. Its link connects in the background and the fallback
 * answers until connected; `close()` closes the link it made (a shared link and the fallback
 * stay their owners').
 *
 * `take` and `adjust` never throw for Redis's sake; they reject with a `RangeError` only for a
 * limit or amount that is not an integer (a caller's bug, as with the in-process limiter).
 */
export function createRedisLimiter(options: RedisLimiterOptions): RateLimiter {
  const { log, fallback, now } = options;
  if (options.link === undefined && options.url === undefined) {
    throw new TypeError("Cannot create a Redis limiter: give it a url or a link");
  }
  const own = options.link === undefined;
  const link = options.link ?? createRedisLink({
    url: options.url ?? "",
    now,
    log,
    serves: "rate limits",
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  link.preload(SCRIPT);
  let closed = false;

  /** Runs the script; undefined when Redis cannot answer (in time). */
  async function evaluate(keyId: string, args: string[]) {
    if (closed) return undefined;
    return parseReply(await link.run(SCRIPT, [REDIS_KEY_PREFIX + keyId], args));
  }

  function limitArg(limit: number | null): string {
    return limit === null ? "-1" : String(limit);
  }

  return {
    async take(keyId, spec, cost) {
      checkLimitSpec(spec, "take from rate limit buckets");
      checkAmounts(cost, { action: "take from rate limit buckets", signed: false });
      if (spec.rpm === null && spec.tpm === null) return UNLIMITED;
      const time = Math.floor(now());
      const reply = await evaluate(keyId, [
        "take",
        String(time),
        limitArg(spec.rpm),
        limitArg(spec.tpm),
        String(cost.requests),
        String(cost.tokens),
      ]);
      if (reply === undefined) return await fallback.take(keyId, spec, cost);
      // The script's decision, with bucket.ts's arithmetic on what it found.
      const { decision, buckets } = takeFromBuckets(sharedBuckets(spec, reply, time), {
        now: time,
        spec,
        cost,
      });
      fallback.mirror(keyId, spec, { buckets, now: time });
      return decision;
    },

    async adjust(keyId, spec, delta) {
      checkLimitSpec(spec, "adjust rate limit buckets");
      checkAmounts(delta, { action: "adjust rate limit buckets", signed: true });
      const requests = spec.rpm === null ? 0 : delta.requests;
      const tokens = spec.tpm === null ? 0 : delta.tokens;
      if (requests === 0 && tokens === 0) return;
      const time = Math.floor(now());
      const reply = await evaluate(keyId, [
        "adjust",
        String(time),
        // Every limited bucket is passed, so that the key's expiry covers the untouched one too.
        limitArg(spec.rpm),
        limitArg(spec.tpm),
        String(requests),
        String(tokens),
      ]);
      if (reply === undefined) return await fallback.adjust(keyId, spec, delta);
      const buckets = adjustBuckets(sharedBuckets(spec, reply, time), { now: time, spec, delta });
      fallback.mirror(keyId, spec, { buckets, now: time });
    },

    status() {
      return closed ? "degraded" : link.status();
    },

    async close() {
      if (closed) return;
      closed = true;
      if (own) await link.close();
    },
  };
}
