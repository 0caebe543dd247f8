/**
 * The gateway's Prometheus metrics (`GET /metrics`), rendered by a `prom-client` registry of
 * their own (loaded at the first scrape, with the process metrics). Every label value is bounded (see `labels.ts`): unknown models, targets and codes
 * collapse into `other`, so the number of series stays fixed whatever clients send; no key,
 * prompt or secret is ever a label.
 *
 * The request path calls {@linkcode GatewayMetrics} twice per request; its counters and
 * histograms are plain maps (`series.ts`), rendered by the registry with the rest. Gauges that
 * describe state (in flight, breakers, Redis fallback) are read at scrape time.
 */
import type { Metric, Registry } from "prom-client";
import {
  type BoundedLabel,
  boundedLabel,
  codeLabel,
  dialectLabel,
  OTHER,
  statusClass,
} from "./labels.ts";
import { SeriesCounter, SeriesGauge, SeriesHistogram } from "./series.ts";

/** The Prometheus text exposition's content type (version 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** How one request ended, in the terms of its labels and timings. */
export interface RequestSummary {
  /** The endpoint, with ids written `{id}`; `other` for unknown paths. */
  readonly endpoint: string;
  /** The provider that served (or was last tried); undefined: none. */
  readonly provider: string | undefined;
  /** The public model name the client sent; undefined: none. */
  readonly model: string | undefined;
  /**
   * Whether `model` is a name worth its own series (a public name, or one a provider answered);
   * others keep a series only when an earlier request earned them one, else they are `other`.
   */
  readonly modelKnown: boolean;
  readonly status: number;
  /** The error code answered (ours or the provider's), if any. */
  readonly code: string | undefined;
  readonly durationMs: number;
  /** Time not spent waiting for a provider. */
  readonly gatewayMs: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Answered as an event stream. */
  readonly stream: boolean;
}

/** One upstream attempt's end. */
export interface AttemptSummary {
  readonly provider: string;
  /** `provider/model`, the breaker's key. */
  readonly target: string;
  /**
   * Whether the target is named in the routing file; others (any `provider/name` a client can
   * make up) keep a series only once one of their attempts succeeded, else they are `other`.
   */
  readonly targetKnown: boolean;
  /** `first` attempt of a request, a `retry` of the same model, or a `fallback` model's. */
  readonly kind: "first" | "retry" | "fallback";
  /** `success`, `error` (the provider failed), `skipped` (cannot carry it), `refused` (4xx). */
  readonly outcome: "success" | "error" | "skipped" | "refused";
  readonly code: string | undefined;
  /** Send to answer (for a stream: to its first event). */
  readonly ms: number;
}

/** A circuit breaker's state: 0 closed, 1 open, 2 half-open. */
export type BreakerState = "closed" | "open" | "half_open";

/** The gateway's metrics. */
export interface GatewayMetrics {
  /** A request arrived (in-flight gauge). */
  requestStarted(): void;
  /** A request's answer is an event stream (in-flight streams gauge) until it finishes. */
  streamStarted(): void;
  /** A request finished (its body sent or the client gone). */
  requestFinished(summary: RequestSummary): void;
  /** An upstream attempt ended. */
  attemptFinished(summary: AttemptSummary): void;
  /** A watched file (`keys`, `routing`) was reloaded, or failed to be. */
  reloaded(file: "keys" | "routing", ok: boolean): void;
  /** Reads breaker states at scrape time: every configured target, and any not closed. */
  watchBreakers(states: () => Iterable<readonly [target: string, state: BreakerState]>): void;
  /**
   * Reads whether rate limits fell back to in-process counting (Redis unreachable); a gateway
   * without Redis does not call it and has no such gauge.
   */
  watchRedis(fallback: () => boolean): void;
  /**
   * Reads whether the database (CHOREOAI_DATABASE_URL) is failing (key list or usage writes) and
   * how many usage records wait to be written; a gateway without one does not call it.
   */
  watchDatabase(state: { degraded: () => boolean; queued: () => number }): void;
  /** Usage records were dropped because the queue of unwritten records was full. */
  usageDropped(count: number): void;
  /** The exposition's content type. */
  readonly contentType: string;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
}

