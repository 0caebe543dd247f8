/**
 * `createHandler(deps)`: the gateway as a plain `(Request, info) => Promise<Response>`.
 *
 * Order of checks: CORS preflight, `/health` and the admin page (no auth), authentication (for
 * `/metrics` and `/admin/…`: admin keys only, or loopback in development mode; every `/admin`
 * answer gets the admin security headers), then the route table (404 unknown path, 405 wrong
 * method — both after auth so outsiders cannot map routes), then the route. This
 * is the only place errors are caught and rendered, in the shape of the path's dialect (OpenAI's,
 * or Anthropic's under `/v1/messages`). Every answer carries `Server-Timing`; each request is
 * priced once, from the target that served it and its usage (a whole answer before it is sent,
 * a stream when it ends); a budgeted one is settled with that cost and carries its budget
 * headers; each finished request is logged, recorded, counted in the metrics and its span ended.
 */
import { createAdminApiDeps } from "./admin/api/deps.ts";
import { setAdminHeaders } from "./admin/headers.ts";
import { admitAdmin } from "./auth/admin_access.ts";
import type { KeyVerifier, Principal } from "./auth/verifier.ts";
import type { Config } from "./config.ts";
import { createDeadlines } from "./deadlines.ts";
import { type Dialect, dialectOf } from "./dialects/dialect.ts";
import { errors, GatewayError, toGatewayError } from "./errors.ts";
import { addCorsHeaders, createCorsPolicy, isPreflight, preflightResponse } from "./http/cors.ts";
import { MAX_IMAGE_BYTES, MAX_IMAGE_URLS, MAX_REQUEST_IMAGE_BYTES } from "./http/image_fetch.ts";
import { pickRequestId } from "./http/request_id.ts";
import { describeError, type Logger } from "./log.ts";
import { createModelCatalog } from "./models/catalog.ts";
import { sleep } from "./routing/attempts.ts";
import { type Breakers, createBreakers } from "./routing/breaker.ts";
import type { GatewayMetrics } from "./observe/metrics.ts";
import { createUpstreamTimer, roundMs, serverTiming, type UpstreamTimer } from "./observe/timer.ts";
import type { Tracing } from "./observe/tracing.ts";
import { buildRouting } from "./routing/load.ts";
import type { Routing } from "./routing/table.ts";
import type { ResponsesStore } from "./dialects/responses/store.ts";
import type { AccessFields, RouteDeps } from "./routes/context.ts";
import {
  endpointLabel,
  endpointScopeOf,
  findRoute,
  isAdminPagePath,
  isAdminPath,
  LIMITED_ENDPOINTS,
  pathOf,
  recordedEndpoint,
} from "./routes/paths.ts";
import { compileIpScope, resolveClientIp } from "./keys/scopes.ts";
import type { KeyListAccess } from "./keys/key_list_access.ts";
import { createProviderHealth, type ProviderHealth } from "./observe/provider_health.ts";
import type { UsageReader } from "./usage/reader.ts";
import type { UsageRecord } from "./usage/store.ts";
import { type CostMeter, createCostMeter } from "./spend/cost_meter.ts";
import { type Pricing, type RequestCost, toMicroUsd, toUsd } from "./spend/pricing.ts";
import type { RateLimiter } from "./limits/limiter.ts";
import {
  BUDGETED_ENDPOINTS,
  budgetFor,
  type RequestSpend,
  setBudgetHeaders,
  settledCost,
} from "./routes/budgets.ts";
import { type BudgetLedger, createMemoryLedger } from "./spend/ledger.ts";
import {
  countRejected,
  limitsFor,
  NO_LIMITS,
  reconcileTokens,
  type RequestLimits,
  setRateLimitHeaders,
} from "./routes/rate_limits.ts";

