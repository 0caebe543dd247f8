/**
 * `POST /v1/chat/completions`: validate, route, translate, call the provider, translate back.
 */
import { errors, GatewayError } from "../errors.ts";
import { readJsonBody } from "../http/body.ts";
import { inlineImageUrls } from "../http/image_fetch.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
  wantsStreamUsage,
} from "../openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../providers/echo.ts";
import type { StreamItem, TranslationContext } from "../providers/mod.ts";
import { resolveRoute } from "../routing/route.ts";
import { estimatePromptTokens } from "../tokens.ts";
import { admit, DEFAULT_COMPLETION_RESERVE } from "./rate_limits.ts";
import { SSE_HEADERS } from "../sse.ts";
import {
  createUpstreamStream,
  renderStream,
  type StreamOutcome,
} from "../streaming/client_stream.ts";
import { parseJsonOrUndefined, readUpstreamText, sendUpstream } from "../upstream.ts";
import type { ConfiguredProvider, RequestContext, RouteDeps } from "./context.ts";

/** Handles one chat completion request, stream or not. */
export async function handleChatCompletions(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readJsonBody(request, {
    maxBytes: deps.config.maxBodyBytes,
    timeoutMs: deps.config.bodyTimeoutMs,
    deadlines: deps.deadlines,
  });
  const parsed = parseChatCompletionRequest(body);
  if (!parsed.ok) throw parsed.error;
  const chat = parsed.request;
  ctx.fields.model = chat.model;
  ctx.fields.stream = chat.stream === true;
  if (!ctx.principal.mayUseModel(chat.model)) {
    throw new GatewayError(`This API key may not use the model "${chat.model}"`, {
      status: 403,
      type: "permission_error",
      code: "model_not_allowed",
      param: "model",
    });
  }
  const route = resolveRoute(chat.model, deps.routing);
  if (route instanceof GatewayError) throw route;
  ctx.fields.provider = route.provider;
  if (ctx.limits !== undefined) {
    const tokens = ctx.limits.spec.tpm === null ? 0 : tokenReservation(chat);
    await admit(deps.limiter, ctx.limits, tokens);
  }
  const translation: TranslationContext = {
    id: `chatcmpl-${deps.randomId()}`,
    created: Math.floor(deps.now() / 1000),
    model: chat.model,
  };
  if (route.provider === "echo") return echo(chat, translation, ctx);
  const provider = deps.providers.get(route.provider);
  if (provider === undefined) throw new Error(`route to unconfigured provider ${route.provider}`);
  return await callProvider(chat, { provider, model: route.model, translation, ctx, deps });
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
  readonly provider: ConfiguredProvider;
  readonly model: string;
  readonly translation: TranslationContext;
  readonly ctx: RequestContext;
  readonly deps: RouteDeps;
}

async function callProvider(
  original: ChatCompletionRequest,
  call: ProviderCall,
): Promise<Response> {
  const { provider, translation, ctx, deps } = call;
  const { adapter } = provider;
  let chat = original;
  if (adapter.inlinesImageUrls && deps.imageFetch !== undefined) {
    const inlined = await inlineImageUrls(chat, deps.imageFetch);
    if (inlined instanceof GatewayError) throw inlined;
    chat = inlined;
  }
  const built = adapter.toRequest(chat, {
    model: call.model,
    baseUrl: provider.baseUrl,
    apiKey: provider.apiKey,
  });
  if (built instanceof GatewayError) throw built;
  const upstream = await sendUpstream(built.request, {
    fetch: deps.fetch,
    idleTimeoutMs: deps.config.upstreamTimeoutMs,
    deadlines: deps.deadlines,
    provider: adapter.name,
    signal: deps.shutdownSignal,
  });
  const { response } = upstream;
  const headers: Record<string, string> = { "x-choreoai-provider": adapter.name };
  if (built.adjusted.length > 0) headers["x-choreoai-adjusted"] = built.adjusted.join(", ");
  if (!response.ok) {
    try {
      const text = await readUpstreamText(upstream);
      throw adapter.fromError(response.status, parseJsonOrUndefined(text), response.headers);
    } finally {
      upstream.close();
    }
  }
  if (chat.stream === true) {
    const contentType = response.headers.get("content-type") ?? "";
    if (!contentType.startsWith("text/event-stream") || response.body === null) {
      upstream.close();
      throw errors.upstream(
        `${adapter.name} did not answer the stream request with an event stream`,
      );
    }
    const stream = createUpstreamStream({
      body: response.body,
      translator: adapter.stream(translation),
      includeUsage: wantsStreamUsage(chat),
      touch: upstream.touch,
      explain: upstream.explain,
      close: upstream.close,
      onEnd: (outcome) => recordOutcome(ctx, outcome),
      onFirstByte: () => (ctx.fields.ttfb_ms = deps.now() - ctx.started),
      signal: deps.shutdownSignal,
    });
    return new Response(stream, { headers: { ...SSE_HEADERS, ...headers } });
  }
  let text: string;
  try {
    text = await readUpstreamText(upstream);
  } finally {
    upstream.close();
  }
  const completion = adapter.fromResponse(parseJsonOrUndefined(text), translation);
  if (completion instanceof GatewayError) throw completion;
  if (completion.usage !== null && completion.usage !== undefined) {
    const { prompt_tokens, completion_tokens, total_tokens } = completion.usage;
    ctx.fields.usage = { prompt_tokens, completion_tokens, total_tokens };
  }
  const json = adapter.passThrough ? text : JSON.stringify(completion);
  return new Response(json, {
    headers: { "content-type": "application/json", ...headers },
  });
}

function recordOutcome(ctx: RequestContext, outcome: StreamOutcome): void {
  if (outcome.usage !== undefined) ctx.fields.usage = outcome.usage;
  if (outcome.error !== undefined && outcome.error.code !== null) {
    ctx.fields.error_code = outcome.error.code;
  }
  if (outcome.cancelled) ctx.fields.cancelled = true;
}

/** Tokens a request may use at most: the prompt estimate plus its completion budget. */
export function tokenReservation(chat: ChatCompletionRequest): number {
  const completion = chat.max_completion_tokens ?? chat.max_tokens ?? DEFAULT_COMPLETION_RESERVE;
  return estimatePromptTokens(chat.messages) + completion * (chat.n ?? 1);
}
