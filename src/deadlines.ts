/**
 * Deadlines for many requests checked by one shared ticker.
 *
 * Every request has an idle timeout (its body, its upstream) that is re-armed often: on every
 * stream event. A runtime timer per deadline, cleared and set again on each event, costs more
 * than the request's own work, so deadlines here are plain numbers that one interval compares
 * with the clock. A deadline fires at most one tick late.
 */

/** One running deadline. */
export interface Deadline {
  /** Pushes the deadline to `now + ms` again; a given `ms` replaces the deadline's length. */
  reset(ms?: number): void;
  /** Stops it; it will not fire. Idempotent. */
  cancel(): void;
}

/** Creates and tracks deadlines. */
export interface Deadlines {
  /** Calls `onExpire` once, `ms` after now or after the last `reset()`, unless cancelled. */
  start(ms: number, onExpire: () => void): Deadline;
}

interface Entry {
  at: number;
  ms: number;
  readonly onExpire: () => void;
}

/** How late a deadline may fire, at most. */
export const DEADLINE_TICK_MS = 20;

/** Creates a deadline tracker driven by the injected clock. */
export function createDeadlines(now: () => number, tickMs = DEADLINE_TICK_MS): Deadlines {
  const entries = new Set<Entry>();
  let ticker: ReturnType<typeof setInterval> | undefined;

  function tick(): void {
    const time = now();
    for (const entry of entries) {
      if (entry.at > time) continue;
      entries.delete(entry);
      entry.onExpire();
    }
    if (entries.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  return {
    start(ms, onExpire) {
      const entry: Entry = { at: now() + ms, ms, onExpire };
      entries.add(entry);
      ticker ??= setInterval(tick, tickMs);
      return {
        reset(ms) {
          if (ms !== undefined) entry.ms = ms;
          entry.at = now() + entry.ms;
        },
        cancel() {
          entries.delete(entry);
          if (entries.size === 0 && ticker !== undefined) {
            clearInterval(ticker);
            ticker = undefined;
          }
        },
      };
    },
  };
}
