/**
 * `POST /v1/embeddings`: validate, check scopes and limits, route (public names, retries and
 * fallbacks as for chat), call the provider and answer OpenAI's embeddings list.
 */
import { joinEmbeddings, splitEmbeddingsRequest } from "../embeddings/batch.ts";
import { echoEmbeddings } from "../embeddings/echo.ts";
import {
  createEmbeddingsContext,
  type EmbeddingsContext,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  parseEmbeddingsRequest,
} from "../embeddings/schema.ts";
import { errors, GatewayError } from "../errors.ts";
import type { EmbeddingsAdapter } from "../providers/mod.ts";
import type { Attempt, AttemptOutcome } from "../routing/attempts.ts";
import { ECHO_MODEL, planRoute } from "../routing/route.ts";
import { parseJsonOrUndefined } from "../upstream.ts";
import {
  readRequestBody,
  type RequestContext,
  requireModelScope,
  type RouteDeps,
} from "./context.ts";
import type { UpstreamTimer } from "../observe/timer.ts";
import { admitRequest } from "./admission.ts";
import {
  failure,
  providerTarget,
  readAnswer,
  runAttempts,
  sendAttempt,
  servedBy,
} from "./upstream_attempt.ts";

/** Handles one embeddings request. */
export async function handleEmbeddings(
  request: Request,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  const body = await readRequestBody(request, ctx, deps);
  const parsed = parseEmbeddingsRequest(body);
  if (!parsed.ok) throw parsed.error;
  const embeddings = parsed.request;
  requireModelScope(ctx, embeddings.model);
  const plan = planRoute(embeddings.model, deps.routing());
  if (plan instanceof GatewayError) throw plan;
  const context = createEmbeddingsContext(embeddings);
  await admitRequest(ctx, deps, {
    plan,
    model: embeddings.model,
    reservation: () => ({ prompt: context.estimatedTokens, completion: undefined }),
  });
  if (plan.kind === "echo") {
    ctx.fields.provider = "choreoai";
    const answer = echoEmbeddings(embeddings, ECHO_MODEL);
    if (answer instanceof GatewayError) throw answer;
    return answerWith(answer, ctx, { "x-choreoai-provider": "choreoai" });
  }
  const served = await runAttempts(
    plan,
    request,
    ctx,
    deps,
    (attempt, signal) => callProvider(embeddings, context, attempt, signal, deps, ctx.upstream),
  );
  const headers: Record<string, string> = {};
  servedBy(served, ctx, headers);
  return answerWith(served.value, ctx, headers);
}

function answerWith(
  answer: EmbeddingsResponse,
  ctx: RequestContext,
  headers: Record<string, string>,
): Response {
  const { prompt_tokens, total_tokens } = answer.usage;
  ctx.fields.usage = { prompt_tokens, completion_tokens: 0, total_tokens };
  return Response.json(answer, { headers });
}

async function callProvider(
  embeddings: EmbeddingsRequest,
  context: EmbeddingsContext,
  attempt: Attempt,
  signal: AbortSignal,
  deps: RouteDeps,
  timer: UpstreamTimer,
): Promise<AttemptOutcome<EmbeddingsResponse>> {
  const { adapter, name } = attempt.target.provider;
  const translations = adapter.embeddings;
  if (translations === undefined) {
    return {
      ok: false,
      next: "skip",
      error: errors.modelNotFound(
        `The model "${embeddings.model}" cannot make embeddings: ${name} has no embeddings API`,
      ),
    };
  }
  const parts = translations.maxInputs === undefined
    ? [embeddings]
    : splitEmbeddingsRequest(embeddings, translations.maxInputs);
  const answers: EmbeddingsResponse[] = [];
  for (const part of parts) {
    const partContext = parts.length === 1 ? context : createEmbeddingsContext(part);
    const outcome = await callOnce(translations, part, partContext, attempt, signal, deps, timer);
    if (!outcome.ok) return outcome;
    answers.push(outcome.value);
  }
  return { ok: true, value: joinEmbeddings(answers) };
}

/** One upstream embeddings request (a batch, when the input was split). */
async function callOnce(
  translations: EmbeddingsAdapter,
  embeddings: EmbeddingsRequest,
  context: EmbeddingsContext,
  attempt: Attempt,
  signal: AbortSignal,
  deps: RouteDeps,
  timer: UpstreamTimer,
): Promise<AttemptOutcome<EmbeddingsResponse>> {
  const built = translations.toRequest(embeddings, providerTarget(attempt.target));
  if (built instanceof GatewayError) return { ok: false, error: built, next: "skip" };
  const sent = await sendAttempt(built, attempt, signal, deps, timer);
  if (!sent.ok) return sent;
  const read = await readAnswer(sent.value, attempt, timer);
  if (!read.ok) return read;
  const json = parseJsonOrUndefined(read.value);
  const answer = translations.fromResponse(json, context);
  if (answer instanceof GatewayError) return failure(answer);
  return { ok: true, value: answer };
}
