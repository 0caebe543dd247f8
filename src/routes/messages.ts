/**
 * `POST /v1/messages` and `POST /v1/messages/count_tokens`: Anthropic's Messages API on every
 * provider, over the same routing, key scopes, limits, records and logs as chat completions.
 *
 * To a provider that speaks Messages (Anthropic, or a routing file's provider of kind
 * `anthropic`) the request passes through natively (`providers/anthropic/native.ts`). To every
 * other provider, and to `choreoai/echo`, it goes through the canonical chat request
 * (`dialects/messages`): `toChatRequest` → the provider's adapter → the answer or stream back in
 * Messages' shape, with a `ping` event while a translated stream's provider is silent.
 *
 * `count_tokens` asks Anthropic for its own count when the model has targets that speak Messages
 * (only those are tried), and answers the gateway's estimate otherwise, with no upstream call. It
 * counts as one request against a key's rpm, reserves no tokens, and is not budgeted (Anthropic
 * does not charge for it).
 */
import {
  createMessagesSseWriter,
  estimateInputTokens,
  type MessagesContext,
  type MessagesCountTokensRequest,
  type MessagesRequest,
  parseMessagesCountTokensRequest,
  parseMessagesRequest,
  pingEvent,
  toChatRequest,
  toMessagesResponse,
} from "../dialects/messages/mod.ts";
import { fitToProvider } from "../dialects/fit.ts";
import { errors, GatewayError } from "../errors.ts";
import type { ChatCompletionRequest } from "../openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../providers/echo.ts";
import type { MessagesHeaders, MessagesPassThrough, TranslationContext } from "../providers/mod.ts";
import type { Attempt, AttemptOutcome } from "../routing/attempts.ts";
import { planRoute, type RoutePlan } from "../routing/route.ts";
import { SSE_HEADERS, type SseEvent } from "../sse.ts";
import type { EventTranslator } from "../streaming/client_stream.ts";
import { estimatePromptTokens, estimateTokens } from "../tokens/mod.ts";
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
import type { TokenReservation } from "./rate_limits.ts";
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

/** Handles one Messages request, stream or not. */
export async function handleMessages(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readRequestBody(request, ctx, deps) as Record<string, unknown>;
  const parsed = parseMessagesRequest(body);
  if (!parsed.ok) throw parsed.error;
  const messages = parsed.request;
  requireModelScope(ctx, messages.model);
  ctx.fields.stream = messages.stream === true;
  const plan = planRoute(messages.model, deps.routing());
  if (plan instanceof GatewayError) throw plan;
  // Translated once, and only when needed: a request for Anthropic alone passes through.
  let canonical: Canonical | undefined;
  const canonicalOf = () => canonical ??= toChatRequest(messages);
  let estimate: number | undefined;
  const promptEstimate = (chat: ChatCompletionRequest) =>
    estimate ??= estimatePromptTokens(chat.messages);
  await admitRequest(ctx, deps, {
    plan,
    model: messages.model,
    reservation: () => {
      const translated = canonicalOf();
      const reservation = messagesReservation(messages, translated);
      if (!(translated instanceof GatewayError)) estimate = reservation.prompt;
      return reservation;
    },
  });
  const id = deps.randomId();
  const context: MessagesContext = {
    id: `msg_${id}`,
    model: messages.model,
    stopSequences: messages.stop_sequences,
  };
  const translation: TranslationContext = {
    id: `chatcmpl-${id}`,
    created: Math.floor(deps.now() / 1000),
    model: messages.model,
  };
  if (plan.kind === "echo") {
    const translated = canonicalOf();
    if (translated instanceof GatewayError) throw translated;
    ctx.fields.provider = "choreoai";
    return echo(translated, { context, translation, ctx, stream: messages.stream === true });
  }
  const headers = messagesHeaders(request);
  const images: ImageCache = {};
  const names = {
    reasoning_effort: typeof messages.output_config?.effort === "string"
      ? "output_config.effort"
      : "thinking",
  };
  const served = await runAttempts(plan, request, ctx, deps, (attempt, signal) => {
    const native = attempt.target.provider.adapter.messages;
    if (native !== undefined) {
      return callNative(native.toRequest(body, providerTarget(attempt.target), headers), {
        native,
        attempt,
        signal,
        ctx,
        deps,
        stream: messages.stream === true,
      });
    }
    const translated = canonicalOf();
    if (translated instanceof GatewayError) {
      return Promise.resolve({ ok: false, error: translated, next: "skip" });
    }
    const { chat } = translated;
    const format = messagesFormat(context, () => promptEstimate(chat), deps);
    return callCanonical(chat, {
      attempt,
      translation,
      ctx,
      deps,
      signal,
      images,
      format,
      adjusted: translated.adjusted,
      fit: (fitting, target) =>
        fitToProvider(fitting, {
          providerName: target.provider.name,
          kind: target.provider.kind,
          model: target.model,
        }, names),
    });
  });
  return answer(served, ctx);
}

/** Handles one `count_tokens` request. */
export async function handleCountTokens(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readRequestBody(request, ctx, deps) as Record<string, unknown>;
  const parsed = parseMessagesCountTokensRequest(body);
  if (!parsed.ok) throw parsed.error;
  const counted = parsed.request;
  requireModelScope(ctx, counted.model);
  const plan = planRoute(counted.model, deps.routing());
  if (plan instanceof GatewayError) throw plan;
  // Not budgeted (it costs nothing): this admits its rate limits alone.
  await admitRequest(ctx, deps, {
    plan,
    model: counted.model,
    reservation: () => ({ prompt: 0, completion: undefined }),
  });
  const native = plan.kind === "echo" ? undefined : nativeOnly(plan);
  if (native === undefined) return estimated(counted, ctx);
  const headers = messagesHeaders(request);
  const served = await runAttempts(native, request, ctx, deps, (attempt, signal) => {
    const passThrough = attempt.target.provider.adapter.messages as MessagesPassThrough;
    const target = providerTarget(attempt.target);
    return callNative(passThrough.countTokensRequest(body, target, headers), {
      native: passThrough,
      attempt,
      signal,
      ctx,
      deps,
      stream: false,
      count: true,
    });
  });
  return answer(served, ctx);
}

