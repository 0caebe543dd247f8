/**
 * What the chat, embeddings and Messages routes share around one upstream attempt: the target's
 * request settings, the provider's extra headers, sending with the attempt's timeout, reading a
 * whole answer or opening a held stream, and how a failure decides between retrying elsewhere
 * and answering the client now.
 */
import { errors, GatewayError, toGatewayError } from "../errors.ts";
import type { ProviderTarget } from "../providers/mod.ts";
import { type Attempt, type AttemptOutcome, runPlan, type Served } from "../routing/attempts.ts";
import type { RoutePlan } from "../routing/route.ts";
import type { RouteTarget } from "../routing/table.ts";
import { SSE_HEADERS } from "../sse.ts";
import {
  type EventTranslator,
  type KeepAlive,
  openUpstreamStream,
  type SseWriter,
  type StreamOutcome,
} from "../streaming/client_stream.ts";
import {
  parseJsonOrUndefined,
  readUpstreamText,
  sendUpstream,
  type UpstreamCall,
} from "../upstream.ts";
import type { RequestContext, RouteDeps } from "./context.ts";
import type { ProviderRequest } from "../http/provider_request.ts";
import type { UpstreamTimer } from "../observe/timer.ts";
import { attemptOutcome } from "../observe/labels.ts";
import { toPricedTarget } from "../spend/priced_target.ts";

/** The provider settings an adapter needs to build a request for `target`. */
export function providerTarget(target: RouteTarget): ProviderTarget {
  const { provider } = target;
  return {
    model: target.model,
    baseUrl: provider.baseUrl,
    apiKey: provider.apiKey,
    apiVersion: provider.apiVersion,
    streamUsage: provider.streamUsage,
  };
}

/**
 * Whether an upstream failure is the upstream's (retry, cool down, fall back: connection errors,
 * timeouts, 429, 5xx) or the request's own (answer it now).
 */
export function failure<T>(error: GatewayError): AttemptOutcome<T> {
  const upstreamFault = error.status >= 500 || error.status === 429 || error.status === 408;
  return { ok: false, error, next: upstreamFault ? "retry" : "stop" };
}

/**
 * Sends an adapter's request with the provider's extra headers and the attempt's timeout; a
 * failure to get response headers is the attempt's outcome.
 */
export async function sendAttempt(
  request: ProviderRequest,
  attempt: Attempt,
  clientSignal: AbortSignal,
  deps: RouteDeps,
  timer: UpstreamTimer,
): Promise<AttemptOutcome<UpstreamCall>> {
  for (const [name, value] of Object.entries(attempt.target.provider.headers)) {
    request.headers.set(name, value);
  }
  deps.tracing?.inject(request.headers);
  timer.begin();
  try {
    const call = await sendUpstream(request, {
      fetch: deps.fetch,
      idleTimeoutMs: attempt.model.timeoutMs,
      firstTimeoutMs: attempt.timeoutMs,
      deadlines: deps.deadlines,
      provider: attempt.target.provider.name,
      signal: deps.shutdownSignal,
      clientSignal,
      maxAnswerBytes: deps.config.maxResponseBytes,
    });
    return { ok: true, value: call };
  } catch (error) {
    return failure(toGatewayError(error));
  } finally {
    timer.end();
  }
}

/**
 * Reads a whole upstream answer (at most `CHOREOAI_MAX_RESPONSE_BYTES` of it, error bodies too)
 * and releases the call: its text, or the provider's error (through its adapter) for a non-2xx
 * status, or the read's own failure (502 past the limit).
 */
export async function readAnswer(
  call: UpstreamCall,
  attempt: Attempt,
  timer: UpstreamTimer,
): Promise<AttemptOutcome<string>> {
  const { response } = call;
  let text: string;
  timer.begin();
  try {
    text = await readUpstreamText(call);
  } catch (error) {
    return failure(toGatewayError(error));
  } finally {
    timer.end();
    call.close();
  }
  if (response.ok) return { ok: true, value: text };
  const { adapter } = attempt.target.provider;
  return failure(
    adapter.fromError(
      response.status,
      parseJsonOrUndefined(text),
      response.headers,
      attempt.target,
    ),
  );
}

/**
 * Records which target served, in the log line, the response headers and (for its price) the
 * request's fields.
 */
export function servedBy(
  served: Served<unknown>,
  ctx: RequestContext,
  headers: Record<string, string>,
): void {
  const { target } = served;
  ctx.fields.provider = target.provider.name;
  ctx.fields.upstream_model = target.model;
  ctx.fields.target = toPricedTarget(target, ctx.fields.model ?? target.model);
  if (served.attempts > 1) ctx.fields.attempts = served.attempts;
  headers["x-choreoai-provider"] = target.provider.name;
}

