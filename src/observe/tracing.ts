/**
 * OpenTelemetry traces of the gateway's own work, through `@opentelemetry/api` and Deno's
 * built-in exporter (`OTEL_DENO=true`).
 *
 * Each model request gets a span (a child of the HTTP server span Deno makes, which continues
 * the client's `traceparent`), named and described after the GenAI conventions (`gen_ai.ts`)
 * and ended when its answer is completely sent (a stream at its end). Each upstream attempt gets
 * a CLIENT span under it, active while the attempt runs (up to a whole answer, or a stream's
 * first event), so the `traceparent` sent to the provider names the attempt.
 *
 * The API module is passed in: main.ts imports it only when tracing is on, so a gateway without
 * tracing never loads it (this file's imports of it are types only).
 */
import type * as OtelApi from "@opentelemetry/api";
import type { ProviderHeaders } from "../http/provider_request.ts";
import type { ProviderKind } from "../providers/registry.ts";
import type { AttemptOutcome } from "../routing/attempts.ts";
import {
  attemptAttributes,
  attemptEndAttributes,
  type AttemptStart,
  operationOf,
  requestAttributes,
  type RequestEnd,
  requestFailed,
  spanName,
} from "./gen_ai.ts";

/** What the request path asks of tracing. */
export interface Tracing {
  /**
   * Starts the span of a model request (a `POST` to a model endpoint); undefined for any other
   * request, which is not traced by the gateway.
   */
  request(method: string, path: string): RequestTrace | undefined;
  /** Runs one upstream attempt in a span of its own, a child of its request's. */
  attempt<T>(
    start: AttemptStart,
    run: () => Promise<AttemptOutcome<T>>,
  ): Promise<AttemptOutcome<T>>;
  /** Writes the active trace context (`traceparent`, `tracestate`) into a provider request. */
  inject(headers: ProviderHeaders): void;
}

/** The span of one model request. */
export interface RequestTrace {
  /** Runs the request's handling with its span active (its attempts become the span's children). */
  within<T>(handle: () => Promise<T>): Promise<T>;
  /** Ends the span, described by how the request ended. */
  end(end: Omit<RequestEnd, "providerKind">): void;
}

/** Options of {@linkcode createTracing}. */
export interface TracingOptions {
  /** The gateway's version, the tracer's. */
  readonly version?: string;
  /**
   * Write `traceparent` into provider requests (default true). Turn it off when providers are
   * called with Deno's fetch, which writes its own (that of its span, a child of the attempt's).
   */
  readonly propagate?: boolean;
}

/** What a request's context carries for its attempts. */
interface Traced {
  readonly operation: string;
  /** The kind of the provider last tried, for the request's `gen_ai.provider.name`. */
  providerKind: ProviderKind | undefined;
}

/** Builds {@linkcode Tracing} on an `@opentelemetry/api` module (a tracer named `choreoai`). */
export function createTracing(api: typeof OtelApi, options: TracingOptions = {}): Tracing {
  const { trace, context, propagation, SpanKind, SpanStatusCode } = api;
  const tracer = trace.getTracer("choreoai", options.version);
  const REQUEST = api.createContextKey("choreoai.request");
  const setter: OtelApi.TextMapSetter<ProviderHeaders> = {
    set: (carrier, key, value) => carrier.set(key, value),
  };
  const propagate = options.propagate ?? true;
  return {
    request(method, path) {
      const operation = operationOf(method, path);
      if (operation === undefined) return undefined;
      const span = tracer.startSpan(operation, { kind: SpanKind.INTERNAL });
      const traced: Traced = { operation, providerKind: undefined };
      const active = trace.setSpan(context.active(), span).setValue(REQUEST, traced);
      return {
        within: (handle) => context.with(active, handle),
        end(end) {
          span.updateName(spanName(operation, end.fields.model));
          span.setAttributes(
            requestAttributes(operation, { ...end, providerKind: traced.providerKind }),
          );
          if (requestFailed(end)) {
            const message = end.fields.error_code ?? String(end.status);
            span.setStatus({ code: SpanStatusCode.ERROR, message });
          }
          span.end();
        },
      };
    },
    attempt(start, run) {
      const traced = context.active().getValue(REQUEST) as Traced | undefined;
      const operation = traced?.operation;
      const { target } = start.attempt;
      if (traced !== undefined) traced.providerKind = target.provider.kind;
      return tracer.startActiveSpan(
        spanName(operation ?? "attempt", target.model),
        { kind: SpanKind.CLIENT, attributes: attemptAttributes(operation, start) },
        async (span) => {
          try {
            const outcome = await run();
            span.setAttributes(attemptEndAttributes(outcome));
            if (!outcome.ok && outcome.next !== "skip") {
              const message = outcome.error.code ?? String(outcome.error.status);
              span.setStatus({ code: SpanStatusCode.ERROR, message });
            }
            return outcome;
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: "exception" });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
    inject(headers) {
      if (propagate) propagation.inject(context.active(), headers, setter);
    },
  };
}
