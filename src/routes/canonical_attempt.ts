/**
 * One attempt of a canonical (OpenAI chat) request at one target, for every dialect that goes
 * through the canonical form: image URLs inlined when the provider needs bytes, the adapter's
 * request, the upstream call, and the answer back in the client's dialect: a stream through the
 * dialect's writer (held until the provider's first output), or a whole answer through the
 * dialect's body.
 */
import { GatewayError } from "../errors.ts";
import { inlineImageUrls } from "../http/image_fetch.ts";
import { choiceFinishReasons } from "../openai/finish_reasons.ts";
import type { ChatCompletionRequest } from "../openai/schema.ts";
import { readOpenAIUsage } from "../openai/usage.ts";
import type { ChatCompletion, ProviderAdapter, TranslationContext } from "../providers/mod.ts";
import type { Attempt, AttemptOutcome } from "../routing/attempts.ts";
import type { RouteTarget } from "../routing/table.ts";
import type { KeepAlive, SseWriter } from "../streaming/client_stream.ts";
import { withEstimatedUsage } from "../streaming/estimated_usage.ts";
import { estimatePromptTokens } from "../tokens/mod.ts";
import { parseJsonOrUndefined } from "../upstream.ts";
import type { RequestContext, RouteDeps } from "./context.ts";
import {
  failure,
  providerTarget,
  readAnswer,
  sendAttempt,
  streamAnswer,
} from "./upstream_attempt.ts";

/** How the client's dialect renders the answer of a canonical request. */
export interface AnswerFormat {
  /** A new writer for one streamed answer. */
  streamWriter(): SseWriter;
  /** Sent while the provider is silent once the stream has started; none when undefined. */
  readonly keepAlive?: KeepAlive | undefined;
  /**
   * The body of a whole answer: `completion` is the canonical answer, `text` the provider's own
   * body and `passThrough` whether the provider speaks OpenAI's format; a 502 when the answer
   * cannot be given in the dialect's shape.
   */
  body(completion: ChatCompletion, text: string, passThrough: boolean): string | GatewayError;
}

/** A canonical request changed to fit one target, and the parameters changed. */
export interface FittedRequest {
  readonly chat: ChatCompletionRequest;
  readonly adjusted: readonly string[];
}

/** The request with image URLs inlined, made once per request when a provider needs it. */
export interface ImageCache {
  inlined?: Promise<ChatCompletionRequest | GatewayError>;
}

/** Everything one canonical attempt needs. */
export interface CanonicalCall {
  readonly attempt: Attempt;
  readonly translation: TranslationContext;
  readonly ctx: RequestContext;
  readonly deps: RouteDeps;
  readonly signal: AbortSignal;
  readonly images: ImageCache;
  readonly format: AnswerFormat;
  /** Parameters the dialect's translation changed already, for `x-choreoai-adjusted`. */
  readonly adjusted?: readonly string[] | undefined;
  /** Fits the request to the target (after image inlining); none: sent as it is. */
  readonly fit?: ((chat: ChatCompletionRequest, target: RouteTarget) => FittedRequest) | undefined;
}

/** A response ready to send, and the headers that say how it was made. */
export interface Answer {
  readonly response: Response;
  readonly headers: Record<string, string>;
}

/** One attempt at one target: translate, send, and translate back (or hold the stream's start). */
export async function callCanonical(
  original: ChatCompletionRequest,
  call: CanonicalCall,
): Promise<AttemptOutcome<Answer>> {
  const { attempt, translation, ctx, deps, format } = call;
  const { adapter } = attempt.target.provider;
  let chat = original;
  if (adapter.inlinesImageUrls && deps.imageFetch !== undefined) {
    call.images.inlined ??= inlineImageUrls(chat, deps.imageFetch);
    const inlined = await call.images.inlined;
    if (inlined instanceof GatewayError) return { ok: false, error: inlined, next: "stop" };
    chat = inlined;
  }
  const fitted = call.fit?.(chat, attempt.target);
  if (fitted !== undefined) chat = fitted.chat;
  const built = adapter.toRequest(chat, providerTarget(attempt.target));
  if (built instanceof GatewayError) return { ok: false, error: built, next: "skip" };
  const sent = await sendAttempt(built.request, attempt, call.signal, deps, ctx.upstream);
  if (!sent.ok) return sent;
  const upstream = sent.value;
  const { response } = upstream;
  const headers: Record<string, string> = {};
  const adjusted = call.adjusted === undefined && fitted === undefined
    ? built.adjusted
    : [...new Set([...(call.adjusted ?? []), ...(fitted?.adjusted ?? []), ...built.adjusted])];
  if (adjusted.length > 0) headers["x-choreoai-adjusted"] = adjusted.join(", ");
  if (chat.stream === true && response.ok) {
    const streamed = await streamAnswer(upstream, ctx, deps, {
      // A server that cannot be asked for usage gets it estimated (stream_usage: false).
      translator: attempt.target.provider.streamUsage
        ? adapter.stream(translation)
        : withEstimatedUsage(adapter.stream(translation), estimatePromptTokens(chat.messages)),
      writer: format.streamWriter(),
      keepAlive: format.keepAlive,
    });
    if (!streamed.ok) return streamed;
    return { ok: true, value: { response: streamed.value, headers } };
  }
  const read = await readAnswer(upstream, attempt, ctx.upstream);
  if (!read.ok) return read;
  return answerOf(read.value, adapter, call, headers);
}

function answerOf(
  text: string,
  adapter: ProviderAdapter,
  call: CanonicalCall,
  headers: Record<string, string>,
): AttemptOutcome<Answer> {
  const completion = adapter.fromResponse(parseJsonOrUndefined(text), call.translation);
  if (completion instanceof GatewayError) return failure(completion);
  const usage = readOpenAIUsage(completion.usage);
  if (usage !== undefined) call.ctx.fields.usage = usage;
  const finishReasons = choiceFinishReasons(completion.choices);
  if (finishReasons !== undefined) call.ctx.fields.finish_reasons = finishReasons;
  const body = call.format.body(completion, text, adapter.passThrough);
  if (body instanceof GatewayError) return failure(body);
  return {
    ok: true,
    value: {
      response: new Response(body, { headers: { "content-type": "application/json" } }),
      headers,
    },
  };
}
