/** An idle timer: fires once `ms` pass without being re-armed. */

/** The largest delay `setTimeout` takes (about 24.8 days); longer means no timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `onFire` once `ms` milliseconds pass after the last {@linkcode IdleTimer.arm}. */
export class IdleTimer {
  readonly #ms: number;
  readonly #onFire: () => void;
  #id: ReturnType<typeof setTimeout> | undefined;
  #fired = false;

  constructor(ms: number, onFire: () => void) {
    this.#ms = ms;
    this.#onFire = onFire;
  }

  /** Whether the timer has fired. */
  get fired(): boolean {
    return this.#fired;
  }

  /** Starts (or restarts) the countdown. */
  arm(): void {
    this.clear();
    if (this.#fired || this.#ms > MAX_TIMER_MS) return;
    this.#id = setTimeout(() => {
      this.#id = undefined;
      this.#fired = true;
      this.#onFire();
    }, this.#ms);
  }

  /** Stops the countdown. */
  clear(): void {
    if (this.#id !== undefined) clearTimeout(this.#id);
    this.#id = undefined;
  }
}
