/** Per-request state shared by the router, the route handlers and the access log. */
import { GatewayError } from "../errors.ts";
import { readJsonBody } from "../http/body.ts";
import type { Principal } from "../auth/verifier.ts";
import type { AdminApiDeps } from "../admin/api/deps.ts";
import type { Config } from "../config.ts";
import type { Deadlines } from "../deadlines.ts";
import type { RateLimiter } from "../limits/limiter.ts";
import type { ImageFetchDeps } from "../http/image_fetch.ts";
import type { RequestLimits } from "./rate_limits.ts";
import type { RequestSpend } from "./budgets.ts";
import type { BudgetLedger } from "../spend/ledger.ts";
import type { Logger } from "../log.ts";
import type { ModelCatalog } from "../models/catalog.ts";
import type { RecordedUsage } from "../openai/usage.ts";
import type { Breakers } from "../routing/breaker.ts";
import type { Routing } from "../routing/table.ts";
import type { ResponsesStore } from "../dialects/responses/store.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import type { ProviderHealth } from "../observe/provider_health.ts";
import type { UpstreamTimer } from "../observe/timer.ts";
import type { Tracing } from "../observe/tracing.ts";
import type { PricedTarget, Pricing } from "../spend/pricing.ts";

/** What the access log line says beyond method, path, status and duration. */
export interface AccessFields {
  model?: string;
  provider?: string;
  /** The model name the serving provider knows (a deployment, a public name's target). */
  upstream_model?: string;
  /** Attempts made, when more than one (retries, fallbacks). */
  attempts?: number;
  stream?: boolean;
  /**
   * Tokens used, with the shares billed at other prices (`cache_read_tokens`,
   * `cache_write_tokens`, `reasoning_tokens`) when there are any.
   */
  usage?: RecordedUsage;
  /**
   * Where the request was served, as its price depends on it (set with `provider`); not logged.
   * Undefined when no provider served it (an error, or the gateway's own echo model).
   */
  target?: PricedTarget;
  /** The request's cost in US dollars (whole micro-dollars), once it is known. */
  cost_usd?: number;
  /** Set when the serving model has no known price: `cost_usd` is 0, not a guess. */
  unpriced?: boolean;
  /** How the answer's choices ended, in OpenAI's words (`stop`, `length`, `tool_calls`, …). */
  finish_reasons?: readonly string[];
  error_code?: string;
  cancelled?: boolean;
  /** Time to the first byte of the body, for streams (ms). */
  ttfb_ms?: number;
  /** Server-Timing's two numbers (ms): time in the gateway, and waiting for providers. */
  gateway_ms?: number;
  upstream_ms?: number;
}

/** One authenticated request being handled. */
export interface RequestContext {
  readonly id: string;
  /** When the request arrived (ms since the epoch, from the injected clock). */
  readonly started: number;
  readonly principal: Principal;
  readonly fields: AccessFields;
  /** This request's rate limits, when its key has any. */
  readonly limits: RequestLimits | undefined;
  /** Its budget (shared with the router, which settles it). */
  readonly spend: RequestSpend;
  /** It came over HTTP (Deno.serve), which enforces its `Content-Length`; not built in code. */
  readonly framed?: boolean | undefined;
  /** Time this request spends waiting for providers (Server-Timing's `upstream`). */
  readonly upstream: UpstreamTimer;
}

/** Everything route handlers use, built once by `createHandler`. */
export interface RouteDeps {
  readonly config: Config;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly randomId: () => string;
  readonly log: Logger;
  /** The routing table in force now (the routing file may be reloaded). */
  readonly routing: () => Routing;
  readonly breakers: Breakers;
  /** A number in [0, 1), for weighted choices and jitter. */
  readonly random: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly catalog: ModelCatalog;
  readonly shutdownSignal: AbortSignal | undefined;
  /** Shared idle deadlines (request bodies, upstream calls). */
  readonly deadlines: Deadlines;
  readonly limiter: RateLimiter;
  /** Budget counters (in process, or shared through Redis). */
  readonly ledger: BudgetLedger;
  /** How http(s) image URLs are fetched for providers that need bytes; undefined: refused. */
  readonly imageFetch: ImageFetchDeps | undefined;
  /** Translated Messages streams: ms of provider silence before a `ping` event. */
  readonly pingIntervalMs: number;
  /** Stored Responses (`store`); none: nothing is kept, every response id is unknown (404). */
  readonly responses: ResponsesStore | undefined;
  /** Prometheus metrics; none when turned off. */
  readonly metrics: GatewayMetrics | undefined;
  /** What the admin API (`/admin/api/…`) works with. */
  readonly admin: AdminApiDeps | undefined;
  /** Each target's recent attempts, errors and latencies (the admin API's providers page). */
  readonly providerHealth: ProviderHealth | undefined;
  /** Spans of upstream attempts and trace context for providers; none when tracing is off. */
  readonly tracing: Tracing | undefined;
  /**
   * Prices of requests (routing-file and package prices); none: costs are not computed, and
   * budgets count every request as free.
   */
  readonly pricing: Pricing | undefined;
}

/** Records the model asked for, and refuses it (403) when the key may not use it. */
export function requireModelScope(ctx: RequestContext, model: string): void {
  ctx.fields.model = model;
  if (ctx.principal.mayUseModel(model)) return;
  throw new GatewayError(`This API key may not use the model "${model}"`, {
    status: 403,
    type: "permission_error",
    code: "model_not_allowed",
    param: "model",
  });
}

/** Reads a route's JSON body within the configured size and time limits. */
export function readRequestBody(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<unknown> {
  return readJsonBody(request, {
    maxBytes: deps.config.maxBodyBytes,
    timeoutMs: deps.config.bodyTimeoutMs,
    deadlines: deps.deadlines,
    framed: ctx.framed,
  });
}
