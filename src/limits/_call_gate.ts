/**
 * Calls to a server that answers in order (Redis), kept few, and given up only when the server
 * itself falls silent.
 *
 * At most `maxInFlight` calls are sent at once; the others wait their turn here. A burst of
 * thousands of calls sent together would otherwise wait for the whole pipeline to be written
 * before the first answer could be read.
 *
 * How long a call has waited says nothing about the server: it may have waited for its turn, or
 * its answer may sit unread because this process was busy (a burst of requests, a CPU shared
 * with other processes, a garbage collection). So no call has a deadline of its own. Instead one
 * watchdog (thousands of timers firing together would starve the very answers they wait for)
 * ticks every `timeoutMs / SILENT_TICKS` ms while calls are in flight, and counts the ticks that
 * come on time since the last answer. A late tick shows that the event loop was busy: answers
 * may be waiting unread, and the count starts over. Only when the loop has been free for
 * `timeoutMs` in a row (more than {@linkcode SILENT_TICKS} ticks on time) and the server has
 * answered nothing is it silent: then every call gives up at once. A process too busy for its
 * timers therefore never gives up on a server; calls wait, at most `maxQueued` of them.
 *
 * Times are real (`performance.now()`), never an injected clock: tests freeze theirs.
 */

/** A call gave up: the server fell silent, or the gate was aborted. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** A call was not even queued: too many were waiting already. */
export const BUSY: unique symbol = Symbol("busy");

/** Watchdog ticks per `timeoutMs`: the server is silent after more than this many on time. */
export const SILENT_TICKS = 4;

/**
 * A tick this late (ms) means the event loop was busy, not that the server was silent. Small
 * against `timeoutMs`: a loop whose turns take up to this long still reads an answer (a few
 * turns through the socket and the client) well within `timeoutMs`.
 */
export const LAG_TOLERANCE_MS = 10;

/** Options of {@linkcode createCallGate}. */
export interface CallGateOptions {
  /** How long the server may stay silent, while this process is free to hear it, before calls give up. */
  readonly timeoutMs: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
}

/** See the module documentation. */
export interface CallGate {
  /**
   * Sends the call when a slot is free and returns its answer, or {@linkcode TIMED_OUT} or
   * {@linkcode BUSY}. A rejected call rejects.
   */
  run<T>(send: () => Promise<T>): Promise<T | typeof TIMED_OUT | typeof BUSY>;
  /** Gives up every call in flight or waiting (the server is known to be failing, or gone). */
  abort(): void;
}

/** Creates a gate; see the module documentation. */
export function createCallGate(options: CallGateOptions): CallGate {
  const { timeoutMs, maxInFlight, maxQueued } = options;
  const tickMs = Math.max(1, timeoutMs / SILENT_TICKS);
  /** The calls sent and neither answered nor given up: how each gives up. */
  const sent = new Set<() => void>();
  /** The calls waiting for a slot: how each is let in (true) or given up (false). */
  const waiting = new Set<(admitted: boolean) => void>();
  /** Slots taken: by the calls in `sent`, and by calls admitted but not yet sent. */
  let slots = 0;
  /** Watchdog ticks on time in a row with no answer (the first may cover part of a period). */
  let quietTicks = 0;
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  function arm(): void {
    const due = performance.now() + tickMs;
    watchdog = setTimeout(() => tick(due), tickMs);
  }

  function tick(due: number): void {
    watchdog = undefined;
    if (sent.size === 0) return;
    quietTicks = performance.now() - due > LAG_TOLERANCE_MS ? 0 : quietTicks + 1;
    if (quietTicks > SILENT_TICKS) return abort();
    arm();
  }

  /** Hands the slot of a call that ended to the next waiting call, or frees it. */
  function release(): void {
    const next = waiting.values().next();
    if (next.done === true) {
      slots--;
      return;
    }
    waiting.delete(next.value);
    next.value(true);
  }

  function end(giveUp: () => void): void {
    if (!sent.delete(giveUp)) return;
    release();
    if (sent.size === 0 && watchdog !== undefined) {
      clearTimeout(watchdog);
      watchdog = undefined;
    }
  }

  function abort(): void {
    for (const admit of waiting) admit(false);
    waiting.clear();
    for (const giveUp of sent) giveUp();
  }

  async function send<T>(call: () => Promise<T>): Promise<T | typeof TIMED_OUT> {
    const expired = Promise.withResolvers<typeof TIMED_OUT>();
    const giveUp = () => {
      expired.resolve(TIMED_OUT);
      end(giveUp);
    };
    sent.add(giveUp);
    if (watchdog === undefined) {
      quietTicks = 0;
      arm();
    }
    let answer: Promise<T>;
    try {
      answer = call();
    } catch (error) {
      answer = Promise.reject(error);
    }
    // Any answer, even an error, shows that the server is there.
    answer = answer.finally(() => quietTicks = 0);
    answer.catch(() => {}); // once given up, its outcome no longer matters
    try {
      return await Promise.race([answer, expired.promise]);
    } finally {
      end(giveUp);
    }
  }

  return {
    async run(call) {
      if (slots < maxInFlight) {
        slots++;
      } else {
        if (waiting.size >= maxQueued) return BUSY;
        const turn = Promise.withResolvers<boolean>();
        waiting.add(turn.resolve);
        // Admitted: the slot was handed over by release().
        if (!(await turn.promise)) return TIMED_OUT;
      }
      return await send(call);
    },
    abort,
  };
}
