/**
 * The budget ledger the gateway uses, and its in-process implementation.
 *
 * A ledger keeps one counter per budget account and period: the micro-USD spent or reserved in
 * it. A request reserves its worst case (refused when it does not fit, atomically), then
 * settles with its real cost (the difference, which may be negative, is added, never refused).
 * {@linkcode createMemoryLedger} keeps the counters in a map for one process; the Redis ledger
 * (`redis_ledger.ts`) shares them between replicas and falls back to this one.
 *
 * The usage database stays the record: a counter that does not exist yet (the first request of
 * a key in a period, or after a restart) starts from the spend the database records for the
 * account's keys in the period, so that a restart does not forget what was spent.
 */
import { type BudgetAccount, fits } from "./budget.ts";
import type { MicroUsd } from "./pricing.ts";

/** The answer to a {@linkcode BudgetLedger.reserve}. */
export interface Reservation {
  /** Whether the amount fitted and was reserved. */
  readonly admitted: boolean;
  /** The account's spend after the reservation, or as found when refused (micro-USD). */
  readonly spent: MicroUsd;
}

/** Per-account budget counters, in process or shared. */
export interface BudgetLedger {
  /** Adds `amount` to the account's spend if it fits (see `fits` in `budget.ts`); atomic. */
  reserve(account: BudgetAccount, amount: MicroUsd): Promise<Reservation>;
  /**
   * Adds `delta` (the real cost minus what was reserved; negative gives back) and returns the
   * spend after it; never refuses. Undefined when nothing new is known: a delta of 0 (which a
   * shared ledger does not send), or a counter that is gone (expired, or flushed from Redis),
   * which the next reservation starts again from the usage database.
   */
  settle(account: BudgetAccount, delta: MicroUsd): Promise<MicroUsd | undefined>;
  /** The account's spend now (started from the usage database if need be). */
  peek(account: BudgetAccount): Promise<MicroUsd>;
  /** "ok", or "degraded" while a shared store (Redis) is unreachable and budgets are per replica. */
  status(): "ok" | "degraded";
  close(): Promise<void>;
}

/**
 * What the usage database records as spent by `keyIds` since `since` (ms): where a counter
 * starts. It should not throw: a database that cannot be read is logged and counts as 0.
 */
export type RecordedSpend = (
  keyIds: readonly string[],
  since: number,
) => MicroUsd | Promise<MicroUsd>;

/**
 * How long after its period ends an account's counter is kept, so that a request reserved near
 * the end (a long stream) still settles into its own period.
 */
export const SETTLE_GRACE_MS = 3_600_000;

/** When an account's counter may be forgotten (ms); Infinity for a total budget. */
export function counterExpiry(account: BudgetAccount): number {
  return account.resetsAt === undefined ? Infinity : account.resetsAt + SETTLE_GRACE_MS;
}

/** Options of {@linkcode createMemoryLedger}. */
export interface MemoryLedgerOptions {
  /** Where new counters start. */
  readonly recorded: RecordedSpend;
  /** The clock, in ms: counters of periods long over are dropped. */
  readonly now: () => number;
  /**
   * Most counters kept at once (default {@linkcode DEFAULT_MAX_ACCOUNTS}). Past it, the least
   * recently used is forgotten; it starts again from the usage database when next used, which
   * forgets only its reservations in flight.
   */
  readonly maxAccounts?: number;
}

/** The in-process ledger, which also serves as the Redis ledger's fallback. */
export interface MemoryLedger extends BudgetLedger {
  /** How many counters it holds (for tests). */
  readonly size: number;
  /**
   * Sets an account's counter to a shared store's (Redis's) answer, plus what this ledger
   * added while answering for the store that the store has not been told yet.
   */
  mirror(account: BudgetAccount, spent: MicroUsd): void;
  /** Takes what this ledger added to an account while answering for the store, to carry there. */
  takeUnsynced(account: BudgetAccount): MicroUsd;
  /** Gives back a carry the store could not take. */
  returnUnsynced(account: BudgetAccount, amount: MicroUsd): void;
}

/** Default of {@linkcode MemoryLedgerOptions.maxAccounts}. */
export const DEFAULT_MAX_ACCOUNTS = 100_000;

/** How many counters of past periods one call may drop, so that no call pays for a long sweep. */
const SWEEP_BATCH = 32;

interface Counter {
  spent: MicroUsd;
  /** Added while answering for a shared store, not yet carried there. */
  unsynced: MicroUsd;
  readonly expiresAt: number;
}

