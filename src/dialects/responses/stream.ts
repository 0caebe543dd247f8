/**
 * Canonical stream items (OpenAI chat chunks) → OpenAI's Responses stream events, as an
 * {@linkcode SseWriter} the route plugs in place of the chat writer. Pure and synchronous.
 *
 * Each event is `event: <type>` + `data: <JSON>` with `type` and an increasing
 * `sequence_number` from 0: `response.created` and `response.in_progress` at the first chunk
 * (status `in_progress`, empty output); then per output item `response.output_item.added`, its
 * own events, `response.output_item.done`:
 *
 * - reasoning (`delta.reasoning_content` / `delta.reasoning`): a `reasoning` item with one
 *   summary part: `response.reasoning_summary_part.added`, `….reasoning_summary_text.delta`s,
 *   `….reasoning_summary_text.done`, `….reasoning_summary_part.done`;
 * - text (`delta.content`) and refusals (`delta.refusal`): a `message` item, each run of one
 *   kind a content part: `response.content_part.added`, `response.output_text.delta`s (or
 *   `response.refusal.delta`s), `….done`, `response.content_part.done`;
 * - tool calls: a `function_call` item per call (`tool_calls[].index`), added once its name is
 *   known (a function of a `namespace` tool: its bare `name` and the `namespace`), then
 *   `response.function_call_arguments.delta` with each piece as it arrives and `….done`. Parallel calls whose pieces interleave stay open side by side: Responses events
 *   name their item by `output_index`, so nothing waits.
 *
 * Reasoning after text, or text after reasoning, starts a new item; a tool call closes the open
 * reasoning or message item; calls close when the answer finishes. At `done` (after OpenAI's
 * usage chunk) comes `response.completed`, or `response.incomplete` (finish reason `length` or
 * `content_filter`), with the whole response object built as `response.ts` builds it. An
 * `error` item after the start is an `error` event (`code`, `message`, `param`) followed by
 * `response.failed` (its `error` set), which Codex reads; before the start it is only recorded,
 * so the route can still answer with a plain HTTP error.
 */
import type { GatewayError } from "../../errors.ts";
import { readOpenAIUsage, type RecordedUsage } from "../../openai/usage.ts";
import type { StreamItem } from "../../providers/mod.ts";
import type { SseWriter } from "../../streaming/client_stream.ts";
import { OutputEvents } from "./_output_events.ts";
import {
  finishOutcome,
  reasoningOf,
  type ResponseObject,
  type ResponsesContext,
  type ResponseUsage,
  toResponseObject,
  toResponseUsage,
} from "./output.ts";
import { asRecord } from "../../json.ts";
import { dispatchStreamItem } from "../_canonical.ts";

/** A Responses stream writer; `response` is the final object once the stream is over. */
export interface ResponsesSseWriter extends SseWriter {
  /** The `response.completed` / `.incomplete` / `.failed` object; undefined before the end. */
  readonly response: ResponseObject | undefined;
}

/**
 * Creates the writer for one Responses stream.
 *
 * @example Usage
 * ```ts
 * import { parseResponsesRequest } from "./schema.ts";
 * import { createResponsesSseWriter } from "./stream.ts";
 * const parsed = parseResponsesRequest({ model: "claude", input: "Hi", stream: true });
 * if (!parsed.ok) throw parsed.error;
 * let n = 0;
 * const writer = createResponsesSseWriter({
 *   id: "resp_1",
 *   createdAt: 1_700_000_000,
 *   model: "claude",
 *   request: parsed.request,
 *   newItemId: (prefix) => `${prefix}_${++n}`,
 * });
 * writer.push({ type: "chunk", chunk: { choices: [{ index: 0, delta: { content: "Hi" } }] } });
 * writer.push({ type: "done" });
 * writer.take(); // "event: response.created\ndata: {…}\n\n…event: response.completed\n…"
 * ```
 */
export function createResponsesSseWriter(ctx: ResponsesContext): ResponsesSseWriter {
  let out = "";
  let sequence = 0;
  let started = false;
  let finished = false;
  let usage: ResponseUsage | undefined;
  /** The same usage as records keep it (with the cache writes, which Responses cannot show). */
  let recorded: RecordedUsage | undefined;
  let error: GatewayError | undefined;
  let response: ResponseObject | undefined;
  let finishReason: unknown = null;
  const emit = (type: string, data: Record<string, unknown>) => {
    const event = { type, ...data, sequence_number: sequence++ };
    out += `event: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
  };
  const items = new OutputEvents(ctx, emit);
  const lifecycle = (type: string, status: ResponseObject["status"], extra = {}) => {
    const over = status !== "in_progress";
    response = toResponseObject(ctx, {
      status,
      output: over ? items.output : [],
      usage: over ? usage ?? null : null,
      ...extra,
    });
    emit(type, { response });
  };
  const start = () => {
    if (started) return;
    started = true;
    lifecycle("response.created", "in_progress");
    lifecycle("response.in_progress", "in_progress");
  };
  const fail = (failure: GatewayError) => {
    error = failure;
    finished = true;
    if (!started) return;
    emit("error", { code: failure.code, message: failure.message, param: failure.param });
    items.abandon();
    lifecycle("response.failed", "failed", {
      error: { code: failure.code ?? "server_error", message: failure.message },
    });
  };
  const chunk = (value: Record<string, unknown>) => {
    start();
    usage = toResponseUsage(value.usage) ?? usage;
    recorded = readOpenAIUsage(value.usage) ?? recorded;
    for (const entry of Array.isArray(value.choices) ? value.choices : []) {
      const choice = asRecord(entry);
      if (choice === undefined || (choice.index ?? 0) !== 0) continue;
      const delta = asRecord(choice.delta) ?? {};
      items.reasoning(reasoningOf(delta));
      items.message("text", typeof delta.content === "string" ? delta.content : "");
      items.message("refusal", typeof delta.refusal === "string" ? delta.refusal : "");
      for (const piece of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        items.toolPiece(piece);
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        finishReason = choice.finish_reason;
        const failure = items.closeAll(finishReason);
        if (failure !== undefined) return fail(failure);
      }
    }
  };
  const end = () => {
    start();
    const failure = items.closeAll(finishReason);
    if (failure !== undefined) return fail(failure);
    const { status, reason } = finishOutcome(finishReason);
    const type = status === "completed" ? "response.completed" : "response.incomplete";
    lifecycle(type, status, { incompleteReason: reason });
    finished = true;
  };

  return {
    push(item: StreamItem) {
      if (!finished) dispatchStreamItem(item, { chunk, end, fail });
    },
    take() {
      const text = out;
      out = "";
      return text;
    },
    get finished() {
      return finished;
    },
    get hasData() {
      return started;
    },
    get usage(): RecordedUsage | undefined {
      return recorded;
    },
    get error() {
      return error;
    },
    get finishReasons() {
      return typeof finishReason === "string" ? [finishReason] : undefined;
    },
    get response() {
      return finished ? response : undefined;
    },
  };
}
