/**
 * Listening to a signal shared by every request in flight (the server's shutdown) in O(1).
 *
 * A signal keeps its listeners in a list: with hundreds of requests each adding and removing its
 * own, every removal scans them all. Here a signal gets one listener of its own, the first time it
 * is asked for, and calls whatever is registered in a set at that moment.
 */

const registered = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `onAbort` once when `signal` aborts (at once, synchronously, if it already has), unless
 * the returned function is called first to stop listening.
 *
 * @example Usage
 * ```ts
 * import { whenAborted } from "./abort_listeners.ts";
 * const shutdown = new AbortController();
 * const stop = whenAborted(shutdown.signal, () => console.log("shutting down"));
 * stop(); // this caller no longer listens; the signal keeps its one listener for the others
 * ```
 */
export function whenAborted(signal: AbortSignal, onAbort: () => void): () => void {
  if (signal.aborted) {
    onAbort();
    return () => {};
  }
  let callbacks = registered.get(signal);
  if (callbacks === undefined) {
    const set = new Set<() => void>();
    callbacks = set;
    registered.set(signal, set);
    signal.addEventListener("abort", () => {
      const pending = [...set];
      set.clear();
      for (const callback of pending) callback();
    }, { once: true });
  }
  const callback = () => onAbort();
  callbacks.add(callback);
  return () => {
    callbacks.delete(callback);
  };
}
