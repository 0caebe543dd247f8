/**
 * How each upstream target (`provider/model`) fared over the last 15 minutes, in memory, for the
 * admin API's providers page: attempts and provider errors per minute, latencies of recent
 * successful attempts, and the last errors with their status, code and message.
 *
 * Recording is on the request path, so it is O(1) and allocates nothing once a target is known:
 * a map lookup and a few typed-array slot writes (the error's strings are kept by reference).
 * Memory is bounded: fixed rings per target, and at most {@linkcode MAX_TARGETS} targets (later
 * ones are not tracked). Reading does the work: it sums the minutes, sorts the latencies and
 * removes secrets from the messages.
 */
import type { GatewayError } from "../errors.ts";
import { percentileCont } from "../usage/series.ts";

/** How far back the numbers go: the current minute and the 14 before it. */
export const HEALTH_WINDOW_MS = 15 * 60_000;
/** Most targets tracked at once. */
export const MAX_TARGETS = 200;
/** Latencies kept per target (the most recent successful attempts). */
export const LATENCY_SAMPLES = 512;
/** Errors kept per target. */
export const RECENT_ERRORS = 10;
/** Longest error message shown. */
const MAX_MESSAGE_CHARS = 300;

const MINUTE_MS = 60_000;
const MINUTES = HEALTH_WINDOW_MS / MINUTE_MS;

/** One recent upstream error of a target. */
export interface RecentError {
  /** ISO 8601 UTC. */
  time: string;
  /** The status the gateway made of it (a provider's 500 is 502, a timeout 504). */
  status: number;
  code: string | null;
  /** Without secrets (the provider's key, bearer tokens and key-like strings are masked). */
  message: string;
}

/** A target's health over the window. */
export interface TargetHealth {
  target: string;
  provider: string;
  attempts: number;
  /** Attempts the provider failed (connection, timeout, 429, 5xx); not the request's own 4xx. */
  errors: number;
  /** Successful attempts: send to answer (for a stream, to its first event). */
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  /** Newest first. */
  recent_errors: RecentError[];
}

/** What the tracker needs of a target: its key, its provider's name and key (to mask it). */
export interface TrackedTarget {
  readonly key: string;
  readonly provider: { readonly name: string; readonly apiKey: string };
}

/** The tracker. */
export interface ProviderHealth {
  /**
   * An attempt on `target` ended after `ms`: `failure` is the provider's error (an attempt the
   * provider failed), or undefined for a success or the request's own refusal.
   */
  attempted(target: TrackedTarget, ms: number, failure?: GatewayError): void;
  /** Every target with attempts in the window, in the order first seen. */
  snapshot(): TargetHealth[];
}

class TargetRing {
  readonly provider: string;
  secret: string;
  readonly minute = new Float64Array(MINUTES).fill(-1);
  readonly attempts = new Uint32Array(MINUTES);
  readonly errors = new Uint32Array(MINUTES);
  readonly sampleTime = new Float64Array(LATENCY_SAMPLES);
  readonly sampleMs = new Float64Array(LATENCY_SAMPLES);
  sampleNext = 0;
  readonly errorTime = new Float64Array(RECENT_ERRORS);
  readonly errorStatus = new Uint16Array(RECENT_ERRORS);
  readonly errorCode: (string | null)[] = new Array(RECENT_ERRORS).fill(null);
  readonly errorMessage: string[] = new Array(RECENT_ERRORS).fill("");
  errorNext = 0;
  errorCount = 0;

  constructor(provider: string, secret: string) {
    this.provider = provider;
    this.secret = secret;
    this.sampleTime.fill(-Infinity);
  }
}

