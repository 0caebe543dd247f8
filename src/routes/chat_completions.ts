/**
 * `POST /v1/chat/completions`: validate, route, translate, call the provider, translate back.
 */
import { errors, GatewayError } from "../errors.ts";
import { inlineImageUrls } from "../http/image_fetch.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
  wantsStreamUsage,
} from "../openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../providers/echo.ts";
import type { StreamItem, TranslationContext } from "../providers/mod.ts";
import type { Attempt, AttemptOutcome } from "../routing/attempts.ts";
import { planRoute } from "../routing/route.ts";
import { estimatePromptTokens } from "../tokens.ts";
import { admit, DEFAULT_COMPLETION_RESERVE, type TokenReservation } from "./rate_limits.ts";
import { SSE_HEADERS } from "../sse.ts";
import {
  openUpstreamStream,
  renderStream,
  type StreamOutcome,
} from "../streaming/client_stream.ts";
import { withEstimatedUsage } from "../streaming/estimated_usage.ts";
import { parseJsonOrUndefined } from "../upstream.ts";
import {
  readRequestBody,
  type RequestContext,
  requireModelScope,
  type RouteDeps,
} from "./context.ts";
import {
  failure,
  providerTarget,
  readAnswer,
  runAttempts,
  sendAttempt,
  servedBy,
} from "./upstream_attempt.ts";

