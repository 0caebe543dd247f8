/**
 * Rate limits shared by several replicas through Redis.
 *
 * Each `take` is one atomic check-and-take: a Lua script that refills and tests both of the key's
 * buckets and takes the cost from both or from neither, with the arithmetic of `bucket.ts`. At
 * most 64 calls are sent at once and the others wait their turn (`_call_gate.ts`).
 *
 * A call the in-process fallback limiter answers is a call the other replicas never see, so a
 * call waits as long as Redis keeps answering, however busy this process is. Only a Redis that
 * is down, unreachable, or silent for `timeoutMs` while this process was free to hear it (see
 * `_call_gate.ts`) is left for the fallback. Limits then hold per replica, never vanish, and the
 * client never sees an error; the limiter reports "degraded", warns at most once a minute, and
 * node-redis keeps reconnecting in the background. Once Redis answers again, so does the limiter.
 *
 * The fallback mirrors every answer from Redis: it goes on from the shared buckets as this
 * replica last saw them, not from full ones, so that losing Redis does not hand each replica a
 * whole new allowance. Redis in turn does not learn what the fallback admitted meanwhile.
 */
import { createHash } from "node:crypto";
import { createClient } from "redis";
import { describeError, type LogFields, type Logger } from "../log.ts";
import { BUSY, createCallGate, TIMED_OUT } from "./_call_gate.ts";
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
const SCRIPT = `
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
`;

const SCRIPT_SHA1 = createHash("sha1").update(SCRIPT).digest("hex");

/** Where a key's buckets live in Redis. */
export const REDIS_KEY_PREFIX = "choreoai:limits:";

/** Default of {@linkcode RedisLimiterOptions.timeoutMs}. */
export const REDIS_TIMEOUT_MS = 200;

/** After a failed or slow call, how long calls go straight to the fallback (unless reconnected). */
const COOLDOWN_MS = 1_000;

/** Calls sent to Redis at once; more wait their turn (see `_call_gate.ts`). */
const MAX_IN_FLIGHT = 64;

/** Calls that may wait for a turn; past this, a call is answered by the fallback. */
const MAX_QUEUED = 10_000;

/** At most one warning per this many ms. */
const WARN_INTERVAL_MS = 60_000;

/** Options of {@linkcode createRedisLimiter}. */
export interface RedisLimiterOptions {
  /** `redis://` or `rediss://` URL. */
  readonly url: string;
  /** The clock, in ms (fractions are dropped); shared by every replica through the script. */
  readonly now: () => number;
  readonly log: Logger;
  /**
   * Answers every call Redis cannot answer, and mirrors Redis's answers meanwhile (see the
   * module documentation): an in-process limiter of its own ({@linkcode createMemoryLimiter}).
   */
  readonly fallback: MemoryLimiter;
  /**
   * How long Redis may stay silent, while this process is free to hear it, before the fallback
   * answers the calls waiting for it (default 200 ms). Time this process spends busy does not
   * count, nor does a call's wait for its turn: a Redis that keeps answering is never left.
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

function isScriptMissing(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

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

/** The script's reply: admitted (0 or 1), then the units available in each bucket before. */
function parseReply(reply: unknown): readonly [number, number, number] {
  if (Array.isArray(reply) && reply.length === 3) {
    const [admitted, requests, tokens] = reply as unknown[];
    if (
      typeof admitted === "number" && typeof requests === "number" && typeof tokens === "number"
    ) {
      return [admitted, requests, tokens];
    }
  }
  throw new TypeError(`Cannot read rate limit script reply: ${JSON.stringify(reply)}`);
}

/**
 * Creates a limiter shared through Redis. It connects in the background and answers from the
 * fallback until connected; `close()` quits the client (the fallback stays the caller's).
 *
 * `take` and `adjust` never throw for Redis's sake; they reject with a `RangeError` only for a
 * limit or amount that is not an integer (a caller's bug, as with the in-process limiter).
 */
export function createRedisLimiter(options: RedisLimiterOptions): RateLimiter {
  const { log, fallback, now } = options;
  const timeoutMs = options.timeoutMs ?? REDIS_TIMEOUT_MS;
  const gate = createCallGate({ timeoutMs, maxInFlight: MAX_IN_FLIGHT, maxQueued: MAX_QUEUED });
  let closed = false;
  let cooldown: ReturnType<typeof setTimeout> | undefined;
  let lastWarnAt: number | undefined;
  let warnedSinceReady = false;

  const client = createClient({
    url: options.url,
    // Refuse commands at once while disconnected (the fallback answers them) instead of
    // queueing them for later; bound the queue in case Redis stops answering on a live socket.
    disableOfflineQueue: true,
    commandsQueueMaxLength: 10_000,
    socket: {
      connectTimeout: 1_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000),
    },
  });

