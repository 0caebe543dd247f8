/**
 * OpenTelemetry traces of the gateway's own work, through `@opentelemetry/api` and Deno's
 * built-in exporter (`OTEL_DENO=true`).
 */
import type { ProviderHeaders } from "../http/provider_request.ts";

/** What the request path asks of tracing. */
export interface Tracing {
  /** Writes the active trace context (`traceparent`, `tracestate`) into a provider request. */
  inject(headers: ProviderHeaders): void;
}