/**
 * Runs a plan's attempts for one request: they stop when the client goes away or the server
 * shuts down. `attempt` gets the client's signal to pass on to its upstream call.
 */
export function runAttempts<T>(
  plan: RoutePlan & { kind: "upstream" },
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
  attempt: (attempt: Attempt, signal: AbortSignal) => Promise<AttemptOutcome<T>>,
): Promise<Served<T>> {
  const signal = deps.shutdownSignal === undefined
    ? request.signal
    : [request.signal, deps.shutdownSignal];
  return runPlan(plan, observed(deps, (next) => attempt(next, request.signal)), {
    now: deps.now,
    random: deps.random,
    sleep: deps.sleep,
    breakers: deps.breakers,
    log: deps.log,
    signal,
    abortError: () =>
      deps.shutdownSignal?.aborted === true ? errors.shuttingDown() : errors.clientClosed(),
    requestId: ctx.id,
  });
}

/**
 * An attempt function that reports each attempt to the metrics and the provider health tracker,
 * and runs it in a span of its own (when tracing): the first of a request, a retry of the same
 * model, or a fallback model's; how it ended; its time to an answer.
 */
function observed<T>(
  deps: RouteDeps,
  attempt: (attempt: Attempt) => Promise<AttemptOutcome<T>>,
): (attempt: Attempt) => Promise<AttemptOutcome<T>> {
  const { metrics, tracing, providerHealth } = deps;
  if (metrics === undefined && tracing === undefined && providerHealth === undefined) {
    return attempt;
  }
  let lastModel: string | undefined;
  return async (next) => {
    const kind = lastModel === undefined
      ? "first"
      : lastModel === next.model.name
      ? "retry"
      : "fallback";
    lastModel = next.model.name;
    const started = deps.now();
    const outcome = tracing === undefined
      ? await attempt(next)
      : await tracing.attempt({ attempt: next, kind }, () => attempt(next));
    const ms = deps.now() - started;
    if (providerHealth !== undefined && (outcome.ok || outcome.next !== "skip")) {
      // The provider's failures (retry) count as errors; the request's own (stop) do not.
      providerHealth.attempted(
        next.target,
        ms,
        !outcome.ok && outcome.next === "retry" ? outcome.error : undefined,
      );
    }
    metrics?.attemptFinished({
      provider: next.target.provider.name,
      target: next.target.key,
      targetKnown: deps.routing().models.has(next.model.name),
      kind,
      outcome: attemptOutcome(outcome),
      code: outcome.ok ? undefined : outcome.error.code ?? undefined,
      ms,
    });
    return outcome;
  };
}

/** How a streamed answer is rendered for the client. */
export interface StreamRendering<I> {
  readonly translator: EventTranslator<I>;
  readonly writer: SseWriter<I>;
  readonly keepAlive?: KeepAlive | undefined;
}

/**
 * Opens the client's stream of an upstream call that answered a stream request: held until the
 * provider's first output, so a provider that fails before it (or does not answer with an event
 * stream) is a failure the attempts may retry or fall back from; its end is written into the
 * request's log fields.
 */
export async function streamAnswer<I>(
  upstream: UpstreamCall,
  ctx: RequestContext,
  deps: RouteDeps,
  rendering: StreamRendering<I>,
): Promise<AttemptOutcome<Response>> {
  const { response } = upstream;
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.startsWith("text/event-stream") || response.body === null) {
    upstream.close();
    await response.body?.cancel().catch(() => {});
    return failure(
      errors.upstream(
        `${upstream.provider} did not answer the stream request with an event stream`,
      ),
    );
  }
  ctx.upstream.begin();
  const stream = await openUpstreamStream({
    body: response.body,
    translator: rendering.translator,
    writer: rendering.writer,
    keepAlive: rendering.keepAlive,
    touch: upstream.touch,
    explain: upstream.explain,
    close: upstream.close,
    onEnd: (outcome) => recordOutcome(ctx, outcome),
    onFirstByte: () => (ctx.fields.ttfb_ms = deps.now() - ctx.started),
    signal: deps.shutdownSignal,
  }).finally(() => ctx.upstream.end());
  if (stream instanceof GatewayError) return failure(stream);
  return { ok: true, value: new Response(stream, { headers: SSE_HEADERS }) };
}

/** Writes how a stream ended into the request's log fields. */
export function recordOutcome(ctx: RequestContext, outcome: StreamOutcome): void {
  if (outcome.usage !== undefined) ctx.fields.usage = outcome.usage;
  if (outcome.finishReasons !== undefined) ctx.fields.finish_reasons = outcome.finishReasons;
  if (outcome.error !== undefined && outcome.error.code !== null) {
    ctx.fields.error_code = outcome.error.code;
  }
  if (outcome.cancelled) ctx.fields.cancelled = true;
}
