/**
 * A configuration file loaded at start and reloaded when it changes (the key list, the routing
 * file). A reload that fails keeps the last good value and logs why: it never fails open. Each
 * load is an immutable value swapped whole, so a request in flight never sees a half-built one.
 *
 * Changes are seen three ways: a watcher on the file's directory (so that a file replaced by a
 * rename, as the CLI and editors do, is still seen), a stat of the file every second (for file
 * systems without events), and SIGHUP (wired by main.ts, see `reloadFiles`). Only a real change
 * counts: an event naming the file reads it, any other event in the directory (the usage
 * database often sits there) or the poll only stats it, and the file is compiled only when its
 * text differs from what was last read. So a broken file is reported once per change.
 */
import { basename, dirname, join, resolve } from "node:path";
import { describeError, type Logger } from "../log.ts";

/** What a reload did: swapped in a new value, found the value in force, or kept it (broken). */
export type ReloadOutcome = "changed" | "unchanged" | "failed";

/** The current value of a watched file and how to refresh it. */
export interface WatchedFile<T> extends Disposable {
  /** The file's name in log lines, e.g. "key list". */
  readonly label: string;
  /** The value in force now. */
  current(): T;
  /** Fields describing the value in force, for log lines (e.g. `{ keys: 3 }`). */
  describe(): Record<string, unknown>;
  /**
   * Reads the file again now (on SIGHUP). A file that cannot be read or compiled is logged (every time) and
   * the value in force kept; nothing else is logged: the caller says what was reloaded.
   */
  reload(): Promise<ReloadOutcome>;
  /** Starts watching the file for changes; each change is logged once. */
  watch(): void;
  /** Calls `listener` after every reload that swapped in a new value (true) or failed (false). */
  onReload(listener: (ok: boolean) => void): void;
}

/** How to turn a file's text into its value, and what to call it in logs. */
export interface WatchedFileOptions<T> {
  /** Parses and compiles the text; throws with a readable message when it is invalid. */
  readonly compile: (text: string) => T;
  /** The file's name in log lines, e.g. "key list". */
  readonly label: string;
  /** Fields describing a value, for log lines; unique across files, as SIGHUP's line merges them. */
  readonly describe?: (value: T) => Record<string, unknown>;
  readonly log: Logger;
}

/** The file's text, or why it could not be read. */
interface Reading {
  readonly text?: string;
  readonly error?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readFile(path: string): Promise<Reading> {
  try {
    return { text: await Deno.readTextFile(path) };
  } catch (error) {
    return { error: message(error) };
  }
}

/** Identity, size and time of the file (through symlinks), or why it cannot be seen. */
async function stampOf(path: string): Promise<string> {
  try {
    const info = await Deno.stat(path);
    return `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
  } catch (error) {
    return message(error);
  }
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
  let stamp = await stampOf(path);
  let goodText = await Deno.readTextFile(path);
  let value = compile(goodText);
  /** What the last look at the file found, good or bad. */
  let seen: Reading = { text: goodText };
  // Event paths are absolute; the directory may be reached through a symlink.
  const directory = dirname(resolve(path));
  const names = new Set([
    resolve(path),
    join(await Deno.realPath(directory), basename(path)),
  ]);
  let watcher: Deno.FsWatcher | undefined;
  let poller: ReturnType<typeof setInterval> | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let pending: "read" | "stat" | undefined;
  let running: Promise<ReloadOutcome> | undefined;

  const describe = () => options.describe?.(value) ?? {};
  const listeners: Array<(ok: boolean) => void> = [];
  const reloaded = (ok: boolean) => listeners.forEach((listener) => listener(ok));

  /**
   * Reads the file and compiles it when its text is new. `explicit` (SIGHUP) compiles anything
   * but the text in force, reports a broken file again, and leaves the success line to the caller.
   */
  async function look(reason: string, explicit: boolean): Promise<ReloadOutcome> {
    stamp = await stampOf(path);
    const reading = await readFile(path);
    const isNew = reading.text !== seen.text || reading.error !== seen.error;
    seen = reading;
    if (explicit ? reading.text === goodText : !isNew) return "unchanged";
    try {
      if (reading.text === undefined) throw new Error(reading.error);
      value = compile(reading.text);
      goodText = reading.text;
      if (!explicit) log.info(`${label} reloaded`, { reason, ...describe() });
      reloaded(true);
      return "changed";
    } catch (error) {
      log.error(`${label} reload failed; keeping the last good ${label}`, {
        reason,
        error: message(error),
      });
      reloaded(false);
      return "failed";
    }
  }

  /** One look at a time: a burst of events ends with a read of the final file. */
  async function serialized(reason: string, explicit: boolean): Promise<ReloadOutcome> {
    while (running !== undefined) await running;
    running = look(reason, explicit);
    try {
      return await running;
    } finally {
      running = undefined;
    }
  }

  async function check(kind: "read" | "stat", reason: string): Promise<void> {
    if (kind === "stat" && await stampOf(path) === stamp) return;
    await serialized(reason, false);
  }

  /** Debounces a burst of events; an event naming the file wins over a stat. */
  function schedule(kind: "read" | "stat", reason: string): void {
    pending = pending === "read" ? "read" : kind;
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const next = pending ?? "stat";
      pending = undefined;
      void check(next, reason);
    }, 20);
  }

  function watch(): void {
    if (watcher !== undefined) return;
    const w = Deno.watchFs(directory, { recursive: false });
    watcher = w;
    (async () => {
      try {
        for await (const event of w) {
          const named = event.paths.some((p) => names.has(p));
          schedule(named ? "read" : "stat", `file ${event.kind}`);
        }
      } catch (error) {
        log.error(`${label} watcher stopped; polling continues`, describeError(error));
      }
    })();
    poller = setInterval(() => schedule("stat", "file changed (poll)"), 1_000);
    Deno.unrefTimer(poller);
  }

  return {
    label,
    current: () => value,
    describe,
    reload: () => serialized("SIGHUP", true),
    watch,
    onReload: (listener) => void listeners.push(listener),
    [Symbol.dispose]() {
      clearTimeout(debounce);
      clearInterval(poller);
      watcher?.close();
      watcher = undefined;
    },
  };
}

/**
 * Reloads every file now (on SIGHUP) and logs one line saying what is in force: each file's
 * fields (e.g. `keys`, `routing_models`), which files changed and which failed (a failure also
 * has its own line saying why, and its file keeps its last good value).
 */
export async function reloadFiles(
  files: readonly WatchedFile<unknown>[],
  log: Logger,
): Promise<void> {
  const outcomes = await Promise.all(files.map((file) => file.reload()));
  const labelled = (outcome: ReloadOutcome) =>
    files.filter((_, i) => outcomes[i] === outcome).map((file) => file.label);
  const fields = {
    ...Object.assign({}, ...files.map((file) => file.describe())),
    changed: labelled("changed"),
    failed: labelled("failed"),
  };
  if (fields.failed.length > 0) log.warn("reloaded on SIGHUP", fields);
  else log.info("reloaded on SIGHUP", fields);
}
