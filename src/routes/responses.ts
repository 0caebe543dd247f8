/**
 * `POST /v1/responses`: OpenAI's Responses API on every provider, over the same routing, key
 * scopes, limits, records and logs as chat completions.
 *
 * To a provider that speaks Responses (the built-in `openai`, and every provider of kind
 * `azure`) the request passes through natively (`providers/openai/responses.ts`); the id of
 * its answer is remembered with the provider that made it (unless `store: false`), so that
 * `GET`/`DELETE` (`response_resources.ts`) and `previous_response_id` reach that provider. To
 * every other provider, and to `choreoai/echo`, it goes through the canonical chat request
 * (`dialects/responses`): `toChatRequest` → fitted to the provider (`dialects/fit.ts`) → the
 * provider's adapter → the answer or stream back as a `response`, kept in the store with its
 * input and output items (unless `store: false`).
 *
 * `previous_response_id` names a response of this key: a stored one is continued on any
 * provider (its conversation is prepended; to OpenAI or Azure it is written into `input`); one
 * a provider keeps can only be continued there, so the request goes to that provider's targets
 * of the model, and is refused (400 naming `previous_response_id`) when the model has none. An
 * id this key does not have is 404 `previous_response_not_found`. `item_reference`s to stored
 * items are resolved from the store.
 */
import { type FieldNames, fitToProvider } from "../dialects/fit.ts";
import {
  createResponsesSseWriter,
  parseResponsesRequest,
  previousResponseNotFound,
  referencedItemIds,
  type ResponseItem,
  type ResponseObject,
  type ResponseRecord,
  type ResponsesContext,
  type ResponsesRequest,
  type ResponsesStore,
  toChatRequest,
  toResponsesResponse,
  toStoredInputItems,
  withStoredItems,
} from "../dialects/responses/mod.ts";
import { errors, GatewayError } from "../errors.ts";
import { describeError } from "../log.ts";
import type { ChatCompletionRequest } from "../openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../providers/echo.ts";
import type {
  ResponsesPassThrough,
  ResponsesStreamWriter,
  TranslationContext,
} from "../providers/mod.ts";
import type { Attempt, AttemptOutcome } from "../routing/attempts.ts";
import { planRoute, type RoutePlan } from "../routing/route.ts";
import { SSE_HEADERS, type SseEvent } from "../sse.ts";
import type { EventTranslator, SseWriter } from "../streaming/client_stream.ts";
import { estimateTokens } from "../tokens/mod.ts";
import { parseJsonOrUndefined } from "../upstream.ts";
import {
  type Answer,
  type AnswerFormat,
  callCanonical,
  type ImageCache,
} from "./canonical_attempt.ts";
import { tokenReservation } from "./chat_completions.ts";
import {
  readRequestBody,
  type RequestContext,
  requireModelScope,
  type RouteDeps,
} from "./context.ts";
import { DEFAULT_COMPLETION_RESERVE, type TokenReservation } from "./rate_limits.ts";
import { admitRequest } from "./admission.ts";
import {
  failure,
  providerTarget,
  readAnswer,
  runAttempts,
  sendAttempt,
  servedBy,
  streamAnswer,
} from "./upstream_attempt.ts";
import type { ProviderRequest } from "../http/provider_request.ts";

type Canonical = { chat: ChatCompletionRequest; adjusted: string[] } | GatewayError;
type UpstreamPlan = RoutePlan & { kind: "upstream" };

/** How the Responses dialect names the fitted fields in `x-choreoai-adjusted`. */
const FIELD_NAMES: FieldNames = {
  reasoning_effort: "reasoning.effort",
  verbosity: "text.verbosity",
};

/** What the store holds for one request. */
interface Sources {
  /** The record `previous_response_id` names. */
  readonly previous: ResponseRecord | undefined;
  /** The stored conversation of a stored previous response. */
  readonly history: ResponseItem[] | undefined;
  /** Stored items the request's `item_reference`s name. */
  readonly items: Map<string, ResponseItem> | undefined;
}

