/**
 * Start-up time and idle memory of the production gateway: spawn it (the bench target's
 * command and settings, pinned to the proxy core) a few times, poll `/health` every few ms,
 * note the ms from spawn to the first 200, wait a couple of seconds, read its RSS, stop it by
 * pid. Dependencies are cached by then (the bench target started first).
 */
import { processTree, rssKib } from "./proc.ts";
import { freePort, type Managed, sleep } from "./processes.ts";

/** One start of the gateway. */
export interface StartupRun {
  /** ms from just before the spawn to the first 200 from /health; null: never ready. */
  readonly readyMs: number | null;
  /** RSS of its process tree `idleWaitMs` after ready, before any load, KiB. */
  readonly idleRssKib: number | null;
  readonly error?: string;
}

/** How to measure start-ups. */
export interface StartupSettings {
  readonly runs: number;
  /** Poll /health this often, ms. */
  readonly pollMs: number;
  /** Give up on one start after this, ms. */
  readonly timeoutMs: number;
  /** Read the idle RSS this long after ready, ms. */
  readonly idleWaitMs: number;
  /** Spawns a gateway listening on `port`. */
  readonly spawn: (name: string, port: number) => Managed;
  /** Stops it by pid. */
  readonly stop: (process: Managed) => Promise<unknown>;
}

/** Polls `url` until it answers 200 or `deadline` (performance.now() ms) passes. */
async function firstOk(url: string, process: Managed, deadline: number, pollMs: number) {
  while (performance.now() < deadline && !process.exited()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.status === 200) return performance.now();
    } catch {
      // Not listening yet.
    }
    await sleep(pollMs);
  }
  return undefined;
}

/** Starts, times and stops the gateway `settings.runs` times, one after the other. */
export async function measureStartups(settings: StartupSettings): Promise<StartupRun[]> {
  const runs: StartupRun[] = [];
  for (let i = 0; i < settings.runs; i++) {
    const port = freePort();
    const started = performance.now();
    const process = settings.spawn(`startup-${i + 1}`, port);
    try {
      const ready = await firstOk(
        `http://127.0.0.1:${port}/health`,
        process,
        started + settings.timeoutMs,
        settings.pollMs,
      );
      if (ready === undefined) {
        runs.push({
          readyMs: null,
          idleRssKib: null,
          error: process.exited() ? "it exited" : `not ready within ${settings.timeoutMs} ms`,
        });
        continue;
      }
      await sleep(settings.idleWaitMs);
      runs.push({
        readyMs: ready - started,
        idleRssKib: await rssKib(await processTree(process.pid)),
      });
    } finally {
      await settings.stop(process);
    }
  }
  return runs;
}
