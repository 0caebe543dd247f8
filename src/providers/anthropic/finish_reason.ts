/**
 * Anthropic `stop_reason` → OpenAI `finish_reason` (FACTS.md T30), for responses and streams.
 *
 * The usage mapping lives in `usage.ts`; it is re-exported here for the stream translator.
 */
export { fromAnthropicUsage } from "./usage.ts";

export type { OpenAIFinishReason } from "../_chunks.ts";
import type { OpenAIFinishReason } from "../_chunks.ts";

const STOP_REASONS: Readonly<Record<string, OpenAIFinishReason>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  // A server tool paused a long turn; the reply so far is complete text, as with end_turn.
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/**
 * Maps a stop reason; null, missing or a reason added after this was written maps to `stop`.
 *
 * @example Usage
 * ```ts
 * import { fromAnthropicStopReason } from "./finish_reason.ts";
 * fromAnthropicStopReason("tool_use"); // "tool_calls"
 * ```
 */
export function fromAnthropicStopReason(reason: string | null | undefined): OpenAIFinishReason {
  if (reason === null || reason === undefined) return "stop";
  return Object.hasOwn(STOP_REASONS, reason) ? STOP_REASONS[reason] ?? "stop" : "stop";
}
