/**
 * One connection to Redis for the shared state of replicas (rate limits and budgets), and the
 * way every call to it is made: a Lua script, through a gate that keeps at most 64 calls in
 * flight (`../limits/_call_gate.ts`), answered or given up.
 *
 * A call Redis cannot answer is answered by the caller's in-process fallback, so a call waits
 * as long as Redis keeps answering, however busy this process is. Only a Redis that is down,
 * unreachable, or silent for `timeoutMs` while this process was free to hear it is left: `run`
 * then resolves to undefined, calls go straight to the fallback for a second, the link reports
 * "degraded" and warns at most once a minute, and node-redis keeps reconnecting in the
 * background. Once Redis answers again, so does the link.
 */
import { createHash } from "node:crypto";
import { createClient } from "redis";
import { describeError, type LogFields, type Logger } from "../log.ts";
import { BUSY, createCallGate, TIMED_OUT } from "../limits/_call_gate.ts";

/** A Lua script and its SHA-1, for `EVALSHA`. */
export interface LuaScript {
  readonly text: string;
  readonly sha1: string;
}

/** Wraps a script's text for {@linkcode RedisLink.run}. */
export function luaScript(text: string): LuaScript {
  return { text, sha1: createHash("sha1").update(text).digest("hex") };
}

/** A connection to Redis that scripts run through. */
export interface RedisLink {
  /**
   * Runs a script; undefined when Redis cannot answer (in time): down, unreachable, silent, or
   * more than 10,000 calls already waiting. Never rejects for Redis's sake.
   */
  run(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  /**
   * Loads a script now (when connected) and on every reconnection, so that a burst of calls
   * does not pay for NOSCRIPT and a second round trip each. `run` works without it.
   */
  preload(script: LuaScript): void;
  /** "ok", or "degraded" while Redis cannot be reached and the callers' fallbacks answer. */
  status(): "ok" | "degraded";
  /** Quits the client: pending replies get `timeoutMs`, then the socket is destroyed. */
  close(): Promise<void>;
}

/** Options of {@linkcode createRedisLink}. */
export interface RedisLinkOptions {
  /** `redis://` or `rediss://` URL. */
  readonly url: string;
  /** The clock, in ms (for the warnings' pace only). */
  readonly now: () => number;
  readonly log: Logger;
  /** What the callers keep in Redis, for the log lines: `rate limits`, `budgets`, … */
  readonly serves: string;
  /**
   * How long Redis may stay silent, while this process is free to hear it, before the calls
   * waiting for it are given up (default 200 ms). Time this process spends busy does not
   * count, nor does a call's wait for its turn: a Redis that keeps answering is never left.
   */
  readonly timeoutMs?: number;
}

/** Default of {@linkcode RedisLinkOptions.timeoutMs}. */
export const REDIS_TIMEOUT_MS = 200;

/** After a failed or slow call, how long calls go straight to the fallback (unless reconnected). */
const COOLDOWN_MS = 1_000;

/** Calls sent to Redis at once; more wait their turn (see `_call_gate.ts`). */
const MAX_IN_FLIGHT = 64;

/** Calls that may wait for a turn; past this, a call is answered by the fallback. */
const MAX_QUEUED = 10_000;

/** At most one warning per this many ms. */
const WARN_INTERVAL_MS = 60_000;

function isScriptMissing(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/**
 * Creates a link. It connects in the background and answers undefined (the fallback's turn)
 * until connected.
 */
export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { log, now, serves } = options;
  const timeoutMs = options.timeoutMs ?? REDIS_TIMEOUT_MS;
  const gate = createCallGate({ timeoutMs, maxInFlight: MAX_IN_FLIGHT, maxQueued: MAX_QUEUED });
  let closed = false;
  let cooldown: ReturnType<typeof setTimeout> | undefined;
  let lastWarnAt: number | undefined;
  let warnedSinceReady = false;
  const scripts = new Map<string, LuaScript>();

  const client = createClient({
    url: options.url,
    // Refuse commands at once while disconnected (the fallback answers them) instead of
    // queueing them for later; bound the queue in case Redis stops answering on a live socket.
    disableOfflineQueue: true,
    commandsQueueMaxLength: 10_000,
    socket: {
      connectTimeout: 1_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000),
    },
  });

  /** Logs that Redis is unavailable, at most once per {@linkcode WARN_INTERVAL_MS}. */
  function warn(reason: string, error?: unknown): void {
    const time = now();
    if (lastWarnAt !== undefined && time - lastWarnAt < WARN_INTERVAL_MS) return;
    lastWarnAt = time;
    warnedSinceReady = true;
    const fields: LogFields = error === undefined
      ? { reason }
      : { reason, ...describeError(error) };
    log.warn(`Redis unavailable: ${serves} are per replica until it answers again`, fields);
  }

  /** Sends calls to the fallback for a while after one failed, instead of waiting on each. */
  function trip(reason: string, error?: unknown): void {
    warn(reason, error);
    gate.abort();
    if (closed) return;
    clearTimeout(cooldown);
    cooldown = setTimeout(() => cooldown = undefined, COOLDOWN_MS);
    Deno.unrefTimer(cooldown);
  }

  client.on("error", (error: unknown) => warn("connection error", error));
  client.on("ready", () => {
    clearTimeout(cooldown);
    cooldown = undefined;
    // Load the scripts first thing, so that a burst just after (re)connecting does not pay for
    // NOSCRIPT and a second round trip on every call. Replies come in order: they are in time.
    for (const script of scripts.values()) client.scriptLoad(script.text).catch(() => {});
    if (warnedSinceReady) log.info(`Redis reachable again: ${serves} are shared`);
    warnedSinceReady = false;
  });
  client.connect().catch((error: unknown) => {
    if (!closed) warn("cannot connect", error);
  });

  async function send(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await client.evalSha(script.sha1, { keys, arguments: args });
    } catch (error) {
      // A flushed (or restarted) Redis has lost the script: EVAL loads it again.
      if (!isScriptMissing(error)) throw error;
      return await client.eval(script.text, { keys, arguments: args });
    }
  }

  return {
    async run(script, keys, args) {
      if (closed || cooldown !== undefined || !client.isReady) return undefined;
      try {
        const reply = await gate.run(() => send(script, keys, args));
        if (reply === TIMED_OUT) {
          trip(`no answer: Redis silent for ${timeoutMs} ms while this process was free`);
          return undefined;
        }
        if (reply === BUSY) {
          warn(`more than ${MAX_QUEUED} calls waiting for Redis`);
          return undefined;
        }
        return reply;
      } catch (error) {
        trip("command failed", error);
        return undefined;
      }
    },

    preload(script) {
      if (scripts.has(script.sha1)) return;
      scripts.set(script.sha1, script);
      if (client.isReady) client.scriptLoad(script.text).catch(() => {});
    },

    status() {
      return !closed && cooldown === undefined && client.isReady ? "ok" : "degraded";
    },

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(cooldown);
      cooldown = undefined;
      // A graceful close waits for pending replies; a Redis that stopped answering gets
      // `timeoutMs` for them, then the socket is destroyed. Calls still waiting for a turn
      // are answered by the fallback.
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        if (!client.isReady) {
          if (client.isOpen) client.destroy();
          return;
        }
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(resolve, timeoutMs, "late");
        });
        const closing = client.close();
        closing.catch(() => {});
        if (await Promise.race([closing, late]) === "late") client.destroy();
      } catch {
        if (client.isOpen) client.destroy();
      } finally {
        clearTimeout(timer);
        gate.abort();
      }
    },
  };
}
