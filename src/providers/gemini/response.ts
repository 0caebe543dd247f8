/**
 * Gemini `GenerateContentResponse` → OpenAI `chat.completion` (FACTS.md §4.2, T29–T32).
 *
 * - Each candidate becomes the choice with its `index` (proto3 JSON omits `index: 0`, so a
 *   missing index is the candidate's position); choices are sorted by index.
 * - Text parts are concatenated into `content`; thought parts (`thought: true`, whose text is a
 *   thought summary, sent only when the request set `includeThoughts`) into `reasoning_content`,
 *   the field DeepSeek and vLLM answer with, present only when there were thoughts.
 *   `functionCall` parts become `tool_calls` with ids from `tool_ids.ts` (deterministic, carrying
 *   the part's `thoughtSignature`, T24) and `JSON.stringify(args)` as arguments. `content` is
 *   null when the candidate has no text and called functions or was filtered, else a string.
 *   Other parts (inline data, code execution, …) have no Chat Completions equivalent and are
 *   skipped.
 * - `finish_reason` from `fromGeminiFinishReason` (`STOP` with calls → `tool_calls`);
 *   usage from `fromGeminiUsage`, omitted when Gemini sent no `usageMetadata`.
 * - A blocked prompt (`promptFeedback.blockReason`, no candidates) is a 400
 *   `invalid_request_error` with code `content_filter`, param `messages` and the block reason in
 *   the message, as Azure OpenAI answers a filtered prompt. (A stream, already answered with 200,
 *   reports it as a `content_filter` finish instead.) No candidates and no block reason is a 502.
 * - Identity (`id`, `created`, `model`) comes from the context, so the client sees the model name
 *   it asked for.
 */
import { errors, GatewayError } from "../../errors.ts";
import type { ChatCompletion, TranslationContext } from "../mod.ts";
import { fromGeminiFinishReason, fromGeminiUsage } from "./finish_reason.ts";
import { toolCallIdFor } from "./tool_ids.ts";
import { type GeminiCandidate, GeminiResponseSchema, isGeminiFunctionCallPart } from "./wire.ts";

/** One OpenAI tool call of a response message. */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * Translates a successful `generateContent` body, or returns a 400 for a blocked prompt and a
 * 502 `upstream_error` when the body is not a `GenerateContentResponse`.
 *
 * @example Usage
 * ```ts
 * import { fromGeminiResponse } from "./response.ts";
 * fromGeminiResponse(
 *   {
 *     candidates: [{ content: { role: "model", parts: [{ text: "Hi!" }] }, finishReason: "STOP" }],
 *     usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
 *   },
 *   { id: "chatcmpl-1", created: 1767225600, model: "gemini-2.5-flash" },
 * );
 * ```
 */
export function fromGeminiResponse(
  body: unknown,
  ctx: TranslationContext,
): ChatCompletion | GatewayError {
  const parsed = GeminiResponseSchema.safeParse(body);
  if (!parsed.success) {
    return errors.upstream("gemini answered with a body that is not a GenerateContentResponse");
  }
  const response = parsed.data;
  const candidates = response.candidates ?? [];
  if (candidates.length === 0) {
    const feedback = response.promptFeedback;
    const reason = feedback?.blockReason;
    if (typeof reason === "string" && reason !== "") {
      const detail = feedback?.blockReasonMessage;
      return new GatewayError(
        `Gemini blocked the prompt (block reason ${reason})` +
          (typeof detail === "string" && detail !== "" ? `: ${detail}` : ""),
        { status: 400, type: "invalid_request_error", code: "content_filter", param: "messages" },
      );
    }
    return errors.upstream("gemini answered without candidates");
  }
  const choices = candidates
    .map((candidate, position) => toChoice(candidate, candidate.index ?? position, ctx.id))
    .sort((a, b) => a.index - b.index);
  const usage = response.usageMetadata;
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices,
    ...(usage === undefined || usage === null ? {} : { usage: fromGeminiUsage(usage) }),
  };
}

function toChoice(
  candidate: GeminiCandidate,
  index: number,
  completionId: string,
): { index: number; [key: string]: unknown } {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    if (part.thought === true) {
      if (typeof part.text === "string") thoughts.push(part.text);
      continue;
    }
    if (isGeminiFunctionCallPart(part)) {
      toolCalls.push({
        id: toolCallIdFor(completionId, {
          candidate: index,
          call: toolCalls.length,
          signature: part.thoughtSignature,
        }),
        type: "function",
        function: {
          name: part.functionCall.name,
          arguments: JSON.stringify(part.functionCall.args ?? {}),
        },
      });
    } else if (typeof part.text === "string") {
      texts.push(part.text);
    }
  }
  const finishReason = fromGeminiFinishReason(candidate.finishReason, toolCalls.length > 0);
  const text = texts.join("");
  const content = text === "" && (toolCalls.length > 0 || finishReason === "content_filter")
    ? null
    : text;
  const reasoning = thoughts.join("");
  return {
    index,
    message: {
      role: "assistant",
      content,
      ...(reasoning === "" ? {} : { reasoning_content: reasoning }),
      refusal: null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    },
    logprobs: null,
    finish_reason: finishReason,
  };
}