/** The gateway's dependencies, built by main.ts (or a test). */
export interface AppDeps {
  readonly config: Config;
  readonly verifier: KeyVerifier;
  readonly fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A fresh random id (hex or similar), for request and completion ids. */
  readonly randomId: () => string;
  readonly log: Logger;
  /** Aborted when the drain period after SIGTERM is over: in-flight work then ends. */
  readonly shutdownSignal?: AbortSignal;
  /** Where one record per authenticated request goes (batched to SQLite by main.ts). */
  readonly usage?: { record(entry: UsageRecord): void };
  /** Per-key rate limits (in process, or shared through Redis); none: unlimited. */
  readonly limiter?: RateLimiter;
  /**
   * Budget counters (in process, or shared through Redis); none: in process, every counter
   * starting from nothing spent.
   */
  readonly ledger?: BudgetLedger;
  /** Resolves a host name to its addresses (for fetching image URLs safely). */
  readonly resolveDns?: (host: string) => Promise<string[]>;
  /**
   * The routing table in force (main.ts watches the routing file); default: built from the
   * configuration alone.
   */
  readonly routing?: () => Routing;
  /** A number in [0, 1), for weighted target choice and backoff jitter; default Math.random. */
  readonly random?: () => number;
  /**
   * Messages streams translated from another provider: a `ping` event after this many ms
   * without output, once the stream has started; default {@linkcode DEFAULT_PING_INTERVAL_MS}.
   */
  readonly pingIntervalMs?: number;
  /**
   * Stored Responses (`store`, `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`), in the
   * usage database; none: nothing is kept, and every response id is unknown (404).
   */
  readonly responses?: ResponsesStore;
  /** Prometheus metrics, served at `GET /metrics`; none: not kept, and `/metrics` is 404. */
  readonly metrics?: GatewayMetrics;
  /** Spans of the gateway's work; none: no tracing (the default, at no cost). */
  readonly tracing?: Tracing;
  /**
   * Prices requests (main.ts: the routing file's prices and `@pydantic/genai-prices`); none:
   * costs are not computed, records carry none, and budgets count every request as free.
   */
  readonly pricing?: Pricing;
  /**
   * Whether the database (CHOREOAI_DATABASE_URL) is failing: the key list may be out of date,
   * usage records wait. `/health` then answers `degraded`; none: no database to watch.
   */
  readonly databaseDegraded?: () => boolean;
  /** The key list the admin API reads and changes; none: it refuses changes (development mode). */
  readonly keyList?: KeyListAccess;
  /** The key list in force, reloaded by the admin API after each change it makes. */
  readonly keyStore?: { reload(): Promise<unknown> };
  /** Recorded usage, for the admin API; none: nothing recorded. */
  readonly usageReader?: UsageReader;
  /** Each target's recent attempts (the admin API's providers); default: a new tracker. */
  readonly providerHealth?: ProviderHealth;
  /** Random bytes for keys the admin API creates; default: Web Crypto. */
  readonly randomBytes?: (length: number) => Uint8Array;
  /**
   * Serves the admin page (`GET /admin`, `/admin/`, `/admin/assets/…`), which needs no key;
   * none: those paths are 404.
   */
  readonly adminPage?: (request: Request, path: string) => Response | Promise<Response>;
}

/** How long a translated Messages stream stays silent before a `ping` (Anthropic sends ~10 s). */
export const DEFAULT_PING_INTERVAL_MS = 10_000;

/** Access-log fields of one request. */
type LogFields = AccessFields & { key?: string; client_ip?: string | undefined };

/** What the router knows of one request while handling it. */
interface RequestState {
  readonly requestId: string;
  /** The endpoint's dialect: how the key is read and errors are rendered. */
  readonly dialect: Dialect;
  /** The TCP peer's address (never `X-Forwarded-For`), if served over TCP. */
  readonly peer: string | undefined;
  readonly started: number;
  readonly fields: LogFields;
  /** Set once the key is verified: only authenticated requests are recorded. */
  keyId: string | undefined;
  /** Set for a limited key on a limited endpoint. */
  limits: RequestLimits | undefined;
  /** Its budget (for a key with one, on a budgeted endpoint). */
  readonly spend: RequestSpend;
  /** Served over HTTP (an `info` came with it): its framing enforces `Content-Length`. */
  readonly framed: boolean;
  /** Time spent waiting for providers. */
  readonly upstream: UpstreamTimer;
}

function fixed<T>(value: T): () => T {
  return () => value;
}