/** Handles one chat completion request, stream or not. */
export async function handleChatCompletions(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readRequestBody(request, deps);
  const parsed = parseChatCompletionRequest(body);
  if (!parsed.ok) throw parsed.error;
  const chat = parsed.request;
  requireModelScope(ctx, chat.model);
  ctx.fields.stream = chat.stream === true;
  const plan = planRoute(chat.model, deps.routing());
  if (plan instanceof GatewayError) throw plan;
  if (ctx.limits !== undefined) {
    await admit(deps.limiter, ctx.limits, () => tokenReservation(chat));
  }
  const translation: TranslationContext = {
    id: `chatcmpl-${deps.randomId()}`,
    created: Math.floor(deps.now() / 1000),
    model: chat.model,
  };
  if (plan.kind === "echo") {
    ctx.fields.provider = "choreoai";
    return echo(chat, translation, ctx);
  }
  const images: ImageCache = {};
  const served = await runAttempts(
    plan,
    request,
    ctx,
    deps,
    (attempt, signal) => callProvider(chat, { attempt, translation, ctx, deps, signal, images }),
  );
  const { response, headers } = served.value;
  servedBy(served, ctx, headers);
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

function echo(
  chat: ChatCompletionRequest,
  translation: TranslationContext,
  ctx: RequestContext,
): Response {
  const reply = echoReply(chat);
  const headers = { "x-choreoai-provider": "choreoai" };
  if (chat.stream !== true) {
    ctx.fields.usage = reply.usage;
    return Response.json(echoCompletion(chat, reply, translation), { headers });
  }
  const items: StreamItem[] = echoChunks(chat, reply, translation, true).map((chunk) => ({
    type: "chunk",
    chunk,
  }));
  items.push({ type: "done" });
  const { text, usage } = renderStream(items, wantsStreamUsage(chat));
  if (usage !== undefined) ctx.fields.usage = usage;
  return new Response(text, { headers: { ...SSE_HEADERS, ...headers } });
}

interface ProviderCall {
  readonly attempt: Attempt;
  readonly translation: TranslationContext;
  readonly ctx: RequestContext;
  readonly deps: RouteDeps;
  readonly signal: AbortSignal;
  readonly images: ImageCache;
}

/** The request with image URLs inlined, made once per request when a provider needs it. */
interface ImageCache {
  inlined?: Promise<ChatCompletionRequest | GatewayError>;
}

/** A response ready to send, and the headers that say how it was made. */
interface Answer {
  readonly response: Response;
  readonly headers: Record<string, string>;
}

/** One attempt at one target: translate, send, and translate back (or hold the stream's start). */
async function callProvider(
  original: ChatCompletionRequest,
  call: ProviderCall,
): Promise<AttemptOutcome<Answer>> {
  const { attempt, translation, ctx, deps } = call;
  const { adapter } = attempt.target.provider;
  let chat = original;
  if (adapter.inlinesImageUrls && deps.imageFetch !== undefined) {
    call.images.inlined ??= inlineImageUrls(chat, deps.imageFetch);
    const inlined = await call.images.inlined;
    if (inlined instanceof GatewayError) return { ok: false, error: inlined, next: "stop" };
    chat = inlined;
  }
  const built = adapter.toRequest(chat, providerTarget(attempt.target));
  if (built instanceof GatewayError) return { ok: false, error: built, next: "skip" };
  const sent = await sendAttempt(built.request, attempt, call.signal, deps);
  if (!sent.ok) return sent;
  const upstream = sent.value;
  const { response } = upstream;
  const headers: Record<string, string> = {};
  if (built.adjusted.length > 0) headers["x-choreoai-adjusted"] = built.adjusted.join(", ");
  const name = attempt.target.provider.name;
  if (chat.stream === true && response.ok) {
    const contentType = response.headers.get("content-type") ?? "";
    if (!contentType.startsWith("text/event-stream") || response.body === null) {
      upstream.close();
      await response.body?.cancel().catch(() => {});
      return failure(
        errors.upstream(`${name} did not answer the stream request with an event stream`),
      );
    }
    const stream = await openUpstreamStream({
      body: response.body,
      // A server that cannot be asked for usage gets it estimated (stream_usage: false).
      translator: attempt.target.provider.streamUsage
        ? adapter.stream(translation)
        : withEstimatedUsage(adapter.stream(translation), estimatePromptTokens(chat.messages)),
      includeUsage: wantsStreamUsage(chat),
      touch: upstream.touch,
      explain: upstream.explain,
      close: upstream.close,
      onEnd: (outcome) => recordOutcome(ctx, outcome),
      onFirstByte: () => (ctx.fields.ttfb_ms = deps.now() - ctx.started),
      signal: deps.shutdownSignal,
    });
    if (stream instanceof GatewayError) return failure(stream);
    return {
      ok: true,
      value: { response: new Response(stream, { headers: SSE_HEADERS }), headers },
    };
  }
  const read = await readAnswer(upstream, attempt);
  if (!read.ok) return read;
  const text = read.value;
  const completion = adapter.fromResponse(parseJsonOrUndefined(text), translation);
  if (completion instanceof GatewayError) return failure(completion);
  if (completion.usage !== null && completion.usage !== undefined) {
    const { prompt_tokens, completion_tokens, total_tokens } = completion.usage;
    ctx.fields.usage = { prompt_tokens, completion_tokens, total_tokens };
  }
  const json = adapter.passThrough ? text : JSON.stringify(completion);
  return {
    ok: true,
    value: {
      response: new Response(json, { headers: { "content-type": "application/json" } }),
      headers,
    },
  };
}

function recordOutcome(ctx: RequestContext, outcome: StreamOutcome): void {
  if (outcome.usage !== undefined) ctx.fields.usage = outcome.usage;
  if (outcome.error !== undefined && outcome.error.code !== null) {
    ctx.fields.error_code = outcome.error.code;
  }
  if (outcome.cancelled) ctx.fields.cancelled = true;
}

/** Tokens a request may use at most: the prompt estimate plus its completion budget. */
export function tokenReservation(chat: ChatCompletionRequest): TokenReservation {
  const setBy = typeof chat.max_completion_tokens === "number"
    ? "max_completion_tokens"
    : typeof chat.max_tokens === "number"
    ? "max_tokens"
    : undefined;
  return {
    prompt: estimatePromptTokens(chat.messages),
    completion: {
      perChoice: chat.max_completion_tokens ?? chat.max_tokens ?? DEFAULT_COMPLETION_RESERVE,
      choices: chat.n ?? 1,
      setBy,
    },
  };
}