/** Reads what the request names from the store: 404 for a previous response this key lacks. */
async function readSources(
  request: ResponsesRequest,
  keyId: string,
  store: ResponsesStore | undefined,
): Promise<Sources> {
  const ids = referencedItemIds(request);
  const items = ids.length > 0 && store !== undefined ? await store.items(keyId, ids) : undefined;
  const previousId = request.previous_response_id;
  if (typeof previousId !== "string" || previousId === "") {
    return { previous: undefined, history: undefined, items };
  }
  const previous = await store?.get(keyId, previousId);
  if (previous === undefined) throw previousResponseNotFound(previousId);
  if (previous.kind === "native") return { previous, history: undefined, items };
  const history = await store?.conversation(keyId, previousId);
  if (history === undefined) throw previousResponseNotFound(previousId);
  return { previous, history, items };
}

/**
 * The plan narrowed to the targets on `provider` (which keeps the previous response), or the
 * 400 naming `previous_response_id` when the model has none there.
 */
export function restrictToProvider(
  plan: RoutePlan,
  previous: { readonly id: string; readonly provider: string },
  model: string,
): UpstreamPlan | GatewayError {
  if (plan.kind === "upstream") {
    const chain = plan.chain
      .map((route) => ({
        ...route,
        targets: route.targets.filter((target) => target.provider.name === previous.provider),
      }))
      .filter((route) => route.targets.length > 0);
    if (chain.length > 0) return { ...plan, chain };
  }
  return errors.invalidRequest(
    `Invalid value for 'previous_response_id': response '${previous.id.slice(0, 100)}' is ` +
      `kept by the provider ${previous.provider}, and model "${model.slice(0, 100)}" has no ` +
      `target there; continue it with a model served by ${previous.provider}`,
    "previous_response_id",
  );
}

/**
 * Tokens a Responses request may use at most: the chat route's reservation of its canonical
 * request (stored history included), or, for a request only OpenAI can serve (it cannot be
 * translated), an estimate of its JSON; plus `max_output_tokens` (default
 * {@linkcode DEFAULT_COMPLETION_RESERVE}).
 */
export function responsesReservation(
  request: ResponsesRequest,
  canonical: Canonical,
): TokenReservation {
  const max = request.max_output_tokens;
  const completion = typeof max === "number"
    ? { perChoice: max, choices: 1, setBy: "max_output_tokens" } as const
    : {
      perChoice: DEFAULT_COMPLETION_RESERVE,
      choices: 1,
      setBy: undefined,
      field: "max_output_tokens",
    } as const;
  if (canonical instanceof GatewayError) {
    const { instructions, input, tools } = request;
    return { prompt: estimateTokens(JSON.stringify([instructions, input, tools])), completion };
  }
  return { prompt: tokenReservation(canonical.chat).prompt, completion };
}

