/**
 * A fake OpenTelemetry collector on 127.0.0.1: it takes OTLP/HTTP JSON exports (`POST
 * /v1/traces`, and answers `/v1/metrics` and `/v1/logs` without keeping them) and keeps every
 * span, its attribute values decoded.
 */

/** One span as exported, with its resource's service name and its scope (tracer) name. */
export interface ExportedSpan {
  readonly service: string | undefined;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** The span kind number as exported. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string };
}

/** A running fake collector. */
export interface FakeCollector extends AsyncDisposable {
  /** For `OTEL_EXPORTER_OTLP_ENDPOINT`: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly spans: ExportedSpan[];
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttribute[];
  status?: { code?: number; message?: string };
}

interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

function decode(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(decode);
  return undefined;
}

function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, decode(value)]));
}

/** Flattens one `/v1/traces` export into its spans. */
export function spansOf(body: OtlpTraces): ExportedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resource) => {
    const service = attributesOf(resource.resource?.attributes)["service.name"];
    return (resource.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service: typeof service === "string" ? service : undefined,
        scope: scope.scope?.name ?? "",
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? "",
        name: span.name,
        kind: span.kind,
        startTimeUnixNano: BigInt(span.startTimeUnixNano),
        endTimeUnixNano: BigInt(span.endTimeUnixNano),
        attributes: attributesOf(span.attributes),
        status: { code: span.status?.code ?? 0, message: span.status?.message ?? "" },
      }))
    );
  });
}

/** Starts the collector on a free port. */
export function startFakeCollector(): FakeCollector {
  const spans: ExportedSpan[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    const text = await request.text();
    if (request.method !== "POST") return new Response(null, { status: 405 });
    if (path === "/v1/traces") spans.push(...spansOf(JSON.parse(text)));
    return Response.json({});
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    spans,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
