/**
 * The key list a gateway serves with when it lives in PostgreSQL: read at start (no list, no
 * start), then kept current by LISTEN on {@linkcode KEYS_CHANNEL} (a change is in force within
 * milliseconds) and by a periodic check of the list's version (one number; the list is read when
 * it moved) as a safety net for a missed notification. When the
 * database cannot be reached, or holds an invalid list, the last good list stays in force —
 * never an empty or open one — and `status()` says `degraded` until a read succeeds again.
 */
import type { ReloadOutcome, WatchedFile } from "../files/watched.ts";
import { describeError, type Logger } from "../log.ts";
import type { KeyIndex } from "../keys/verify.ts";
import type { Sql } from "./connect.ts";
import {
  DATABASE_KEY_LIST,
  type KeyListReading,
  KEYS_CHANNEL,
  readKeyListText,
  readKeyListVersion,
} from "./key_list.ts";

/** A key list kept current from the database. */
export interface LiveKeyList extends WatchedFile<KeyIndex> {
  /** `degraded` while the last read failed: the list in force may be out of date. */
  status(): "ok" | "degraded";
  /** Stops listening and re-reading (the pool is the caller's). */
  close(): Promise<void>;
}

/** Options of {@linkcode openDatabaseKeyList}. */
export interface DatabaseKeyListOptions {
  /** Turns the list's text (`{"version":1,"keys":[…]}`) into the index; throws when invalid. */
  readonly compile: (text: string) => KeyIndex;
  readonly log: Logger;
  /** How often the list is re-read whatever the notifications say. Default 5 s. */
  readonly rereadMs?: number;
}

/**
 * Reads the key list from the database and returns it, to be kept current with `watch()`.
 *
 * @throws when the database cannot be reached or the list is invalid (the gateway must not start).
 */
export async function openDatabaseKeyList(
  sql: Sql,
  options: DatabaseKeyListOptions,
): Promise<LiveKeyList> {
  const { compile, log } = options;
  const first = await readKeyListText(sql);
  let goodText = first.text;
  /** The version of the last list read, good or not: the periodic check compares it. */
  let seenVersion = first.version;
  let value = compile(goodText);
  let degraded: string | undefined;
  let running: Promise<ReloadOutcome> | undefined;
  let again = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let closed = false;
  const listeners: Array<(ok: boolean) => void> = [];
  const describe = () => ({ keys: value.size, keys_source: "database" });

  function fail(reason: string, problem: string, fields: Record<string, unknown>): ReloadOutcome {
    if (degraded !== problem) {
      log.error(`${problem}: serving the last good key list`, { reason, ...describe(), ...fields });
    }
    degraded = problem;
    listeners.forEach((listener) => listener(false));
    return "failed";
  }

  /**
   * Reads the list and swaps it in when its text changed. `quick` (the periodic check) first
   * reads the version alone and stops there when it has not moved and all is well.
   */
  async function look(reason: string, explicit: boolean, quick = false): Promise<ReloadOutcome> {
    let reading: KeyListReading;
    try {
      if (quick && degraded === undefined && await readKeyListVersion(sql) === seenVersion) {
        return "unchanged";
      }
      reading = await readKeyListText(sql);
    } catch (error) {
      return fail(reason, "cannot read the key list from the database", describeError(error));
    }
    seenVersion = reading.version;
    const { text } = reading;
    if (text === goodText) {
      if (degraded !== undefined) log.info("key list read from the database again", describe());
      degraded = undefined;
      return "unchanged";
    }
    try {
      value = compile(text);
    } catch (error) {
      return fail(reason, `${DATABASE_KEY_LIST} is invalid`, {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    goodText = text;
    degraded = undefined;
    if (!explicit) log.info("key list reloaded", { reason, ...describe() });
    listeners.forEach((listener) => listener(true));
    return "changed";
  }

  /** One read at a time; a change announced during a read is followed by one more read. */
  async function serialized(
    reason: string,
    explicit: boolean,
    quick = false,
  ): Promise<ReloadOutcome> {
    if (running !== undefined) {
      again = true;
      return await running;
    }
    running = (async () => {
      let outcome = await look(reason, explicit, quick);
      while (again && !closed) {
        again = false;
        outcome = await look(reason, explicit); // what was announced meanwhile: a full read
      }
      return outcome;
    })();
    try {
      return await running;
    } finally {
      running = undefined;
    }
  }

  function watch(): void {
    if (timer !== undefined || closed) return;
    timer = setInterval(
      () => void serialized("periodic check", false, true),
      options.rereadMs ?? 5_000,
    );
    Deno.unrefTimer(timer);
    // The listening connection reconnects by itself; each (re)connection re-reads the list, as
    // notifications sent while it was down are lost.
    sql.listen(
      KEYS_CHANNEL,
      () => void serialized("changed in the database", false),
      () => void serialized("listening for key changes", false),
    ).then(
      (request) => {
        unlisten = request.unlisten;
        log.info("listening for key list changes", { channel: KEYS_CHANNEL });
        if (closed) void request.unlisten().catch(() => {});
      },
      (error) => log.error("cannot listen for key list changes", describeError(error)),
    );
  }

  return {
    label: DATABASE_KEY_LIST,
    current: () => value,
    describe,
    reload: () => serialized("SIGHUP", true),
    watch,
    onReload: (listener) => void listeners.push(listener),
    status: () => degraded === undefined ? "ok" : "degraded",
    async close() {
      closed = true;
      clearInterval(timer);
      await unlisten?.().catch(() => {});
      await running?.catch(() => {});
    },
    [Symbol.dispose]() {
      closed = true;
      clearInterval(timer);
    },
  };
}
