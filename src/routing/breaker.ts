/**
 * Circuit breakers per target (`provider/model`): a target that failed `failures` times in a
 * row is left out for `cooldownMs`. After the cool-down it is tried again; one more failure
 * opens it again at once, one success closes it. The clock is injected.
 */
import type { BreakerSettings } from "./table.ts";

/** The breakers of one gateway process. */
export interface Breakers {
  /** Whether the target may be tried now. */
  allows(key: string): boolean;
  /** Records a success: the target is healthy again. */
  succeeded(key: string): void;
  /** Records a failure (connection error, timeout, 429 or 5xx); true when it opened the breaker. */
  failed(key: string): boolean;
}

interface State {
  failures: number;
  openUntil: number;
}

/** Creates breakers; `settings` is read on every call, so a routing reload takes effect. */
export function createBreakers(settings: () => BreakerSettings, now: () => number): Breakers {
  const states = new Map<string, State>();
  return {
    allows(key) {
      const state = states.get(key);
      return state === undefined || state.openUntil <= now();
    },
    succeeded(key) {
      states.delete(key);
    },
    failed(key) {
      const { failures, cooldownMs } = settings();
      const state = states.get(key) ?? { failures: 0, openUntil: 0 };
      state.failures += 1;
      states.set(key, state);
      if (state.failures < failures) return false;
      state.openUntil = now() + cooldownMs;
      return true;
    },
  };
}