/** Masks the provider's key, bearer tokens and key-like strings, and shortens the message. */
export function redactMessage(message: string, secret: string): string {
  let text = secret.length >= 6 ? message.replaceAll(secret, "***") : message;
  text = text
    .replace(/\b(Bearer|Basic)\s+[^\s"',()[\]{}]+/gi, "$1 ***")
    .replace(/\b(sk|pk|rk|AIza|key)[-_A-Za-z0-9]{16,}/g, "$1***")
    .replace(/([?&](?:key|api[-_]?key|token|access_token|sig)=)[^&\s"']+/gi, "$1***");
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

/** Creates a tracker reading the clock `now` (ms since the epoch). */
export function createProviderHealth(now: () => number): ProviderHealth {
  const targets = new Map<string, TargetRing>();
  return {
    attempted(target, ms, failure) {
      let ring = targets.get(target.key);
      if (ring === undefined) {
        if (targets.size >= MAX_TARGETS) return;
        ring = new TargetRing(target.provider.name, target.provider.apiKey);
        targets.set(target.key, ring);
      }
      const time = now();
      const minute = Math.floor(time / MINUTE_MS);
      const slot = minute % MINUTES;
      if (ring.minute[slot] !== minute) {
        ring.minute[slot] = minute;
        ring.attempts[slot] = 0;
        ring.errors[slot] = 0;
      }
      ring.attempts[slot] = (ring.attempts[slot] ?? 0) + 1;
      if (failure === undefined) {
        const at = ring.sampleNext;
        ring.sampleTime[at] = time;
        ring.sampleMs[at] = ms;
        ring.sampleNext = at + 1 === LATENCY_SAMPLES ? 0 : at + 1;
        return;
      }
      ring.errors[slot] = (ring.errors[slot] ?? 0) + 1;
      // A routing reload may change the provider's key: mask the one in force.
      ring.secret = target.provider.apiKey;
      const at = ring.errorNext;
      ring.errorTime[at] = time;
      ring.errorStatus[at] = failure.status;
      ring.errorCode[at] = failure.code;
      ring.errorMessage[at] = failure.message;
      ring.errorNext = at + 1 === RECENT_ERRORS ? 0 : at + 1;
      if (ring.errorCount < RECENT_ERRORS) ring.errorCount += 1;
    },
    snapshot() {
      const time = now();
      const currentMinute = Math.floor(time / MINUTE_MS);
      // The current minute and the 14 before it, for counts, latencies and errors alike.
      const since = (currentMinute - MINUTES + 1) * MINUTE_MS;
      const health: TargetHealth[] = [];
      for (const [target, ring] of targets) {
        let attempts = 0;
        let errors = 0;
        for (let slot = 0; slot < MINUTES; slot++) {
          if ((ring.minute[slot] ?? -1) > currentMinute - MINUTES) {
            attempts += ring.attempts[slot] ?? 0;
            errors += ring.errors[slot] ?? 0;
          }
        }
        if (attempts === 0) continue;
        const latencies: number[] = [];
        for (let i = 0; i < LATENCY_SAMPLES; i++) {
          if ((ring.sampleTime[i] ?? -Infinity) >= since) latencies.push(ring.sampleMs[i] ?? 0);
        }
        const sorted = Float64Array.from(latencies).sort();
        const recent: RecentError[] = [];
        for (let n = 1; n <= ring.errorCount; n++) {
          const at = (ring.errorNext - n + RECENT_ERRORS) % RECENT_ERRORS;
          const errorTime = ring.errorTime[at] ?? 0;
          if (errorTime < since) break;
          recent.push({
            time: new Date(errorTime).toISOString(),
            status: ring.errorStatus[at] ?? 0,
            code: ring.errorCode[at] ?? null,
            message: redactMessage(ring.errorMessage[at] ?? "", ring.secret),
          });
        }
        health.push({
          target,
          provider: ring.provider,
          attempts,
          errors,
          latency_p50_ms: percentileCont(sorted, 0.5),
          latency_p99_ms: percentileCont(sorted, 0.99),
          recent_errors: recent,
        });
      }
      return health;
    },
  };
}
