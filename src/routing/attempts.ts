/**
 * Runs one request over a route plan: a target picked by weight, retries with jittered
 * exponential backoff (at least the upstream's `Retry-After`), then each fallback model, all
 * within the plan's deadline and before anything reaches the client. Targets that keep failing
 * are cooled down by the circuit breakers.
 *
 * The attempt itself is passed in, so this is the same for chat completions and embeddings,
 * streams and not.
 */
import { errors, type GatewayError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Breakers } from "./breaker.ts";
import type { RoutePlan } from "./route.ts";
import { pickTarget } from "./select.ts";
import type { ModelRoute, RouteTarget } from "./table.ts";

/** What one attempt gave. */
export type AttemptOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | {
    readonly ok: false;
    readonly error: GatewayError;
    /**
     * `retry`: the upstream failed (connection, timeout, 429, 5xx): retry, cool down, fall back.
     * `skip`: this target cannot serve this request (a parameter its provider cannot carry):
     * try another target or model. `stop`: the request itself is wrong: answer now.
     */
    readonly next: "retry" | "skip" | "stop";
  };

/** One attempt to make. */
export interface Attempt {
  readonly target: RouteTarget;
  readonly model: ModelRoute;
  /** Idle timeout of this attempt: the model's, or less when the deadline is nearer. */
  readonly timeoutMs: number;
  /** 1 for the first attempt of the request. */
  readonly number: number;
}

/** What the runner needs from outside. */
export interface AttemptDeps {
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly breakers: Breakers;
  readonly log: Logger;
  /**
   * Ends the attempts early (client gone, shutdown): one signal, or several, any of which ends
   * them (combined only when a retry waits, so the common single attempt builds no composite).
   */
  readonly signal?: AbortSignal | readonly AbortSignal[] | undefined;
  /** The error to answer when `signal` ended the attempts; default: shutting down. */
  readonly abortError?: (() => GatewayError) | undefined;
  readonly requestId?: string | undefined;
}

/** The attempt that succeeded. */
export interface Served<T> {
  readonly value: T;
  readonly target: RouteTarget;
  readonly attempts: number;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 4_000;

/** Milliseconds a `Retry-After` value asks for (seconds or an HTTP date); undefined if unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before retry number `retry` (0-based): exponential with equal jitter, and never
 * shorter than what `Retry-After` asks.
 */
export function backoffMs(retry: number, retryAfter: number | undefined, random: number): number {
  const base = Math.min(BACKOFF_BASE_MS * 2 ** retry, BACKOFF_CAP_MS);
  const jittered = Math.round(base / 2 + (random * base) / 2);
  return Math.max(jittered, retryAfter ?? 0);
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs the attempts of a plan until one succeeds.
 *
 * @throws {GatewayError} the request's own error (`stop`), else the last upstream failure, else
 *   why no target could serve it.
 */
export async function runPlan<T>(
  plan: RoutePlan & { kind: "upstream" },
  attempt: (attempt: Attempt) => Promise<AttemptOutcome<T>>,
  deps: AttemptDeps,
): Promise<Served<T>> {
  const { breakers, log } = deps;
  const deadline = deps.now() + plan.deadlineMs;
  const skipped = new Set<string>();
  let upstreamError: GatewayError | undefined;
  let refusal: GatewayError | undefined;
  let count = 0;

  /** One attempt; a result to return, or whether the model may go on retrying. */
  async function once(
    model: ModelRoute,
    target: RouteTarget,
    failedHere: Set<string>,
  ): Promise<Served<T> | "failed" | "skipped"> {
    count += 1;
    breakers.attempting(target.key);
    const timeoutMs = Math.max(1, Math.min(model.timeoutMs, deadline - deps.now()));
    const outcome = await attempt({ target, model, timeoutMs, number: count });
    if (outcome.ok) {
      breakers.succeeded(target.key);
      return { value: outcome.value, target, attempts: count };
    }
    const { error } = outcome;
    if (outcome.next !== "retry") breakers.released(target.key);
    if (outcome.next === "stop") throw error;
    if (outcome.next === "skip") {
      skipped.add(target.key);
      refusal ??= error;
      return "skipped";
    }
    failedHere.add(target.key);
    upstreamError = error;
    const opened = breakers.failed(target.key);
    log.warn("upstream attempt failed", {
      request_id: deps.requestId,
      model: model.name,
      target: target.key,
      attempt: count,
      status: error.status,
      code: error.code,
      ...(opened ? { cooled_down: true } : {}),
    });
    return "failed";
  }

  const signals = deps.signal === undefined
    ? []
    : deps.signal instanceof AbortSignal
    ? [deps.signal]
    : deps.signal;
  const aborted = () => signals.some((signal) => signal.aborted);
  const waitSignal = () => signals.length < 2 ? signals[0] : AbortSignal.any([...signals]);
  for (const model of plan.chain) {
    const failedHere = new Set<string>();
    for (let retry = 0; retry <= model.retries && !aborted();) {
      if (deps.now() >= deadline) break;
      const target = pickTarget(model.targets, (t) =>
        skipped.has(t.key) || failedHere.has(t.key) ||
        !breakers.allows(t.key), deps.random) ??
        pickTarget(
          model.targets,
          (t) => skipped.has(t.key) || !breakers.allows(t.key),
          deps.random,
        );
      if (target === undefined) break;
      const result = await once(model, target, failedHere);
      if (typeof result === "object") return result;
      if (result === "skipped") continue;
      if (retry === model.retries) break;
      // No target left to retry (the failure cooled the last one down): fall back without waiting.
      if (!model.targets.some((t) => !skipped.has(t.key) && breakers.allows(t.key))) break;
      const wait = backoffMs(
        retry,
        retryAfterMs(upstreamError?.headers["retry-after"], deps.now()),
        deps.random(),
      );
      retry += 1;
      // A wait past the deadline is not taken: the fallbacks (other providers) go at once.
      if (deps.now() + wait >= deadline) break;
      await deps.sleep(wait, waitSignal());
    }
    if (aborted()) break;
  }
  // Every target cooled down: rather than refuse without trying, try the first model once.
  if (count === 0 && !aborted() && deps.now() < deadline) {
    const first = plan.chain[0];
    const target = first === undefined
      ? undefined
      : pickTarget(first.targets, (t) => skipped.has(t.key), deps.random);
    if (first !== undefined && target !== undefined) {
      const result = await once(first, target, new Set());
      if (typeof result === "object") return result;
    }
  }
  if (aborted()) throw deps.abortError?.() ?? errors.shuttingDown();
  if (upstreamError !== undefined) throw upstreamError;
  if (refusal !== undefined) throw refusal;
  throw errors.upstreamTimeout("No upstream answered before the model's deadline");
}