/** Handles one `POST /v1/responses`, stream or not. */
export async function handleCreateResponse(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readRequestBody(request, ctx, deps) as Record<string, unknown>;
  const parsed = parseResponsesRequest(body);
  if (!parsed.ok) throw parsed.error;
  const responses = parsed.request;
  requireModelScope(ctx, responses.model);
  const stream = responses.stream === true;
  ctx.fields.stream = stream;
  let plan = planRoute(responses.model, deps.routing());
  if (plan instanceof GatewayError) throw plan;
  const keyId = ctx.principal.id;
  const store = deps.responses;
  const sources = await readSources(responses, keyId, store);
  if (sources.previous?.kind === "native") {
    plan = restrictToProvider(plan, sources.previous, responses.model);
    if (plan instanceof GatewayError) throw plan;
  }
  // Translated once, and only when needed: a request for OpenAI alone passes through.
  let canonical: Canonical | undefined;
  const canonicalOf = () =>
    canonical ??= toChatRequest(responses, { history: sources.history, items: sources.items });
  await admitRequest(ctx, deps, {
    plan,
    model: responses.model,
    reservation: () => responsesReservation(responses, canonicalOf()),
  });
  const id = deps.randomId();
  const newItemId = (prefix: string) => `${prefix}_${deps.randomId()}`;
  const context: ResponsesContext = {
    id: `resp_${id}`,
    createdAt: Math.floor(deps.now() / 1000),
    model: responses.model,
    request: responses,
    newItemId,
  };
  const translation: TranslationContext = {
    id: `chatcmpl-${id}`,
    created: context.createdAt,
    model: responses.model,
  };
  const keeping = store !== undefined && responses.store !== false ? store : undefined;
  let saving: Promise<void> | undefined;
  /** Keeps a translated answer (completed or incomplete) with its input items. */
  const keep = (provider: string) => (response: ResponseObject) => {
    if (keeping === undefined || response.status === "failed") return;
    const input = toStoredInputItems(responses, { items: sources.items, newItemId });
    saving = keeping.save({ keyId, response, input, provider }).catch((error) =>
      deps.log.error("cannot store a response", { request_id: ctx.id, ...describeError(error) })
    );
  };
  if (plan.kind === "echo") {
    const translated = canonicalOf();
    if (translated instanceof GatewayError) throw translated;
    ctx.fields.provider = "choreoai";
    const answer = await echo(translated, {
      context,
      translation,
      ctx,
      stream,
      keep: keep("choreoai"),
    });
    await saving;
    return answer;
  }
  /** Keeps the id of a passed-through answer with the provider that keeps it. */
  const keepNative = (provider: string) => (responseId: string) => {
    if (keeping === undefined) return;
    saving = keeping.saveNative({
      keyId,
      id: responseId,
      provider,
      previousResponseId: responses.previous_response_id,
    }).catch((error) =>
      deps.log.error("cannot store a response id", { request_id: ctx.id, ...describeError(error) })
    );
  };
  let nativeBody: Readonly<Record<string, unknown>> | undefined;
  const images: ImageCache = {};
  const served = await runAttempts(plan, request, ctx, deps, (attempt, signal) => {
    const provider = attempt.target.provider;
    const native = provider.adapter.responses;
    if (native !== undefined) {
      nativeBody ??= withStoredItems(body, responses, sources);
      return callNative(native.toRequest(nativeBody, providerTarget(attempt.target)), {
        native,
        attempt,
        signal,
        ctx,
        deps,
        stream,
        keep: keepNative(provider.name),
      });
    }
    const translated = canonicalOf();
    if (translated instanceof GatewayError) {
      return Promise.resolve({ ok: false, error: translated, next: "skip" });
    }
    return callCanonical(translated.chat, {
      attempt,
      translation,
      ctx,
      deps,
      signal,
      images,
      format: responsesFormat(context, keep(provider.name)),
      adjusted: translated.adjusted,
      fit: (chat, target) =>
        fitToProvider(chat, {
          providerName: target.provider.name,
          kind: target.provider.kind,
          model: target.model,
        }, FIELD_NAMES),
    });
  });
  const { response, headers } = served.value;
  servedBy(served, ctx, headers);
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  if (!stream) await saving;
  return response;
}

/**
 * `writer` as it is, plus a call of `onValue` the first time `read()` gives a value after an item
 * was pushed (the final `response` of a translated stream, the id of a passed-through one).
 */
function watchingWriter<I, T>(
  writer: SseWriter<I>,
  read: () => T | undefined,
  onValue: (value: T) => void,
): SseWriter<I> {
  let seen = false;
  return {
    push(item) {
      writer.push(item);
      if (seen) return;
      const value = read();
      if (value === undefined) return;
      seen = true;
      onValue(value);
    },
    take: () => writer.take(),
    get finished() {
      return writer.finished;
    },
    get hasData() {
      return writer.hasData;
    },
    get usage() {
      return writer.usage;
    },
    get error() {
      return writer.error;
    },
    get finishReasons() {
      return writer.finishReasons;
    },
  };
}

/** A translated stream's writer that calls `onResponse` once with its final `response`. */
function keepingWriter(
  writer: ReturnType<typeof createResponsesSseWriter>,
  onResponse: (response: ResponseObject) => void,
): SseWriter {
  return watchingWriter(writer, () => writer.response, onResponse);
}

