/**
 * Gemini `finishReason` → OpenAI `finish_reason` and `usageMetadata` → OpenAI usage (FACTS.md
 * T30, T31), for responses and streams.
 */
import type { Usage } from "../../openai/schema.ts";

export type { OpenAIFinishReason } from "../_chunks.ts";
import type { OpenAIFinishReason } from "../_chunks.ts";

/** Reasons that mean a filter cut or withheld the reply. */
const CONTENT_FILTER_REASONS: ReadonlySet<string> = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/**
 * Maps a finish reason. Gemini has no tool finish reason: a turn that called functions ends with
 * `STOP`, so `sawFunctionCall` (any `functionCall` part in the candidate, in any stream chunk)
 * turns `STOP`, or a missing reason, into `tool_calls`. `MAX_TOKENS` → `length`; safety,
 * recitation, blocklist, prohibited-content, SPII and image-safety reasons → `content_filter`;
 * `LANGUAGE`, `OTHER`, `FINISH_REASON_UNSPECIFIED`, `MALFORMED_FUNCTION_CALL`,
 * `UNEXPECTED_TOOL_CALL`, `TOO_MANY_TOOL_CALLS` and reasons added later → `stop`.
 *
 * @example Usage
 * ```ts
 * import { fromGeminiFinishReason } from "./finish_reason.ts";
 * fromGeminiFinishReason("STOP", true); // "tool_calls"
 * fromGeminiFinishReason("SAFETY", false); // "content_filter"
 * ```
 */
export function fromGeminiFinishReason(
  reason: string | null | undefined,
  sawFunctionCall: boolean,
): OpenAIFinishReason {
  if (reason === null || reason === undefined || reason === "STOP") {
    return sawFunctionCall ? "tool_calls" : "stop";
  }
  if (reason === "MAX_TOKENS") return "length";
  if (CONTENT_FILTER_REASONS.has(reason)) return "content_filter";
  return "stop";
}

/** The usage counts the mapping reads (a parsed `GeminiUsageMetadataSchema`). */
export interface GeminiUsageCounts {
  readonly promptTokenCount?: number | null | undefined;
  readonly candidatesTokenCount?: number | null | undefined;
  readonly totalTokenCount?: number | null | undefined;
  readonly cachedContentTokenCount?: number | null | undefined;
  readonly thoughtsTokenCount?: number | null | undefined;
  readonly toolUsePromptTokenCount?: number | null | undefined;
}

/** OpenAI usage with the cached and reasoning shares. */
export interface GeminiOpenAIUsage extends Usage {
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * Maps usage: `prompt_tokens = promptTokenCount + toolUsePromptTokenCount`, `completion_tokens =
 * candidatesTokenCount + thoughtsTokenCount` (thoughts are output tokens Gemini leaves out of
 * `candidatesTokenCount`), `reasoning_tokens = thoughtsTokenCount`, `cached_tokens =
 * cachedContentTokenCount` (a subset of the prompt, as on OpenAI); missing counts are 0.
 *
 * `total_tokens` is `prompt_tokens + completion_tokens`, so the numbers always add up; that equals
 * Gemini's `totalTokenCount` whenever Gemini's counts are consistent. Only when no other count is
 * known is `totalTokenCount` used as is.
 *
 * @example Usage
 * ```ts
 * import { fromGeminiUsage } from "./finish_reason.ts";
 * fromGeminiUsage({
 *   promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 20, totalTokenCount: 35,
 * });
 * // { prompt_tokens: 10, completion_tokens: 25, total_tokens: 35,
 * //   prompt_tokens_details: { cached_tokens: 0 },
 * //   completion_tokens_details: { reasoning_tokens: 20 } }
 * ```
 */
export function fromGeminiUsage(usage: GeminiUsageCounts): GeminiOpenAIUsage {
  const thoughts = usage.thoughtsTokenCount ?? 0;
  const promptTokens = (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0);
  const completionTokens = (usage.candidatesTokenCount ?? 0) + thoughts;
  const sum = promptTokens + completionTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: sum === 0 ? usage.totalTokenCount ?? 0 : sum,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}
