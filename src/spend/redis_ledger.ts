/**
 * Budgets shared by several replicas through Redis (`CHOREOAI_REDIS_URL`, the link rate limits
 * use).
 *
 * Every reservation, settlement and reading is one atomic Lua script on the account's counter
 * for its period, `choreoai:budget:<account>:<period start>`: an integer of micro-USD, so that
 * reservations and settlements add up exactly. A counter that does not exist yet is started
 * from the usage database (the record): the script answers "missing", this replica reads the
 * account's recorded spend for the period and runs the script again with it as the seed, which
 * sets the counter only if no replica did meanwhile (SETNX-style, inside the script). Counters
 * of a day or a month expire an hour after the period ends ({@linkcode SETTLE_GRACE_MS}); a
 * total budget's never does.
 *
 * While Redis cannot answer, the in-process fallback ledger does (see `../redis/link.ts`):
 * budgets then hold per replica, from the shared counter as this replica last saw it (each
 * answer from Redis is mirrored), so each replica may spend at most what was left when it lost
 * Redis: with R replicas, the budget can be exceeded by up to (R - 1) times that. What the
 * fallback reserves and settles meanwhile is carried into the shared counter with the
 * account's next call once Redis answers again, so the shared counter does not forget it. A
 * call that timed out after Redis ran it is counted twice (the error errs towards refusing,
 * never towards spending). A counter Redis lost (flushed, restarted empty) starts again from
 * the usage database, without the carry: the database is the record.
 */
import { luaScript, type RedisLink } from "../redis/link.ts";
import type { BudgetAccount } from "./budget.ts";
import {
  type BudgetLedger,
  checkAmount,
  counterExpiry,
  type MemoryLedger,
  type RecordedSpend,
} from "./ledger.ts";
import type { MicroUsd } from "./pricing.ts";

/**
 * KEYS[1]: the counter. ARGV: the operation (`reserve`, `settle`, `peek`), the amount (a
 * settlement's may be negative), the limit, the carry (added to an existing counter first), the
 * seed (`''`: none) and the expiry (ms since the epoch, 0 for never).
 *
 * Replies `{status, spent}`: status 1 done (reserved, settled, read), 0 refused (`spent` as
 * found), -1 missing (nothing done: no counter, and no seed or a settlement). The refusal test
 * is `fits` of `budget.ts`: the budget is not used up, and the amount fits in what is left.
 */
const SCRIPT = luaScript(`
local op = ARGV[1]
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local carry = tonumber(ARGV[4])
local seed = ARGV[5]
local expires = tonumber(ARGV[6])
local spent = redis.call('GET', KEYS[1])
if spent then
  spent = tonumber(spent)
  if carry ~= 0 then
    spent = redis.call('INCRBY', KEYS[1], carry)
  end
elseif seed == '' or op == 'settle' then
  return { -1, 0 }
else
  spent = tonumber(seed)
  redis.call('SET', KEYS[1], seed)
  if expires > 0 then
    redis.call('PEXPIREAT', KEYS[1], expires)
  end
end
if op == 'reserve' then
  if spent >= limit or spent + amount > limit then
    return { 0, spent }
  end
end
if op ~= 'peek' and amount ~= 0 then
  spent = redis.call('INCRBY', KEYS[1], amount)
end
return { 1, spent }
`);

/** Where budget counters live in Redis. */
export const BUDGET_KEY_PREFIX = "choreoai:budget:";

/** An account's counter in its period. */
export function budgetKey(account: BudgetAccount): string {
  return `${BUDGET_KEY_PREFIX}${account.id}:${
    account.period === "total" ? "total" : account.start
  }`;
}

/** Options of {@linkcode createRedisLedger}. */
export interface RedisLedgerOptions {
  /** The link to Redis (shared with rate limits; closed by its owner). */
  readonly link: RedisLink;
  /**
   * Answers every call Redis cannot answer, and mirrors Redis's answers meanwhile: an
   * in-process ledger of its own (`createMemoryLedger`).
   */
  readonly fallback: MemoryLedger;
  /** Where a new counter starts: the usage database's record of the account's spend. */
  readonly recorded: RecordedSpend;
}

type Operation = "reserve" | "settle" | "peek";

interface Reply {
  readonly status: -1 | 0 | 1;
  readonly spent: MicroUsd;
}

const MISSING = -1;

/** The script's reply; undefined for anything else (the fallback answers). */
function parseReply(reply: unknown): Reply | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const [status, spent] = reply as unknown[];
  if ((status !== -1 && status !== 0 && status !== 1) || typeof spent !== "number") {
    return undefined;
  }
  return { status, spent };
}

/** Creates a ledger shared through Redis; `close()` leaves the link and the fallback alone. */
export function createRedisLedger(options: RedisLedgerOptions): BudgetLedger {
  const { link, fallback } = options;
  link.preload(SCRIPT);
  /** Recorded spends being read, per counter, so that a burst reads the database once. */
  const seeding = new Map<string, Promise<MicroUsd>>();

  function recordedSpend(account: BudgetAccount, key: string): Promise<MicroUsd> {
    let pending = seeding.get(key);
    if (pending === undefined) {
      pending = Promise.resolve()
        .then(() => options.recorded(account.keyIds, account.start))
        .finally(() => seeding.delete(key));
      seeding.set(key, pending);
    }
    return pending;
  }

  /** Runs the script on the account's counter, seeding it when missing; undefined: no answer. */
  async function call(op: Operation, account: BudgetAccount, amount: MicroUsd) {
    const key = budgetKey(account);
    const expiry = counterExpiry(account);
    const args = (carry: MicroUsd, seed: string) => [
      op,
      String(amount),
      String(account.limit),
      String(carry),
      seed,
      String(Number.isFinite(expiry) ? expiry : 0),
    ];
    const carry = fallback.takeUnsynced(account);
    const first = parseReply(await link.run(SCRIPT, [key], args(carry, "")));
    if (first === undefined) {
      fallback.returnUnsynced(account, carry);
      return undefined;
    }
    if (first.status !== MISSING) return first;
    // No counter (the carry was not added): a settlement has nothing to settle against, and
    // anything else starts the counter from the database, the record, without the carry.
    if (op === "settle") return first;
    const seed = await recordedSpend(account, key);
    return parseReply(await link.run(SCRIPT, [key], args(0, String(seed))));
  }

  return {
    async reserve(account, amount) {
      checkAmount(amount, "reserve budget", false);
      const reply = await call("reserve", account, amount);
      if (reply === undefined) return await fallback.reserve(account, amount);
      fallback.mirror(account, reply.spent);
      return { admitted: reply.status === 1, spent: reply.spent };
    },
    async settle(account, delta) {
      checkAmount(delta, "settle budget", true);
      if (delta === 0) return undefined;
      const reply = await call("settle", account, delta);
      if (reply === undefined) return await fallback.settle(account, delta);
      if (reply.status === MISSING) return undefined;
      fallback.mirror(account, reply.spent);
      return reply.spent;
    },
    async peek(account) {
      const reply = await call("peek", account, 0);
      if (reply === undefined) return await fallback.peek(account);
      fallback.mirror(account, reply.spent);
      return reply.spent;
    },
    status: () => link.status(),
    close: () => Promise.resolve(),
  };
}
