/**
 * Anthropic Message → OpenAI `chat.completion` (FACTS.md T29–T32).
 *
 * Text blocks are concatenated into `content` (null when the reply is only tool calls);
 * `tool_use` blocks become `tool_calls` with Anthropic's ids and `JSON.stringify(input)` as
 * arguments; thinking and unknown blocks are not shown. Identity (`id`, `created`, `model`)
 * comes from the context, so the client sees the model name it asked for.
 */
import { errors, type GatewayError } from "../../errors.ts";
import type { ChatCompletion, TranslationContext } from "../mod.ts";
import { fromAnthropicStopReason } from "./finish_reason.ts";
import { fromAnthropicUsage } from "./usage.ts";
import { AnthropicMessageSchema, isAnthropicTextBlock, isAnthropicToolUseBlock } from "./wire.ts";

/** One OpenAI tool call of a response message. */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/**
 * Translates a successful Messages API body, or returns a 502 `upstream_error` when the body is
 * not a Message.
 *
 * @example Usage
 * ```ts
 * import { fromAnthropicResponse } from "./response.ts";
 * fromAnthropicResponse(
 *   {
 *     id: "msg_01", type: "message", role: "assistant", model: "claude-sonnet-4-5",
 *     content: [{ type: "text", text: "Hi!" }], stop_reason: "end_turn", stop_sequence: null,
 *     usage: { input_tokens: 9, output_tokens: 3 },
 *   },
 *   { id: "chatcmpl-1", created: 1767225600, model: "claude-sonnet-4-5" },
 * );
 * ```
 */
export function fromAnthropicResponse(
  body: unknown,
  ctx: TranslationContext,
): ChatCompletion | GatewayError {
  const parsed = AnthropicMessageSchema.safeParse(body);
  if (!parsed.success) {
    return errors.upstream("anthropic answered with a body that is not a Message");
  }
  const message = parsed.data;
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of message.content) {
    if (isAnthropicTextBlock(block)) texts.push(block.text);
    else if (isAnthropicToolUseBlock(block)) {
      toolCalls.push({
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input) },
      });
    }
  }
  const content = texts.length === 0 && toolCalls.length > 0 ? null : texts.join("");
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      logprobs: null,
      finish_reason: fromAnthropicStopReason(message.stop_reason),
    }],
    usage: fromAnthropicUsage(message.usage),
  };
}