  /** Logs that Redis is unavailable, at most once per {@linkcode WARN_INTERVAL_MS}. */
  function warn(reason: string, error?: unknown): void {
    const time = now();
    if (lastWarnAt !== undefined && time - lastWarnAt < WARN_INTERVAL_MS) return;
    lastWarnAt = time;
    warnedSinceReady = true;
    const fields: LogFields = error === undefined
      ? { reason }
      : { reason, ...describeError(error) };
    log.warn("Redis unavailable: rate limits are per replica until it answers again", fields);
  }

  /** Sends calls to the fallback for a while after one failed, instead of waiting on each. */
  function trip(reason: string, error?: unknown): void {
    warn(reason, error);
    gate.abort();
    if (closed) return;
    clearTimeout(cooldown);
    cooldown = setTimeout(() => cooldown = undefined, COOLDOWN_MS);
    Deno.unrefTimer(cooldown);
  }

  client.on("error", (error: unknown) => warn("connection error", error));
  client.on("ready", () => {
    clearTimeout(cooldown);
    cooldown = undefined;
    // Load the script first thing, so that a burst just after (re)connecting does not pay for
    // NOSCRIPT and a second round trip on every call. Replies come in order: it is there in time.
    client.scriptLoad(SCRIPT).catch(() => {});
    if (warnedSinceReady) log.info("Redis reachable again: rate limits are shared");
    warnedSinceReady = false;
  });
  client.connect().catch((error: unknown) => {
    if (!closed) warn("cannot connect", error);
  });

  async function run(keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(SCRIPT_SHA1, { keys, arguments: args });
    } catch (error) {
      // A flushed (or restarted) Redis has lost the script: EVAL loads it again.
      if (!isScriptMissing(error)) throw error;
      return await client.eval(SCRIPT, { keys, arguments: args });
    }
  }

  /** Runs the script through the gate; undefined when Redis cannot answer (in time). */
  async function evaluate(keyId: string, args: string[]) {
    if (closed || cooldown !== undefined || !client.isReady) return undefined;
    try {
      const reply = await gate.run(() => run([REDIS_KEY_PREFIX + keyId], args));
      if (reply === TIMED_OUT) {
        trip(`no answer: Redis silent for ${timeoutMs} ms while this process was free`);
        return undefined;
      }
      if (reply === BUSY) {
        warn(`more than ${MAX_QUEUED} calls waiting for Redis`);
        return undefined;
      }
      return parseReply(reply);
    } catch (error) {
      trip("command failed", error);
      return undefined;
    }
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
      return !closed && cooldown === undefined && client.isReady ? "ok" : "degraded";
    },

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(cooldown);
      cooldown = undefined;
      // A graceful close waits for pending replies; a Redis that stopped answering gets
      // `timeoutMs` for them, then the socket is destroyed. Calls still waiting for a turn
      // are answered by the fallback.
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        if (!client.isReady) {
          if (client.isOpen) client.destroy();
          return;
        }
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(resolve, timeoutMs, "late");
        });
        const closing = client.close();
        closing.catch(() => {});
        if (await Promise.race([closing, late]) === "late") client.destroy();
      } catch {
        if (client.isOpen) client.destroy();
      } finally {
        clearTimeout(timer);
        gate.abort();
      }
    },
  };
}
