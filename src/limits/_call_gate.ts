/**
 * Calls to a server that answers in order (Redis), kept few and bounded in time.
 *
 * At most `maxInFlight` calls are sent at once; the others wait their turn here. A burst of
 * thousands of calls sent together would otherwise wait for the whole pipeline to be written
 * before the first answer could be read, and would time out although the server was fine.
 *
 * One watchdog covers every call in flight (thousands of timers firing together would starve
 * the very answers they wait for). Answers come in order, so the question is whether the server
 * answers at all: when it has answered nothing for `timeoutMs` while calls are in flight, every
 * call gives up at once. A server that keeps answering is busy, not gone, but no call waits
 * more than {@linkcode MAX_WAIT_FACTOR} × `timeoutMs` in all.
 *
 * Times are real (`performance.now()`), never an injected clock: tests freeze theirs.
 */

/** A call gave up: the server fell silent, the call waited too long, or the gate was aborted. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** A call was not even queued: too many were waiting already. */
export const BUSY: unique symbol = Symbol("busy");

/** No call waits longer than this many times `timeoutMs`, even while the server answers. */
export const MAX_WAIT_FACTOR = 10;

/** A watchdog this late (ms) means the event loop was busy, not that the server was silent. */
const LAG_TOLERANCE_MS = 25;

/** Options of {@linkcode createCallGate}. */
export interface CallGateOptions {
  /** How long the server may stay silent while calls are in flight. */
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

interface Sent {
  /** performance.now() when it was sent (see `send`). */
  start: number;
  /** performance.now() past which it gives up, whatever the server does. */
  readonly deadline: number;
  readonly expire: () => void;
}

interface Waiting {
  /** performance.now() when it began to wait. */
  readonly since: number;
  readonly admit: (admitted: boolean) => void;
}

/** Creates a gate; see the module documentation. */
export function createCallGate(options: CallGateOptions): CallGate {
  const { timeoutMs, maxInFlight, maxQueued } = options;
  const maxWaitMs = timeoutMs * MAX_WAIT_FACTOR;
  /** Calls sent and neither answered nor given up; each holds one of the `slots`. */
  const sent = new Set<Sent>();
  const waiting = new Set<Waiting>();
  /** Slots taken: by the calls in `sent`, and by calls admitted but not yet sent. */
  let slots = 0;
  let lastAnswerAt = -Infinity;
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  function arm(delay: number): void {
    const due = performance.now() + delay;
    watchdog = setTimeout(() => inspect(due), delay);
  }

  /** The watchdog runs only while calls are in flight. */
  function disarmIfIdle(): void {
    if (sent.size > 0 || watchdog === undefined) return;
    clearTimeout(watchdog);
    watchdog = undefined;
  }

  function inspect(due: number): void {
    watchdog = undefined;
    const time = performance.now();
    // A late watchdog means the event loop was busy (with a burst of our own calls, say) and
    // answers may be waiting unread: look again once they have been read, not before.
    if (time - due > LAG_TOLERANCE_MS) return arm(0);
    for (const call of sent) {
      if (time < call.deadline) break;
      giveUp(call);
    }
    const oldest = sent.values().next();
    if (oldest.done === true) return;
    const quiet = time - Math.max(oldest.value.start, lastAnswerAt);
    if (quiet >= timeoutMs) return abort();
    arm(Math.max(1, Math.min(timeoutMs - quiet, oldest.value.deadline - time)));
  }

  /** Hands a slot to the next waiting call (unless it has waited too long), or frees it. */
  function release(): void {
    for (const next of waiting) {
      waiting.delete(next);
      if (performance.now() - next.since < maxWaitMs) return next.admit(true);
      next.admit(false);
    }
    slots--;
  }

  function giveUp(call: Sent): void {
    if (!sent.delete(call)) return;
    call.expire();
    release();
    disarmIfIdle();
  }

  function abort(): void {
    for (const call of waiting) call.admit(false);
    waiting.clear();
    for (const call of sent) giveUp(call);
  }

  async function send<T>(call: () => Promise<T>, since: number): Promise<T | typeof TIMED_OUT> {
    const expired = Promise.withResolvers<typeof TIMED_OUT>();
    const entry: Sent = {
      start: performance.now(),
      deadline: since + maxWaitMs,
      expire: () => expired.resolve(TIMED_OUT),
    };
    sent.add(entry);
    // The client writes the call once the running code yields; a burst of calls started
    // together is written only after all of them have been. The call counts as sent from then.
    queueMicrotask(() => entry.start = performance.now());
    if (watchdog === undefined) arm(timeoutMs);
    let answer: Promise<T>;
    try {
      answer = call();
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer = answer.finally(() => lastAnswerAt = performance.now());
    answer.catch(() => {}); // once given up, its outcome no longer matters
    try {
      return await Promise.race([answer, expired.promise]);
    } finally {
      if (sent.delete(entry)) {
        release();
        disarmIfIdle();
      }
    }
  }

  return {
    async run(call) {
      const since = performance.now();
      if (slots < maxInFlight) {
        slots++;
      } else {
        if (waiting.size >= maxQueued) return BUSY;
        const turn = Promise.withResolvers<boolean>();
        waiting.add({ since, admit: turn.resolve });
        // Admitted: the slot was handed over by release().
        if (!(await turn.promise)) return TIMED_OUT;
      }
      return await send(call, since);
    },
    abort,
  };
}
