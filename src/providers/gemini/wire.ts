/**
 * Zod schemas of the Gemini API wire format as the gateway reads it back (FACTS.md §4.2–§4.4),
 * field names verbatim (proto3 JSON: lowerCamelCase). Objects are loose and almost every field is
 * optional: a field or part kind Google adds later is kept, not an error.
 *
 * Shared by the non-stream ({@linkcode GeminiResponseSchema}) and stream translations (each SSE
 * event of `:streamGenerateContent?alt=sse` is one `GenerateContentResponse`).
 */
import { z } from "zod";

/** `{name, args, id?}`: a call of one of the request's functions, `args` complete. */
export const GeminiFunctionCallSchema = z.looseObject({
  name: z.string(),
  /** Absent for a function called without arguments. */
  args: z.record(z.string(), z.unknown()).nullish(),
  /** Usually absent on the Developer API; the gateway mints OpenAI ids (see `tool_ids.ts`). */
  id: z.string().nullish(),
});

/** A parsed function call. */
export type GeminiFunctionCall = z.infer<typeof GeminiFunctionCallSchema>;

/**
 * One part of a candidate's content. A part holds one of `text`, `functionCall`, `inlineData`,
 * `fileData`, `executableCode`, … plus the flags `thought` (the text is a thought summary, shown
 * to clients as `reasoning_content`) and `thoughtSignature` (Gemini 3: must be sent back on the
 * same part, T24).
 * Unknown kinds pass and are ignored by the translations.
 */
export const GeminiPartSchema = z.looseObject({
  text: z.string().nullish(),
  thought: z.boolean().nullish(),
  thoughtSignature: z.string().nullish(),
  functionCall: GeminiFunctionCallSchema.nullish(),
  inlineData: z.looseObject({ mimeType: z.string().nullish(), data: z.string().nullish() })
    .nullish(),
});

/** A parsed part. */
export type GeminiPart = z.infer<typeof GeminiPartSchema>;

/** `{role: "model", parts}`; both may be missing on a candidate stopped by a filter. */
export const GeminiContentSchema = z.looseObject({
  role: z.string().nullish(),
  parts: z.array(GeminiPartSchema).nullish(),
});

/**
 * `STOP | MAX_TOKENS | SAFETY | RECITATION | LANGUAGE | OTHER | BLOCKLIST | PROHIBITED_CONTENT |
 * SPII | MALFORMED_FUNCTION_CALL | IMAGE_SAFETY | …`; any string is accepted so that a new reason
 * does not fail a response (FACTS.md §4.2).
 */
export const GeminiFinishReasonSchema = z.string().nullish();

/** One candidate (an OpenAI choice). `index` is missing on the first candidate of some models. */
export const GeminiCandidateSchema = z.looseObject({
  content: GeminiContentSchema.nullish(),
  finishReason: GeminiFinishReasonSchema,
  index: z.number().int().min(0).nullish(),
  safetyRatings: z.array(z.looseObject({})).nullish(),
  finishMessage: z.string().nullish(),
});

/** A parsed candidate. */
export type GeminiCandidate = z.infer<typeof GeminiCandidateSchema>;

const count = z.number().int().min(0).nullish();

/**
 * Token counts. Thoughts are output tokens counted in `totalTokenCount` but not in
 * `candidatesTokenCount`, which may be absent (FACTS.md §4.2).
 */
export const GeminiUsageMetadataSchema = z.looseObject({
  promptTokenCount: count,
  candidatesTokenCount: count,
  totalTokenCount: count,
  cachedContentTokenCount: count,
  thoughtsTokenCount: count,
  toolUsePromptTokenCount: count,
});

/** Parsed usage metadata. */
export type GeminiUsageMetadata = z.infer<typeof GeminiUsageMetadataSchema>;

/** `{blockReason, safetyRatings}`: present when the prompt was blocked (then no candidates). */
export const GeminiPromptFeedbackSchema = z.looseObject({
  blockReason: z.string().nullish(),
  blockReasonMessage: z.string().nullish(),
});

/** A `GenerateContentResponse` (also one event of a stream). */
export const GeminiResponseSchema = z.looseObject({
  candidates: z.array(GeminiCandidateSchema).nullish(),
  promptFeedback: GeminiPromptFeedbackSchema.nullish(),
  usageMetadata: GeminiUsageMetadataSchema.nullish(),
  modelVersion: z.string().nullish(),
  responseId: z.string().nullish(),
});

/** A parsed `GenerateContentResponse`. */
export type GeminiResponse = z.infer<typeof GeminiResponseSchema>;

/**
 * Google's error body `{error: {code, message, status, details?}}` (FACTS.md §4.4); also an error
 * chunk inside a 200 stream. `details` holds typed objects (`@type`), e.g.
 * `google.rpc.ErrorInfo` with `reason: "API_KEY_INVALID"` or `google.rpc.RetryInfo` with
 * `retryDelay: "37s"`.
 */
export const GeminiErrorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.number().int().nullish(),
    message: z.string().nullish(),
    status: z.string().nullish(),
    details: z.array(z.looseObject({
      "@type": z.string().nullish(),
      reason: z.string().nullish(),
      retryDelay: z.string().nullish(),
    })).nullish(),
  }),
});

/** A parsed error body. */
export type GeminiErrorBody = z.infer<typeof GeminiErrorBodySchema>;

/** Whether a part is a visible function call (not a thought). */
export function isGeminiFunctionCallPart(
  part: GeminiPart,
): part is GeminiPart & { functionCall: GeminiFunctionCall } {
  return part.functionCall !== undefined && part.functionCall !== null;
}