/** Builds the request handler from its dependencies. */
export function createHandler(
  deps: AppDeps,
): (request: Request, info?: Deno.ServeHandlerInfo) => Promise<Response> {
  const { config, log, now } = deps;
  const limiter = deps.limiter ?? NO_LIMITS;
  const ledger = deps.ledger ?? createMemoryLedger({ recorded: () => 0, now });
  const routing = deps.routing ?? fixed(buildRouting(config));
  const providerHealth = deps.providerHealth ?? createProviderHealth(now);
  const breakers = createBreakers(() => routing().breaker, now);
  const routeDeps: RouteDeps = {
    config,
    fetch: deps.fetch,
    now,
    randomId: deps.randomId,
    log,
    routing,
    breakers,
    random: deps.random ?? Math.random,
    sleep,
    catalog: createModelCatalog({
      fetch: deps.fetch,
      now,
      log,
      timeoutMs: Math.min(config.upstreamTimeoutMs, 10_000),
      maxBytes: config.maxResponseBytes,
    }),
    shutdownSignal: deps.shutdownSignal,
    deadlines: createDeadlines(now),
    limiter,
    ledger,
    pingIntervalMs: deps.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    responses: deps.responses,
    metrics: deps.metrics,
    providerHealth,
    admin: createAdminApiDeps(deps, { routing, breakers, providerHealth }),
    tracing: deps.tracing,
    pricing: deps.pricing,
    imageFetch: config.fetchImageUrls && deps.resolveDns !== undefined
      ? {
        fetch: deps.fetch,
        resolve: deps.resolveDns,
        maxBytes: MAX_IMAGE_BYTES,
        maxImages: MAX_IMAGE_URLS,
        maxTotalBytes: MAX_REQUEST_IMAGE_BYTES,
        timeoutMs: 10_000,
      }
      : undefined,
  };
  const { metrics } = deps;
  const meter = deps.pricing === undefined ? undefined : createCostMeter(deps.pricing, log);
  metrics?.watchBreakers(() => breakerStates(routing(), routeDeps.breakers));
  /** Whether rate limits or budgets are counted per replica because Redis cannot be reached. */
  const degraded = () => limiter.status() !== "ok" || ledger.status() !== "ok";
  if (config.redisUrl !== undefined) metrics?.watchRedis(degraded);
  const { databaseDegraded } = deps;
  const cors = createCorsPolicy(config.corsOrigins);
  const trustedProxy = compileIpScope(config.trustedProxies);

  /** The key a request acts as: its credentials verified, or a 401 (or 403 by IP). */
  function authenticate(request: Request, state: RequestState): Principal {
    const auth = state.dialect.credentials(request.headers);
    if (!auth.ok) throw auth.error;
    const verified = deps.verifier.verify(auth.token, { now: now(), ip: state.fields.client_ip });
    if (verified instanceof GatewayError) throw verified;
    return verified;
  }

  async function route(
    request: Request,
    path: string,
    state: RequestState,
  ): Promise<Response> {
    const { fields } = state;
    if (path === "/health" && (request.method === "GET" || request.method === "HEAD")) {
      const unwell = degraded() || databaseDegraded?.() === true;
      return Response.json({ status: unwell ? "degraded" : "ok" });
    }
    // The admin page holds no data: it is served to anyone, before authentication.
    if (isAdminPagePath(path)) {
      if (deps.adminPage === undefined) {
        throw errors.notFound(`Unknown path: ${request.method} ${path}`);
      }
      return await deps.adminPage(request, path);
    }
    const principal = isAdminPath(path)
      ? admitAdmin(path, {
        mode: deps.verifier.mode,
        peer: state.peer,
        authenticate: () => authenticate(request, state),
      })
      : authenticate(request, state);
    state.keyId = principal.id;
    fields.key = principal.id === "dev" ? principal.hint : principal.id;
    const handler = findRoute(request.method, path);
    if (handler instanceof GatewayError) throw handler;
    if (!principal.mayUseEndpoint(endpointScopeOf(path))) {
      throw new GatewayError(`This API key may not call ${path}`, {
        status: 403,
        type: "permission_error",
        code: "endpoint_not_allowed",
      });
    }
    if (LIMITED_ENDPOINTS.has(path)) {
      state.limits = limitsFor(principal, config);
      // The first request that may be priced waits for the price data (loaded on first need).
      const preparing = deps.pricing?.prepare?.();
      if (preparing !== undefined) await preparing;
    }
    if (BUDGETED_ENDPOINTS.has(path)) {
      state.spend.budget = budgetFor(principal, config.defaultBudget, now());
    }
    return await handler(
      request,
      {
        id: state.requestId,
        started: state.started,
        principal,
        fields,
        limits: state.limits,
        spend: state.spend,
        framed: state.framed,
        upstream: state.upstream,
      },
      routeDeps,
    );
  }

  /** Gives back what a finished request did not use of its token reservation. */
  function settleLimits(state: RequestState, status: number): void {
    const { limits, fields } = state;
    if (limits === undefined) return;
    // An error answered before any output used nothing. Otherwise, without a reported usage
    // (a cut stream, a server that does not report it) the reservation stands.
    const used = fields.usage?.total_tokens ?? (status >= 400 ? 0 : undefined);
    reconcileTokens(limiter, limits, used).catch((error) =>
      log.error("rate limit reconciliation failed", describeError(error))
    );
  }

  /** Prices a request once its usage is final (see `priceRequest`), and once only. */
  function price(fields: AccessFields): void {
    if (meter !== undefined && fields.cost_usd === undefined) priceRequest(fields, meter);
  }

  /**
   * Settles a reserved request with its real cost (see `settledCost`). Never throws: a ledger
   * that fails is logged, and the reservation stands.
   */
  async function settleBudget(state: RequestState, status: number): Promise<void> {
    const { budget } = state.spend;
    if (budget?.state !== "reserved") return;
    budget.state = "settled";
    try {
      const { fields } = state;
      price(fields);
      const cost = settledCost(budget, {
        status,
        hasUsage: fields.usage !== undefined,
        priced: fields.cost_usd === undefined ? 0 : toMicroUsd(fields.cost_usd),
      });
      budget.cost = cost;
      const spent = await ledger.settle(budget.account, cost - budget.reserved);
      if (spent !== undefined) budget.spent = spent;
      else if (budget.spent !== undefined) budget.spent += cost - budget.reserved;
    } catch (error) {
      log.error("budget settlement failed", {
        request_id: state.requestId,
        ...describeError(error),
      });
    }
  }

  /**
   * The budget of a request that failed before its reservation: what is spent, for the
   * remaining-budget header. Never throws.
   */
  async function readBudget(state: RequestState): Promise<void> {
    const { budget } = state.spend;
    if (budget?.state !== "open") return;
    try {
      budget.spent = await ledger.peek(budget.account);
    } catch (error) {
      log.error("budget read failed", { request_id: state.requestId, ...describeError(error) });
    }
  }

  function recordUsage(state: RequestState, path: string, status: number, finished: number): void {
    // The admin API's own calls are not usage: the page polls it.
    if (deps.usage === undefined || state.keyId === undefined || path.startsWith("/admin/")) return;
    const { fields } = state;
    deps.usage.record({
      time: state.started,
      key_id: state.keyId,
      endpoint: recordedEndpoint(path),
      model: fields.model ?? null,
      provider: fields.provider ?? null,
      status: fields.error_code !== undefined && status < 400 ? 502 : status,
      prompt_tokens: fields.usage?.prompt_tokens ?? 0,
      completion_tokens: fields.usage?.completion_tokens ?? 0,
      total_tokens: fields.usage?.total_tokens ?? 0,
      latency_ms: finished - state.started,
      ttfb_ms: fields.ttfb_ms ?? null,
      gateway_ms: fields.gateway_ms ?? null,
      upstream_ms: fields.upstream_ms ?? null,
      cost_usd: meter === undefined ? null : fields.cost_usd ?? 0,
      unpriced: fields.unpriced === true,
    });
  }

  /** Reports a finished request to the metrics. */
  function countRequest(
    state: RequestState,
    path: string,
    status: number,
    finished: number,
    stream: boolean,
  ) {
    if (metrics === undefined) return;
    const { fields } = state;
    const { model } = fields;
    metrics.requestFinished({
      endpoint: endpointLabel(path),
      provider: fields.provider,
      model,
      // A public name, or a name a provider answered: not any string a client makes up.
      modelKnown: model !== undefined &&
        (routing().models.has(model) || (status < 400 && fields.provider !== undefined)),
      status: fields.error_code !== undefined && status < 400 ? 502 : status,
      code: fields.error_code,
      durationMs: finished - state.started,
      gatewayMs: fields.gateway_ms ?? finished - state.started,
      promptTokens: fields.usage?.prompt_tokens ?? 0,
      completionTokens: fields.usage?.completion_tokens ?? 0,
      stream,
    });
  }

  return async function handle(request, info) {
    const started = now();
    const path = pathOf(request.url);
    const requestId = pickRequestId(
      request.headers.get("x-request-id"),
      () => `req_${deps.randomId()}`,
    );
    const allowOrigin = cors.allowOrigin(request.headers.get("origin"));
    if (allowOrigin !== null && isPreflight(request)) {
      return preflightResponse(request, allowOrigin);
    }
    metrics?.requestStarted();
    const trace = deps.tracing?.request(request.method, path);

    const peer = info?.remoteAddr.transport === "tcp" ? info.remoteAddr.hostname : undefined;
    const fields: LogFields = {
      client_ip: resolveClientIp(peer, request.headers.get("x-forwarded-for"), trustedProxy),
    };
    const state: RequestState = {
      requestId,
      dialect: dialectOf(path),
      peer,
      started,
      fields,
      keyId: undefined,
      limits: undefined,
      spend: { budget: undefined },
      framed: info !== undefined,
      upstream: createUpstreamTimer(now),
    };
    let response: Response;
    try {
      response = trace === undefined
        ? await route(request, path, state)
        : await trace.within(() => route(request, path, state));
    } catch (error) {
      const gatewayError = toGatewayError(error);
      if (gatewayError.status >= 500 || !(error instanceof GatewayError)) {
        log.error("request failed", { request_id: requestId, ...describeError(error) });
      }
      if (gatewayError.code !== null) fields.error_code = gatewayError.code;
      if (state.limits !== undefined) await countRejected(limiter, state.limits);
      response = state.dialect.renderError(gatewayError);
    }
    const { headers } = response;
    headers.set("x-request-id", requestId);
    if (path === "/admin" || path.startsWith("/admin/")) setAdminHeaders(headers, path);
    if (allowOrigin !== null) addCorsHeaders(headers, allowOrigin);
    if (state.limits?.decision !== undefined) {
      setRateLimitHeaders(headers, state.limits.decision);
    }
    const isStream = headers.get("content-type")?.startsWith("text/event-stream") === true;
    const { budget } = state.spend;
    if (budget !== undefined) {
      // A whole answer is settled before it is sent, so its headers say what it cost.
      if (!isStream) await settleBudget(state, response.status);
      await readBudget(state);
      setBudgetHeaders(headers, budget, { whole: !isStream });
    }

    // Up to now: the whole answer, or a stream's first event (streams are held until then).
    const answered = now();
    const upstreamMs = state.upstream.ms();
    fields.gateway_ms = roundMs(answered - started - (upstreamMs ?? 0));
    if (upstreamMs !== undefined) fields.upstream_ms = roundMs(upstreamMs);
    headers.set("server-timing", serverTiming(fields.gateway_ms, upstreamMs));
    if (!isStream) fields.ttfb_ms = answered - started;
    else metrics?.streamStarted();
    const status = response.status;
    const finish = () => {
      const finished = now();
      price(fields);
      const { target: _target, ...logged } = fields;
      log.info("request", {
        request_id: requestId,
        method: request.method,
        path,
        status,
        duration_ms: roundMs(finished - started),
        ...logged,
        ttfb_ms: fields.ttfb_ms === undefined ? undefined : roundMs(fields.ttfb_ms),
      });
      recordUsage(state, path, status, finished);
      countRequest(state, path, status, finished, isStream);
      settleLimits(state, status);
      void settleBudget(state, status);
      trace?.end({ status, requestId, fields });
    };
    if (info === undefined) finish();
    else info.completed.then(finish, finish);
    return response;
  };
}

/**
 * Writes a finished request's cost into its fields: what its usage cost at the target that
 * served it, 0 for the gateway's own answers (the echo model is free, not unpriced); nothing
 * when it used nothing (an error before any provider answered).
 */
function priceRequest(fields: AccessFields, meter: CostMeter): void {
  const { usage, target } = fields;
  let cost: RequestCost;
  if (target !== undefined && usage !== undefined) cost = meter(target, usage);
  else if (usage !== undefined || target !== undefined) cost = { microUsd: 0, unpriced: false };
  else return;
  fields.cost_usd = toUsd(cost.microUsd);
  if (cost.unpriced) fields.unpriced = true;
}

/** Every configured target's breaker state, and those of targets that failed lately. */
function breakerStates(
  routing: Routing,
  breakers: Breakers,
): Array<readonly [string, "closed" | "open" | "half_open"]> {
  const targets = new Set<string>();
  for (const model of routing.models.values()) {
    for (const route of [model, ...model.fallbacks]) {
      for (const target of route.targets) targets.add(target.key);
    }
  }
  for (const key of breakers.failing()) targets.add(key);
  return [...targets].map((key) => [key, breakers.stateOf(key)] as const);
}