function answer(
  served: Awaited<ReturnType<typeof runAttempts<Answer>>>,
  ctx: RequestContext,
): Response {
  const { response, headers } = served.value;
  servedBy(served, ctx, headers);
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

/** The client's `anthropic-version` and `anthropic-beta`, passed on to Anthropic. */
function messagesHeaders(request: Request): MessagesHeaders {
  return {
    version: request.headers.get("anthropic-version"),
    beta: request.headers.get("anthropic-beta"),
  };
}

/**
 * Tokens a Messages request may use at most: the chat route's reservation of its canonical
 * request, or, for a request only Anthropic can serve (it cannot be translated), an estimate of
 * its JSON; plus `max_tokens`.
 */
export function messagesReservation(
  request: MessagesRequest,
  canonical: Canonical,
): TokenReservation {
  const completion = { perChoice: request.max_tokens, choices: 1, setBy: "max_tokens" } as const;
  if (canonical instanceof GatewayError) {
    const { system, messages, tools } = request;
    return { prompt: estimateTokens(JSON.stringify([system, messages, tools])), completion };
  }
  return { prompt: tokenReservation(canonical.chat).prompt, completion };
}

/** Messages' answers of a translated request: its SSE events (with pings), or its JSON. */
function messagesFormat(
  context: MessagesContext,
  inputTokens: () => number,
  deps: RouteDeps,
): AnswerFormat {
  return {
    streamWriter: () => createMessagesSseWriter({ ...context, inputTokens: inputTokens() }),
    keepAlive: { everyMs: deps.pingIntervalMs, text: pingEvent(), deadlines: deps.deadlines },
    body(completion) {
      const answer = toMessagesResponse(completion, context);
      return answer instanceof GatewayError ? answer : JSON.stringify(answer);
    },
  };
}

interface EchoCall {
  readonly context: MessagesContext;
  readonly translation: TranslationContext;
  readonly ctx: RequestContext;
  readonly stream: boolean;
}

/** `choreoai/echo` in Messages' shape. */
async function echo(
  translated: { chat: ChatCompletionRequest; adjusted: string[] },
  { context, translation, ctx, stream }: EchoCall,
): Promise<Response> {
  const { chat, adjusted } = translated;
  const reply = await echoReply(chat);
  const headers: Record<string, string> = { "x-choreoai-provider": "choreoai" };
  if (adjusted.length > 0) headers["x-choreoai-adjusted"] = adjusted.join(", ");
  ctx.fields.usage = reply.usage;
  ctx.fields.finish_reasons = [reply.finishReason];
  if (!stream) {
    const answer = toMessagesResponse(echoCompletion(chat, reply, translation), context);
    if (answer instanceof GatewayError) throw answer;
    return Response.json(answer, { headers });
  }
  const writer = createMessagesSseWriter({ ...context, inputTokens: reply.usage.prompt_tokens });
  for (const chunk of echoChunks(chat, reply, translation, true)) {
    writer.push({ type: "chunk", chunk });
  }
  writer.push({ type: "done" });
  return new Response(writer.take(), { headers: { ...SSE_HEADERS, ...headers } });
}

/** `{"input_tokens": N}` by the gateway's estimate. */
function estimated(counted: MessagesCountTokensRequest, ctx: RequestContext): Response {
  const inputTokens = estimateInputTokens(counted);
  if (inputTokens instanceof GatewayError) throw inputTokens;
  ctx.fields.provider = "choreoai";
  return Response.json({ input_tokens: inputTokens }, {
    headers: { "x-choreoai-provider": "choreoai" },
  });
}

/** The plan restricted to the targets that speak Messages; undefined when none does. */
function nativeOnly(
  plan: RoutePlan & { kind: "upstream" },
): (RoutePlan & { kind: "upstream" }) | undefined {
  const chain = plan.chain
    .map((model) => ({
      ...model,
      targets: model.targets.filter((target) => target.provider.adapter.messages !== undefined),
    }))
    .filter((model) => model.targets.length > 0);
  return chain.length === 0 ? undefined : { ...plan, chain };
}

/** The provider's events, unchanged, for a pass-through writer. */
const PASS_EVENTS: EventTranslator<SseEvent> = {
  event: (event, emit) => emit(event),
  end: () => {},
};

interface NativeCall {
  readonly native: MessagesPassThrough;
  readonly attempt: Attempt;
  readonly signal: AbortSignal;
  readonly ctx: RequestContext;
  readonly deps: RouteDeps;
  readonly stream: boolean;
  /** A `count_tokens` call: its answer carries no usage to record. */
  readonly count?: boolean;
}

/** One attempt of a request passed through to a provider that speaks Messages. */
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
      writer: native.streamWriter(),
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
  if (call.count !== true) {
    const usage = native.answerUsage(json);
    if (usage !== undefined) ctx.fields.usage = usage;
    const finishReasons = native.answerFinishReasons(json);
    if (finishReasons !== undefined) ctx.fields.finish_reasons = finishReasons;
  }
  return {
    ok: true,
    value: {
      response: new Response(read.value, { headers: { "content-type": "application/json" } }),
      headers: {},
    },
  };
}