/** Options of {@linkcode createMetrics}. */
export interface MetricsOptions {
  /** The gateway's version, in `choreoai_build_info`. */
  readonly version: string;
  /** Also export the process's own metrics (CPU, RSS, heap, event-loop lag): the server's. */
  readonly processMetrics?: boolean;
  /** Most distinct models, targets and providers kept as label values; default 200. */
  readonly labelLimit?: number;
}

const SECONDS = 1 / 1000;
const DURATION_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
];
const TTFB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const OVERHEAD_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];
const BREAKER_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

/** Creates the metrics in a registry of their own. */
export function createMetrics(options: MetricsOptions): GatewayMetrics {
  const limit = options.labelLimit ?? 200;
  const models: BoundedLabel = boundedLabel(limit);
  const targets: BoundedLabel = boundedLabel(limit);
  const providers: BoundedLabel = boundedLabel(limit);
  const provider = (name: string | undefined) => name === undefined ? "" : providers.of(name);

  const requests = new SeriesCounter(
    "choreoai_requests_total",
    "Requests answered, by dialect, endpoint, provider, model, status class and error code.",
    ["dialect", "endpoint", "provider", "model", "status", "code"],
  );
  const duration = new SeriesHistogram(
    "choreoai_request_duration_seconds",
    "Time from a request's arrival to the end of its answer (a stream's last byte).",
    ["dialect", "endpoint", "provider", "model"],
    DURATION_BUCKETS,
  );
  const overhead = new SeriesHistogram(
    "choreoai_gateway_overhead_seconds",
    "Time a request spent in the gateway, not waiting for a provider (Server-Timing gateway).",
    ["dialect", "endpoint"],
    OVERHEAD_BUCKETS,
  );
  const tokens = new SeriesCounter(
    "choreoai_tokens_total",
    "Tokens as the provider reported them (estimated where it does not), by type.",
    ["dialect", "provider", "model", "type"],
  );
  const refusals = new SeriesCounter(
    "choreoai_limit_refusals_total",
    "Requests refused by a key's rate limit (rate_limit) or budget (budget).",
    ["dialect", "endpoint", "limit"],
  );
  const ttfb = new SeriesHistogram(
    "choreoai_upstream_ttfb_seconds",
    "Time from sending a request to a provider to its answer (for a stream: its first event).",
    ["provider", "target"],
    TTFB_BUCKETS,
  );
  const attempts = new SeriesCounter(
    "choreoai_upstream_attempts_total",
    "Upstream attempts by target, kind (first, retry, fallback) and outcome.",
    ["provider", "target", "kind", "outcome"],
  );
  const upstreamErrors = new SeriesCounter(
    "choreoai_upstream_errors_total",
    "Upstream attempts that failed (connection, timeout, 429, 5xx, refusals), by code.",
    ["provider", "target", "code"],
  );
  let inFlight = 0;
  let streams = 0;
  const reloads = new SeriesCounter(
    "choreoai_reloads_total",
    "Reloads of the key list and the routing file, by result (success, failure).",
    ["file", "result"],
  );
  let breakerStates: () => Iterable<readonly [string, BreakerState]> = () => [];
  let redisFallback: (() => boolean) | undefined;
  let database: { degraded: () => boolean; queued: () => number } | undefined;
  const usageDropped = new SeriesCounter(
    "choreoai_usage_records_dropped_total",
    "Usage records dropped because too many waited to be written (the database unreachable).",
    [],
  );
  const gauges = [
    new SeriesGauge("choreoai_in_flight_requests", "Requests being answered now.", [], () => [
      [[], inFlight],
    ]),
    new SeriesGauge("choreoai_in_flight_streams", "Event-stream answers open now.", [], () => [
      [[], streams],
    ]),
    new SeriesGauge(
      "choreoai_breaker_state",
      "Circuit breaker per target: 0 closed, 1 open (cooling down), 2 half-open (probing).",
      ["provider", "target"],
      function* () {
        for (const [target, state] of breakerStates()) {
          const label = targets.of(target);
          if (label === OTHER) continue;
          yield [[provider(target.split("/")[0]), label], BREAKER_VALUES[state]];
        }
      },
    ),
    new SeriesGauge(
      "choreoai_redis_fallback",
      "1 while rate limits and budgets are counted per replica because Redis cannot be " +
        "reached; 0 while they are shared through Redis (absent without Redis).",
      [],
      () => redisFallback === undefined ? [] : [[[], redisFallback() ? 1 : 0]],
    ),
    new SeriesGauge(
      "choreoai_database_degraded",
      "1 while the database (CHOREOAI_DATABASE_URL) cannot be read or written: the last good key " +
        "list is served and usage records wait; 0 otherwise (absent without a database).",
      [],
      () => database === undefined ? [] : [[[], database.degraded() ? 1 : 0]],
    ),
    new SeriesGauge(
      "choreoai_usage_records_queued",
      "Usage records waiting to be written to the database (absent without a database).",
      [],
      () => database === undefined ? [] : [[[], database.queued()]],
    ),
    new SeriesGauge("choreoai_build_info", "The gateway's version (always 1).", ["version"], () => [
      [[options.version], 1],
    ]),
  ];
  const ours = [
    requests,
    duration,
    overhead,
    tokens,
    refusals,
    ttfb,
    attempts,
    upstreamErrors,
    reloads,
    usageDropped,
    ...gauges,
  ];
  // prom-client (and the process metrics it collects) is loaded at the first scrape: a gateway
  // nobody scrapes never pays for it in start-up time or memory.
  let registry: Promise<Registry> | undefined;
  const load = async (): Promise<Registry> => {
    const { default: client } = await import("prom-client");
    const created = new client.Registry();
    for (const metric of ours) created.registerMetric(metric as unknown as Metric);
    if (options.processMetrics === true) client.collectDefaultMetrics({ register: created });
    return created;
  };

  return {
    requestStarted: () => void inFlight++,
    streamStarted: () => void streams++,
    requestFinished(summary) {
      inFlight--;
      if (summary.stream) streams--;
      const { endpoint } = summary;
      const dialect = dialectLabel(endpoint);
      const providerLabel = provider(summary.provider);
      const model = summary.model === undefined
        ? ""
        : summary.modelKnown
        ? models.of(summary.model)
        : models.known(summary.model);
      const code = codeLabel(summary.code);
      requests.inc([dialect, endpoint, providerLabel, model, statusClass(summary.status), code]);
      duration.observe([dialect, endpoint, providerLabel, model], summary.durationMs * SECONDS);
      overhead.observe([dialect, endpoint], summary.gatewayMs * SECONDS);
      if (summary.promptTokens > 0) {
        tokens.inc([dialect, providerLabel, model, "prompt"], summary.promptTokens);
      }
      if (summary.completionTokens > 0) {
        tokens.inc([dialect, providerLabel, model, "completion"], summary.completionTokens);
      }
      if (code === "rate_limit_exceeded") refusals.inc([dialect, endpoint, "rate_limit"]);
      else if (code === "insufficient_quota") refusals.inc([dialect, endpoint, "budget"]);
    },
    attemptFinished(summary) {
      const target = summary.targetKnown || summary.outcome === "success"
        ? targets.of(summary.target)
        : targets.known(summary.target);
      const providerLabel = provider(summary.provider);
      attempts.inc([providerLabel, target, summary.kind, summary.outcome]);
      if (summary.outcome === "success") {
        ttfb.observe([providerLabel, target], summary.ms * SECONDS);
      } else if (summary.outcome !== "skipped") {
        upstreamErrors.inc([providerLabel, target, codeLabel(summary.code) || "other"]);
      }
    },
    reloaded(file, ok) {
      reloads.inc([file, ok ? "success" : "failure"]);
    },
    watchBreakers(states) {
      breakerStates = states;
    },
    watchDatabase(state) {
      database = state;
    },
    usageDropped(count) {
      if (count > 0) usageDropped.inc([], count);
    },
    watchRedis(fallback) {
      redisFallback = fallback;
    },
    contentType: PROMETHEUS_CONTENT_TYPE,
    async render() {
      registry ??= load();
      return await (await registry).metrics();
    },
  };
}
