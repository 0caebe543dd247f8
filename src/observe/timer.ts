/**
 * The time one request spends waiting for providers: wall-clock time while at least one
 * upstream call of it is in flight (embedding batches run side by side and count once), so
 * that `gateway = total − upstream` is what the gateway itself added.
 */

/** Accumulates a request's time in upstream calls. */
export interface UpstreamTimer {
  /** An upstream wait starts (sending, reading an answer, waiting for a stream's first event). */
  begin(): void;
  /** That wait ended. */
  end(): void;
  /** Milliseconds spent waiting so far (up to now while a wait is open); undefined: never waited. */
  ms(): number | undefined;
}

/** A timer on the given clock (ms). */
export function createUpstreamTimer(now: () => number): UpstreamTimer {
  let open = 0;
  let since = 0;
  let total = 0;
  let waited = false;
  return {
    begin() {
      waited = true;
      if (open++ === 0) since = now();
    },
    end() {
      if (open === 0) return;
      if (--open === 0) total += now() - since;
    },
    ms() {
      if (!waited) return undefined;
      return open > 0 ? total + now() - since : total;
    },
  };
}

/** Waits for `work` as upstream time. */
export async function timed<T>(timer: UpstreamTimer, work: () => Promise<T>): Promise<T> {
  timer.begin();
  try {
    return await work();
  } finally {
    timer.end();
  }
}

/** Milliseconds rounded to hundredths, for headers and log lines. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * The `Server-Timing` value of a response: `gateway;dur=…` (time not spent waiting for a
 * provider) and, when a provider was called, `upstream;dur=…`.
 */
export function serverTiming(gatewayMs: number, upstreamMs: number | undefined): string {
  const gateway = `gateway;dur=${roundMs(Math.max(0, gatewayMs))}`;
  return upstreamMs === undefined ? gateway : `${gateway}, upstream;dur=${roundMs(upstreamMs)}`;
}