/** The map key of an account's counter in its period. */
function counterKey(account: BudgetAccount): string {
  return `${account.id}@${account.start}`;
}

/** Throws a RangeError for an amount that is not an integer number of micro-USD. */
export function checkAmount(amount: number, action: string, signed: boolean): void {
  if (!Number.isSafeInteger(amount) || (!signed && amount < 0)) {
    throw new RangeError(
      `Cannot ${action}: the amount must be ${signed ? "an" : "a non-negative"} integer ` +
        `number of micro-USD, got ${amount}`,
    );
  }
}

/**
 * Creates the in-process ledger. Each process counts on its own: without Redis, replicas do
 * not share budgets.
 *
 * @example Usage
 * ```ts
 * const ledger = createMemoryLedger({ recorded: () => 0, now: Date.now });
 * const account = {
 *   id: "key_1", keyIds: ["key_1"], limit: 1_000_000, period: "total" as const,
 *   start: 0, resetsAt: undefined,
 * };
 * const { admitted } = await ledger.reserve(account, 250_000); // true: $0.25 of $1
 * ```
 */
export function createMemoryLedger(options: MemoryLedgerOptions): MemoryLedger {
  const maxAccounts = options.maxAccounts ?? DEFAULT_MAX_ACCOUNTS;
  if (!Number.isSafeInteger(maxAccounts) || maxAccounts < 1) {
    throw new RangeError(
      `Cannot create ledger: maxAccounts must be a positive integer, got ${maxAccounts}`,
    );
  }
  const counters = new Map<string, Counter>();
  const starting = new Map<string, Promise<Counter>>();

  /** Drops the counters at the front of the map whose periods are long over. */
  function sweep(now: number): void {
    let dropped = 0;
    for (const [key, counter] of counters) {
      if (counter.expiresAt > now || dropped === SWEEP_BATCH) break;
      counters.delete(key);
      dropped++;
    }
  }

  /** Stores a counter as the most recently used one, within `maxAccounts`. */
  function checkIn(key: string, counter: Counter): Counter {
    counters.delete(key);
    sweep(options.now());
    counters.set(key, counter);
    if (counters.size > maxAccounts) {
      const oldest = counters.keys().next();
      if (oldest.done !== true) counters.delete(oldest.value);
    }
    return counter;
  }

  /** The account's counter, started from the usage database if it has none. */
  function counterOf(account: BudgetAccount): Counter | Promise<Counter> {
    const key = counterKey(account);
    const counter = counters.get(key);
    if (counter !== undefined) return checkIn(key, counter);
    let pending = starting.get(key);
    if (pending === undefined) {
      pending = (async () => {
        try {
          const spent = await options.recorded(account.keyIds, account.start);
          // A mirror may have arrived meanwhile: it wins.
          return counters.get(key) ??
            checkIn(key, { spent, unsynced: 0, expiresAt: counterExpiry(account) });
        } finally {
          starting.delete(key);
        }
      })();
      starting.set(key, pending);
    }
    return pending;
  }

  return {
    get size() {
      return counters.size;
    },
    async reserve(account, amount) {
      checkAmount(amount, "reserve budget", false);
      const counter = await counterOf(account);
      if (!fits(account.limit, counter.spent, amount)) {
        return { admitted: false, spent: counter.spent };
      }
      counter.spent += amount;
      counter.unsynced += amount;
      return { admitted: true, spent: counter.spent };
    },
    settle(account, delta) {
      try {
        checkAmount(delta, "settle budget", true);
        const key = counterKey(account);
        const counter = counters.get(key);
        if (counter === undefined) return Promise.resolve(undefined);
        checkIn(key, counter);
        counter.spent += delta;
        counter.unsynced += delta;
        return Promise.resolve(counter.spent);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async peek(account) {
      return (await counterOf(account)).spent;
    },
    mirror(account, spent) {
      const key = counterKey(account);
      const counter = counters.get(key);
      if (counter === undefined) {
        checkIn(key, { spent, unsynced: 0, expiresAt: counterExpiry(account) });
      } else {
        counter.spent = spent + counter.unsynced;
        checkIn(key, counter);
      }
    },
    takeUnsynced(account) {
      const counter = counters.get(counterKey(account));
      if (counter === undefined) return 0;
      const unsynced = counter.unsynced;
      counter.unsynced = 0;
      return unsynced;
    },
    returnUnsynced(account, amount) {
      const counter = counters.get(counterKey(account));
      if (counter !== undefined) counter.unsynced += amount;
    },
    status: () => "ok",
    close: () => Promise.resolve(),
  };
}
