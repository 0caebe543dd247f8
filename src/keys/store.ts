/**
 * The live key list: loaded from `CHOREOAI_KEYS_FILE` at start (a bad file stops the start),
 * reloaded when the file changes or on demand (SIGHUP). A reload that fails keeps the last good
 * list and logs why: it never fails open. Each load is an immutable index swapped whole, so a
 * request in flight is never checked against a half-built list.
 *
 * Changes are seen two ways: a watcher on the file's directory (which also sees a mounted secret
 * whose symlinks are swapped) and, as a fallback for file systems without events, a stat of the
 * file every second.
 */
import { describeError, type Logger } from "../log.ts";
import { parseKeyFile } from "./key_file.ts";
import { compileKeyIndex, type KeyIndex } from "./verify.ts";

/** The current key list and how to refresh it. */
export interface KeyStore extends Disposable {
  /** The key list in force now. */
  current(): KeyIndex;
  /** Reads the file again; false (and the old list kept) when it is unreadable or invalid. */
  reload(reason: string): Promise<boolean>;
  /** Starts watching the file for changes. */
  watch(): void;
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
 * Loads the key list at `path`.
 *
 * @throws when the file is missing, unreadable or invalid (the gateway must not start).
 */
export async function openKeyStore(path: string, log: Logger): Promise<KeyStore> {
  let text = await Deno.readTextFile(path);
  let index = compileKeyIndex(parseKeyFile(text));
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
      const next = compileKeyIndex(parseKeyFile(nextText));
      text = nextText;
      index = next;
      log.info("key list reloaded", { reason, keys: next.size });
      return true;
    } catch (error) {
      log.error("key list reload failed; keeping the last good list", {
        reason,
        keys: index.size,
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
        log.error("key list watcher stopped; polling continues", describeError(error));
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
    current: () => index,
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
