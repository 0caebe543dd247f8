/**
 * Circuit breakers per target (`provider/model`): a target that failed `failures` times in a
 * row is left out for `cooldownMs`. After the cool-down one request probes it (half-open) while
 * the others keep away; the probe's success closes the breaker, its failure opens it again at
 * once. A probe that never reports back releases its claim after another `cooldownMs`. The clock
 * is injected.
 */
import type { BreakerSettings } from "./table.ts";

/** The breakers of one gateway process. */
export interface Breakers {
  /** Whether the target may be tried now (closed, or half-open with no probe running). */
  allows(key: string): boolean;
  /** An attempt on the target starts: after a cool-down, it becomes the one probe. */
  attempting(key: string): void;
  /** The attempt ended without telling whether the target is healthy: its probe claim ends. */
  released(key: string): void;
  /** Records a success: the target is healthy again. */
  succeeded(key: string): void;
  /** Records a failure (connection error, timeout, 429 or 5xx); true when it opened the breaker. */
  failed(key: string): boolean;
  /** A target's state now: closed, open (cooling down), or half-open (a probe may go or goes). */
  stateOf(key: string): "closed" | "open" | "half_open";
  /** The targets that failed lately (every other target is closed). */
  failing(): Iterable<string>;
}

interface State {
  failures: number;
  openUntil: number;
  /** Until when a half-open probe holds the target (0: no probe). */
  probeUntil: number;
}

/** Creates breakers; `settings` is read on every call, so a routing reload takes effect. */
export function createBreakers(settings: () => BreakerSettings, now: () => number): Breakers {
  const states = new Map<string, State>();
  return {
    allows(key) {
      const state = states.get(key);
      if (state === undefined) return true;
      const time = now();
      return state.openUntil <= time && state.probeUntil <= time;
    },
    attempting(key) {
      const state = states.get(key);
      if (state === undefined || state.failures < settings().failures) return;
      state.probeUntil = now() + settings().cooldownMs;
    },
    released(key) {
      const state = states.get(key);
      if (state !== undefined) state.probeUntil = 0;
    },
    succeeded(key) {
      states.delete(key);
    },
    stateOf(key) {
      const state = states.get(key);
      if (state === undefined || state.failures < settings().failures) return "closed";
      return state.openUntil > now() ? "open" : "half_open";
    },
    failing: () => states.keys(),
    failed(key) {
      const { failures, cooldownMs } = settings();
      const state = states.get(key) ?? { failures: 0, openUntil: 0, probeUntil: 0 };
      state.failures += 1;
      state.probeUntil = 0;
      states.set(key, state);
      if (state.failures < failures) return false;
      state.openUntil = now() + cooldownMs;
      return true;
    },
  };
}
