/**
 * `POST /v1/chat/completions`: validate, route, translate, call the provider, translate back.
 */
import { GatewayError } from "../errors.ts";
import {
  type ChatCompletionRequest,
  parseChatCompletionRequest,
  wantsStreamUsage,
} from "../openai/schema.ts";
import { echoChunks, echoCompletion, echoReply } from "../providers/echo.ts";
import type { StreamItem, TranslationContext } from "../providers/mod.ts";
import { planRoute } from "../routing/route.ts";
import { estimatePromptTokens } from "../tokens/mod.ts";
import { DEFAULT_COMPLETION_RESERVE, type TokenReservation } from "./rate_limits.ts";
import { admitRequest } from "./admission.ts";
import { SSE_HEADERS } from "../sse.ts";
import { createSseWriter, renderStream } from "../streaming/client_stream.ts";
import {
  readRequestBody,
  type RequestContext,
  requireModelScope,
  type RouteDeps,
} from "./context.ts";
import { type AnswerFormat, callCanonical, type ImageCache } from "./canonical_attempt.ts";
import { runAttempts, servedBy } from "./upstream_attempt.ts";

/** Handles one chat completion request, stream or not. */
export async function handleChatCompletions(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readRequestBody(request, ctx, deps);
  const parsed = parseChatCompletionRequest(body);
  if (!parsed.ok) throw parsed.error;
  const chat = parsed.request;
  requireModelScope(ctx, chat.model);
  ctx.fields.stream = chat.stream === true;
  const plan = planRoute(chat.model, deps.routing());
  if (plan instanceof GatewayError) throw plan;
  await admitRequest(ctx, deps, {
    plan,
    model: chat.model,
    reservation: () => tokenReservation(chat),
  });
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
  const format = chatFormat(wantsStreamUsage(chat));
  const served = await runAttempts(
    plan,
    request,
    ctx,
    deps,
    (attempt, signal) =>
      callCanonical(chat, { attempt, translation, ctx, deps, signal, images, format }),
  );
  const { response, headers } = served.value;
  servedBy(served, ctx, headers);
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

async function echo(
  chat: ChatCompletionRequest,
  translation: TranslationContext,
  ctx: RequestContext,
): Promise<Response> {
  const reply = await echoReply(chat);
  const headers = { "x-choreoai-provider": "choreoai" };
  ctx.fields.finish_reasons = Array.from({ length: chat.n ?? 1 }, () => reply.finishReason);
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

/**
 * Chat Completions' answers: OpenAI chunks (the usage chunk when the client asked for it), and
 * the provider's own body when it speaks OpenAI's format.
 */
function chatFormat(includeUsage: boolean): AnswerFormat {
  return {
    streamWriter: () => createSseWriter(includeUsage),
    body: (completion, text, passThrough) => passThrough ? text : JSON.stringify(completion),
  };
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
