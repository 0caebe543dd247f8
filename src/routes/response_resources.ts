/**
 * `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`
 * for the responses of the calling key.
 *
 * A response the gateway translated is read from (or deleted in) the store; the gateway answers
 * itself (`x-choreoai-provider: choreoai`). A response passed through to OpenAI or Azure is kept
 * by that provider: the call is forwarded to it with the gateway's key and the client's query
 * (`include`, paging), and its answer passed back as it is; a `DELETE` it confirms (or a 404 it
 * answers) removes the gateway's record too. An id this key does not have (another key's,
 * expired, deleted, `store: false`) is 404. These calls reserve no tokens and are not counted
 * against a key's rate limits.
 */
import {
  parseInputItemsQuery,
  responseNotFound,
  type ResponseRecord,
} from "../dialects/responses/mod.ts";
import { GatewayError, toGatewayError } from "../errors.ts";
import type { ResponseResource } from "../providers/mod.ts";
import { parseJsonOrUndefined, readUpstreamText, sendUpstream } from "../upstream.ts";
import type { RequestContext, RouteDeps } from "./context.ts";
import { PASS_EVENTS } from "./responses.ts";
import { streamAnswer } from "./upstream_attempt.ts";
import { timed } from "../observe/timer.ts";

const GATEWAY = { "x-choreoai-provider": "choreoai" };

/** The key's record of `id`, or the 404. */
async function recordOf(id: string, ctx: RequestContext, deps: RouteDeps) {
  const record = await deps.responses?.get(ctx.principal.id, id);
  if (record === undefined) throw responseNotFound(id);
  return record;
}

/** Handles `GET /v1/responses/{id}`. */
export async function handleRetrieveResponse(
  id: string,
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const record = await recordOf(id, ctx, deps);
  if (record.kind === "stored") {
    ctx.fields.provider = "choreoai";
    return Response.json(record.response, { headers: GATEWAY });
  }
  return await forward(record, resource("GET", id, false, request), request, ctx, deps);
}

/** Handles `DELETE /v1/responses/{id}`. */
export async function handleDeleteResponse(
  id: string,
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const record = await recordOf(id, ctx, deps);
  if (record.kind === "native") {
    return await forward(record, resource("DELETE", id, false, request), request, ctx, deps);
  }
  if (await deps.responses?.delete(ctx.principal.id, id) !== true) throw responseNotFound(id);
  ctx.fields.provider = "choreoai";
  return Response.json({ id, object: "response.deleted", deleted: true }, { headers: GATEWAY });
}

/** Handles `GET /v1/responses/{id}/input_items`. */
export async function handleListInputItems(
  id: string,
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const query = parseInputItemsQuery(new URL(request.url).searchParams);
  if (query instanceof GatewayError) throw query;
  const record = await recordOf(id, ctx, deps);
  if (record.kind === "native") {
    return await forward(record, resource("GET", id, true, request), request, ctx, deps);
  }
  const list = await deps.responses?.inputItems(ctx.principal.id, id, query);
  if (list === undefined) throw responseNotFound(id);
  ctx.fields.provider = "choreoai";
  return Response.json(list, { headers: GATEWAY });
}

function resource(
  method: "GET" | "DELETE",
  id: string,
  inputItems: boolean,
  request: Request,
): ResponseResource {
  return { method, id, inputItems, search: new URL(request.url).search };
}

/**
 * Forwards a call on a natively passed-through response to the provider that keeps it, and
 * passes its answer back (a stream, for `GET …?stream=true` of a background response, as it
 * comes).
 */
async function forward(
  record: ResponseRecord,
  target: ResponseResource,
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const routing = deps.routing();
  const provider = routing.providers.get(record.provider);
  const native = provider?.adapter.responses;
  if (provider === undefined || native === undefined) {
    throw new GatewayError(
      `Response '${record.id.slice(0, 100)}' is kept by the provider ${record.provider}, ` +
        "which the gateway no longer has",
      { status: 502, type: "api_error", code: "upstream_error" },
    );
  }
  ctx.fields.provider = provider.name;
  const upstreamRequest = native.resourceRequest(target, {
    baseUrl: provider.baseUrl,
    apiKey: provider.apiKey,
    apiVersion: provider.apiVersion,
    streamUsage: provider.streamUsage,
  });
  for (const [name, value] of Object.entries(provider.headers)) {
    upstreamRequest.headers.set(name, value);
  }
  deps.tracing?.inject(upstreamRequest.headers);
  const call = await timed(ctx.upstream, () =>
    sendUpstream(upstreamRequest, {
      fetch: deps.fetch,
      idleTimeoutMs: routing.defaultTimeoutMs,
      deadlines: deps.deadlines,
      provider: provider.name,
      signal: deps.shutdownSignal,
      clientSignal: request.signal,
      maxAnswerBytes: deps.config.maxResponseBytes,
    }));
  const headers = { "x-choreoai-provider": provider.name };
  const { response } = call;
  if (response.ok && response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const streamed = await streamAnswer(call, ctx, deps, {
      translator: PASS_EVENTS,
      writer: native.streamWriter(),
    });
    if (!streamed.ok) throw streamed.error;
    for (const [name, value] of Object.entries(headers)) streamed.value.headers.set(name, value);
    return streamed.value;
  }
  let text: string;
  try {
    text = await timed(ctx.upstream, () => readUpstreamText(call));
  } catch (error) {
    throw toGatewayError(error);
  } finally {
    call.close();
  }
  const gone = response.status === 404;
  if ((response.ok && target.method === "DELETE") || gone) {
    await deps.responses?.delete(ctx.principal.id, record.id);
  }
  if (gone) throw responseNotFound(record.id);
  if (!response.ok) {
    throw provider.adapter.fromError(response.status, parseJsonOrUndefined(text), response.headers);
  }
  return new Response(text, {
    headers: { "content-type": "application/json", ...headers },
  });
}
