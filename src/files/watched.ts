/**
 * A configuration file loaded at start and reloaded when it changes (the key list, the routing
 * file). A reload that fails keeps the last good value and logs why: it never fails open. Each
 * load is an immutable value swapped whole, so a request in flight never sees a half-built one.
 *
 * Changes are seen two ways: a watcher on the file's directory (which also sees a mounted secret
 * or config map whose symlinks are swapped) and, as a fallback for file systems without events,
 * a stat of the file every second. SIGHUP (wired by main.ts) calls `reload`.
 */
import { describeError, type Logger } from "../log.ts";

/** The current value of a watched file and how to refresh it. */
export interface WatchedFile<T> extends Disposable {
  /** The value in force now. */
  current(): T;
  /** Reads the file again; false (and the old value kept) when it is unreadable or invalid. */
  reload(reason: string): Promise<boolean>;
  /** Starts watching the file for changes. */
  watch(): void;
}

/** How to turn a file's text into its value, and what to call it in logs. */
export interface WatchedFileOptions<T> {
  /** Parses and compiles the text; throws with a readable message when it is invalid. */
  readonly compile: (text: string) => T;
  /** The file's name in log lines, e.g. "key list". */
  readonly label: string;
  /** Fields describing a freshly loaded value, for the log line. */
  readonly describe?: (value: T) => Record<string, unknown>;
  readonly log: Logger;
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

function fingerprint(info: Deno.FileInfo): string {
  return `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

/**
 * Loads the file at `path`.
 *
 * @throws when the file is missing, unreadable or invalid (the gateway must not start).
 */
export async function openWatchedFile<T>(
  path: string,
  options: WatchedFileOptions<T>,
): Promise<WatchedFile<T>> {
  const { compile, label, log } = options;
  let text = await Deno.readTextFile(path);
  let value = compile(text);
  let stamp = fingerprint(await Deno.stat(path));
  let watcher: Deno.FsWatcher | undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<boolean> | undefined;

  async function load(reason: string): Promise<boolean> {
    try {
      const info = await Deno.stat(path);
      const nextText = await Deno.readTextFile(path);
      stamp = fingerprint(info);
      if (nextText === text) return true;
      const next = compile(nextText);
      text = nextText;
      value = next;
      log.info(`${label} reloaded`, { reason, ...options.describe?.(next) });
      return true;
    } catch (error) {
      log.error(`${label} reload failed; keeping the last good ${label}`, {
        reason,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  async function reload(reason: string): Promise<boolean> {
    // One reload at a time: a burst of events ends with a read of the final file.
    while (running !== undefined) await running;
    running = load(reason);
    try {
      return await running;
    } finally {
      running = undefined;
    }
  }

  function schedule(reason: string): void {
    clearTimeout(debounce);
    debounce = setTimeout(() => void reload(reason), 20);
  }

  function watch(): void {
    if (watcher !== undefined) return;
    const w = Deno.watchFs(directoryOf(path), { recursive: false });
    watcher = w;
    (async () => {
      try {
        for await (const event of w) schedule(`file ${event.kind}`);
      } catch (error) {
        log.error(`${label} watcher stopped; polling continues`, describeError(error));
      }
    })();
    poller = setInterval(() => {
      Deno.stat(path).then(
        (info) => {
          if (fingerprint(info) !== stamp) schedule("file changed (poll)");
        },
        () => {},
      );
    }, 1_000);
    Deno.unrefTimer(poller);
  }

  return {
    current: () => value,
    reload,
    watch,
    [Symbol.dispose]() {
      clearTimeout(debounce);
      clearInterval(poller);
      watcher?.close();
      watcher = undefined;
    },
  };
}
