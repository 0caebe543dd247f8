/**
 * A canonical `chat.completion` → an Anthropic Messages answer. Pure.
 *
 * - `id`: the `msg_…` id the route made; `model`: the model name the client sent.
 * - `content`, in this order: a `thinking` block when the provider returned reasoning
 *   (`message.reasoning_content` or `message.reasoning`), with `signature: ""` (there is none;
 *   the SDKs' types require the field); a `text` block of the content and then of a refusal, when
 *   not empty; a `tool_use` block per tool call, `input` being the parsed arguments (`""` is `{}`).
 * - Tool-call arguments that are not a JSON object are a 502 `upstream_error` naming the call, as
 *   the answer cannot be given in Messages' shape; except when the answer was cut by its token
 *   limit (`max_tokens`), where the cut call keeps `input: {}`.
 * - `stop_reason`, `stop_sequence` and `usage`: see `_finish.ts`.
 */
import { errors, GatewayError } from "../../errors.ts";
import {
  matchedStop,
  type MessagesUsage,
  readUsage,
  reasoningOf,
  type StopReason,
  toMessagesUsage,
  toStopReason,
} from "./_finish.ts";
import { asRecord } from "../../json.ts";
import { firstChoice } from "../_canonical.ts";

/** What a translation needs besides the answer. */
export interface MessagesContext {
  /** The answer's id, `msg_…`. */
  readonly id: string;
  /** The model name the client sent. */
  readonly model: string;
  /** The request's `stop_sequences`, to tell a `stop_sequence` stop. */
  readonly stopSequences?: readonly string[] | undefined;
}

/** A content block of an answer. */
export type MessagesContentBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** A Messages answer (`type: "message"`). */
export interface MessagesResponse {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: MessagesContentBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  usage: MessagesUsage;
}

/** A message's content as text: a string, or the text of an array of parts. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => {
    const text = asRecord(part)?.text;
    return typeof text === "string" ? text : "";
  }).join("");
}

/** Parses tool-call arguments to an object; undefined when they are not a JSON object. */
export function parseToolInput(args: unknown): Record<string, unknown> | undefined {
  if (args === undefined || args === null) return {};
  if (typeof args !== "string") return asRecord(args);
  if (args.trim() === "") return {};
  try {
    return asRecord(JSON.parse(args));
  } catch {
    return undefined;
  }
}

/** A tool-use id when the provider gave none. */
export function mintToolUseId(messageId: string, index: number): string {
  return `toolu_${messageId.replace(/^msg_/, "")}_${index}`;
}

function toolUseBlocks(
  calls: unknown,
  ctx: MessagesContext,
  truncated: boolean,
): MessagesContentBlock[] | GatewayError {
  if (!Array.isArray(calls)) return [];
  const blocks: MessagesContentBlock[] = [];
  for (const [i, value] of calls.entries()) {
    const call = asRecord(value);
    const fn = asRecord(call?.function);
    const name = fn?.name;
    if (typeof name !== "string" || name === "") {
      return errors.upstream(`The provider returned tool call ${i} without a function name`);
    }
    const id = typeof call?.id === "string" && call.id !== "" ? call.id : mintToolUseId(ctx.id, i);
    let input = parseToolInput(fn?.arguments);
    if (input === undefined && truncated) input = {};
    if (input === undefined) {
      return errors.upstream(
        `The provider returned arguments for tool call "${id.slice(0, 100)}" (${
          name.slice(0, 100)
        }) that are not a JSON object`,
      );
    }
    blocks.push({ type: "tool_use", id, name, input });
  }
  return blocks;
}

/**
 * Translates a `chat.completion` (its first choice) to a Messages answer, or returns a 502 when
 * the completion cannot be read or its tool calls cannot be given as `tool_use` blocks.
 *
 * @example Usage
 * ```ts
 * import { toMessagesResponse } from "./response.ts";
 * const answer = toMessagesResponse({
 *   object: "chat.completion",
 *   choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }],
 *   usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
 * }, { id: "msg_01", model: "gpt-4o" });
 * // answer.content: [{type: "text", text: "Hi!"}], answer.stop_reason: "end_turn"
 * ```
 */
export function toMessagesResponse(
  completion: Readonly<Record<string, unknown>>,
  ctx: MessagesContext,
): MessagesResponse | GatewayError {
  const first = firstChoice(completion);
  if (first instanceof GatewayError) return first;
  const { choice, message } = first;
  const content: MessagesContentBlock[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning !== "") content.push({ type: "thinking", thinking: reasoning, signature: "" });
  const text = contentText(message.content);
  if (text !== "") content.push({ type: "text", text });
  const refusal = typeof message.refusal === "string" ? message.refusal : "";
  if (refusal !== "") content.push({ type: "text", text: refusal });
  const tools = toolUseBlocks(message.tool_calls, ctx, choice.finish_reason === "length");
  if (!Array.isArray(tools)) return tools;
  content.push(...tools);
  const stops = ctx.stopSequences ?? [];
  const { stop_reason, stop_sequence } = toStopReason({
    finishReason: choice.finish_reason,
    toolUse: tools.length > 0,
    refusal: refusal !== "",
    stopSequence: [undefined, null, "stop"].includes(choice.finish_reason as string)
      ? matchedStop(stops, choice.stop_reason, text)
      : undefined,
  });
  return {
    id: ctx.id,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content,
    stop_reason,
    stop_sequence,
    usage: toMessagesUsage(readUsage(completion.usage)),
  };
}