/** Responses' answers of a translated request: its typed events, or its `response` JSON. */
function responsesFormat(
  context: ResponsesContext,
  onResponse: (response: ResponseObject) => void,
): AnswerFormat {
  return {
    streamWriter: () => keepingWriter(createResponsesSseWriter(context), onResponse),
    body(completion) {
      const response = toResponsesResponse(completion, context);
      if (response instanceof GatewayError) return response;
      onResponse(response);
      return JSON.stringify(response);
    },
  };
}

interface EchoCall {
  readonly context: ResponsesContext;
  readonly translation: TranslationContext;
  readonly ctx: RequestContext;
  readonly stream: boolean;
  readonly keep: (response: ResponseObject) => void;
}

/** `choreoai/echo` in Responses' shape. */
async function echo(
  translated: { chat: ChatCompletionRequest; adjusted: string[] },
  { context, translation, ctx, stream, keep }: EchoCall,
): Promise<Response> {
  const { chat, adjusted } = translated;
  const reply = await echoReply(chat);
  const headers: Record<string, string> = { "x-choreoai-provider": "choreoai" };
  if (adjusted.length > 0) headers["x-choreoai-adjusted"] = adjusted.join(", ");
  ctx.fields.usage = reply.usage;
  ctx.fields.finish_reasons = [reply.finishReason];
  if (!stream) {
    const response = toResponsesResponse(echoCompletion(chat, reply, translation), context);
    if (response instanceof GatewayError) throw response;
    keep(response);
    return Response.json(response, { headers });
  }
  const writer = keepingWriter(createResponsesSseWriter(context), keep);
  for (const chunk of echoChunks(chat, reply, translation, true)) {
    writer.push({ type: "chunk", chunk });
  }
  writer.push({ type: "done" });
  return new Response(writer.take(), { headers: { ...SSE_HEADERS, ...headers } });
}

/** The provider's events, unchanged, for a pass-through writer. */
export const PASS_EVENTS: EventTranslator<SseEvent> = {
  event: (event, emit) => emit(event),
  end: () => {},
};

/** A pass-through writer that calls `onId` once the stream's response id has passed. */
function idWatchingWriter(
  writer: ResponsesStreamWriter,
  onId: (id: string) => void,
): SseWriter<SseEvent> {
  return watchingWriter(writer, () => writer.responseId, onId);
}

interface NativeCall {
  readonly native: ResponsesPassThrough;
  readonly attempt: Attempt;
  readonly signal: AbortSignal;
  readonly ctx: RequestContext;
  readonly deps: RouteDeps;
  readonly stream: boolean;
  /** Remembers the id of the provider's response. */
  readonly keep: (id: string) => void;
}

/** One attempt of a request passed through to a provider that speaks Responses. */
async function callNative(
  upstreamRequest: ProviderRequest,
  call: NativeCall,
): Promise<AttemptOutcome<Answer>> {
  const { native, attempt, ctx, deps } = call;
  const sent = await sendAttempt(upstreamRequest, attempt, call.signal, deps, ctx.upstream);
  if (!sent.ok) return sent;
  const upstream = sent.value;
  if (call.stream && upstream.response.ok) {
    const streamed = await streamAnswer(upstream, ctx, deps, {
      translator: PASS_EVENTS,
      writer: idWatchingWriter(native.streamWriter(), call.keep),
    });
    if (!streamed.ok) return streamed;
    return { ok: true, value: { response: streamed.value, headers: {} } };
  }
  const read = await readAnswer(upstream, attempt, ctx.upstream);
  if (!read.ok) return read;
  const json = parseJsonOrUndefined(read.value);
  if (typeof json !== "object" || json === null) {
    return failure(
      errors.upstream(`${attempt.target.provider.name} answered with a body that is not JSON`),
    );
  }
  const usage = native.answerUsage(json);
  if (usage !== undefined) ctx.fields.usage = usage;
  const finishReasons = native.answerFinishReasons(json);
  if (finishReasons !== undefined) ctx.fields.finish_reasons = finishReasons;
  const responseId = (json as Record<string, unknown>).id;
  if (typeof responseId === "string" && responseId !== "") call.keep(responseId);
  return {
    ok: true,
    value: {
      response: new Response(read.value, { headers: { "content-type": "application/json" } }),
      headers: {},
    },
  };
}
