/**
 * Zod schemas of Anthropic's Messages API wire format as the gateway reads it back (FACTS.md §3),
 * field names verbatim. Objects are loose: a field Anthropic adds later is kept, not an error.
 *
 * Shared by the non-stream ({@linkcode AnthropicMessageSchema}) and stream translations.
 */
import { z } from "zod";

/**
 * Token counts of a message. `input_tokens` excludes cached tokens; the total input is
 * `input_tokens + cache_creation_input_tokens + cache_read_input_tokens` (FACTS.md §3.2).
 */
export const AnthropicUsageSchema = z.looseObject({
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  cache_creation_input_tokens: z.number().int().min(0).nullish(),
  cache_read_input_tokens: z.number().int().min(0).nullish(),
});

/** Anthropic usage, as parsed. */
export type AnthropicUsage = z.infer<typeof AnthropicUsageSchema>;

/**
 * The cumulative usage of a stream's `message_delta` event: `output_tokens` is always there, the
 * input counts may be missing or null (FACTS.md §3.3).
 */
export const AnthropicDeltaUsageSchema = z.looseObject({
  input_tokens: z.number().int().min(0).nullish(),
  output_tokens: z.number().int().min(0),
  cache_creation_input_tokens: z.number().int().min(0).nullish(),
  cache_read_input_tokens: z.number().int().min(0).nullish(),
});

/** `{type: "text", text}` (citations, when present, are kept but not read). */
export const AnthropicTextBlockSchema = z.looseObject({
  type: z.literal("text"),
  text: z.string(),
});

/** `{type: "tool_use", id, name, input}`: a call of one of the request's tools. */
export const AnthropicToolUseBlockSchema = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});

/** `{type: "thinking", thinking, signature}`: extended thinking, not shown to OpenAI clients. */
export const AnthropicThinkingBlockSchema = z.looseObject({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string().optional(),
});

const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set(["text", "tool_use", "thinking"]);

/**
 * Any other block (`redacted_thinking`, `server_tool_use`, a type added later): tolerated and
 * ignored. A known type with the wrong fields does not fall back to this one.
 */
export const AnthropicUnknownBlockSchema = z.looseObject({
  type: z.string().refine((type) => !KNOWN_BLOCK_TYPES.has(type), {
    message: "is a known block type with invalid fields",
  }),
});

/** One content block of a response. */
export const AnthropicContentBlockSchema = z.union([
  AnthropicTextBlockSchema,
  AnthropicToolUseBlockSchema,
  AnthropicThinkingBlockSchema,
  AnthropicUnknownBlockSchema,
]);

/** One content block, as parsed. */
export type AnthropicContentBlock = z.infer<typeof AnthropicContentBlockSchema>;

/**
 * Why the model stopped: `end_turn | max_tokens | stop_sequence | tool_use | pause_turn | refusal
 * | model_context_window_exceeded`, null in `message_start`. Any string is accepted so that a new
 * reason does not fail a response.
 */
export const AnthropicStopReasonSchema = z.string().nullable();

/** A Messages API response (`message_start` carries the same shape with empty content). */
export const AnthropicMessageSchema = z.looseObject({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  model: z.string(),
  content: z.array(AnthropicContentBlockSchema),
  stop_reason: AnthropicStopReasonSchema,
  stop_sequence: z.string().nullish(),
  usage: AnthropicUsageSchema,
});

/** A Messages API response, as parsed. */
export type AnthropicMessage = z.infer<typeof AnthropicMessageSchema>;

/**
 * An error body, `{type: "error", error: {type, message}, request_id?}`; also the data of a
 * stream's `error` event. `error.type` is e.g. `invalid_request_error`, `overloaded_error`.
 */
export const AnthropicErrorBodySchema = z.looseObject({
  type: z.literal("error"),
  error: z.looseObject({
    type: z.string(),
    message: z.string(),
  }),
  request_id: z.string().nullish(),
});

/** An error body, as parsed. */
export type AnthropicErrorBody = z.infer<typeof AnthropicErrorBodySchema>;

/** A parsed text block. */
export type AnthropicTextBlock = z.infer<typeof AnthropicTextBlockSchema>;

/** A parsed tool_use block. */
export type AnthropicToolUseBlock = z.infer<typeof AnthropicToolUseBlockSchema>;

/**
 * Whether a parsed block is a text block. Sound because {@linkcode AnthropicUnknownBlockSchema}
 * refuses the known types: a parsed block of type `text` has passed the text schema.
 */
export function isAnthropicTextBlock(block: AnthropicContentBlock): block is AnthropicTextBlock {
  return block.type === "text";
}

/** Whether a parsed block is a tool_use block (see {@linkcode isAnthropicTextBlock}). */
export function isAnthropicToolUseBlock(
  block: AnthropicContentBlock,
): block is AnthropicToolUseBlock {
  return block.type === "tool_use";
}
