/**
 * A canonical `chat.completion` → a Responses `response` object, for providers other than OpenAI
 * and Azure OpenAI. Pure.
 *
 * - `output`, in this order: a `reasoning` item (`rs_…`) whose summary is the provider's
 *   reasoning (`message.reasoning_content` or `message.reasoning`), when it returned any; a
 *   `message` item (`msg_…`) with an `output_text` part of the content and a `refusal` part of
 *   the refusal, when either is not empty; a `function_call` item (`fc_…`) per tool call, with
 *   `call_id` the provider's tool call id and `arguments` as the provider sent them; a call of a
 *   function of a `namespace` tool has its bare `name` and the `namespace` (see `tool_names.ts`).
 * - `status`: `completed`, or `incomplete` with `incomplete_details.reason` `max_output_tokens`
 *   (finish reason `length`) or `content_filter`; the last output item is then `incomplete` too.
 * - `usage`: see {@linkcode toResponseUsage}; null when the provider reported none.
 * - The other fields: see `output.ts`.
 */
import { errors, GatewayError } from "../../errors.ts";
import {
  finishOutcome,
  functionCallItem,
  mintCallId,
  type OutputItem,
  reasoningOf,
  type ResponseObject,
  type ResponsesContext,
  textPart,
  toResponseObject,
  toResponseUsage,
} from "./output.ts";
import { asRecord } from "../../json.ts";
import { firstChoice } from "../_canonical.ts";
import { toolNames } from "./tool_names.ts";

/** A message's content as text: a string, or the text of an array of parts. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => {
    const text = asRecord(part)?.text;
    return typeof text === "string" ? text : "";
  }).join("");
}

function functionCalls(calls: unknown, ctx: ResponsesContext): OutputItem[] | GatewayError {
  if (!Array.isArray(calls)) return [];
  const names = toolNames(ctx.request.tools);
  const items: OutputItem[] = [];
  for (const [i, value] of calls.entries()) {
    const call = asRecord(value);
    const fn = asRecord(call?.function);
    const name = fn?.name;
    if (typeof name !== "string" || name === "") {
      return errors.upstream(`The provider returned tool call ${i} without a function name`);
    }
    const args = fn?.arguments;
    items.push(functionCallItem({
      id: ctx.newItemId("fc"),
      status: "completed",
      arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
      call_id: typeof call?.id === "string" && call.id !== "" ? call.id : mintCallId(ctx.id, i),
    }, names.fromChat(name)));
  }
  return items;
}

/**
 * Translates a `chat.completion` (its first choice) to a Responses `response`, or returns a 502
 * when the completion has no message or a tool call without a name.
 *
 * @example Usage
 * ```ts
 * import { parseResponsesRequest } from "./schema.ts";
 * import { toResponsesResponse } from "./response.ts";
 * const parsed = parseResponsesRequest({ model: "claude", input: "Hi" });
 * if (!parsed.ok) throw parsed.error;
 * let n = 0;
 * const response = toResponsesResponse({
 *   object: "chat.completion",
 *   choices: [{
 *     index: 0,
 *     message: { role: "assistant", content: "Hello!" },
 *     finish_reason: "stop",
 *   }],
 *   usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
 * }, {
 *   id: "resp_1",
 *   createdAt: 1_700_000_000,
 *   model: "claude",
 *   request: parsed.request,
 *   newItemId: (prefix) => `${prefix}_${++n}`,
 * });
 * // response.output_text === "Hello!", response.status === "completed"
 * ```
 */
export function toResponsesResponse(
  completion: Readonly<Record<string, unknown>>,
  ctx: ResponsesContext,
): ResponseObject | GatewayError {
  const first = firstChoice(completion);
  if (first instanceof GatewayError) return first;
  const { choice, message } = first;
  const output: OutputItem[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning !== "") {
    output.push({
      id: ctx.newItemId("rs"),
      type: "reasoning",
      summary: [{ type: "summary_text", text: reasoning }],
    });
  }
  const text = contentText(message.content);
  const refusal = typeof message.refusal === "string" ? message.refusal : "";
  if (text !== "" || refusal !== "") {
    output.push({
      id: ctx.newItemId("msg"),
      type: "message",
      status: "completed",
      content: [
        ...(text === "" ? [] : [textPart(text)]),
        ...(refusal === "" ? [] : [{ type: "refusal" as const, refusal }]),
      ],
      role: "assistant",
    });
  }
  const calls = functionCalls(message.tool_calls, ctx);
  if (!Array.isArray(calls)) return calls;
  output.push(...calls);
  const { status, reason } = finishOutcome(choice.finish_reason);
  const last = output.at(-1);
  if (status === "incomplete" && last !== undefined && last.type !== "reasoning") {
    last.status = "incomplete";
  }
  return toResponseObject(ctx, {
    status,
    output,
    usage: toResponseUsage(completion.usage) ?? null,
    incompleteReason: reason,
  });
}
