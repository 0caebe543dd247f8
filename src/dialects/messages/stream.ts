/**
 * Canonical stream items (OpenAI chunks) → Anthropic's Messages event sequence, as an
 * {@linkcode SseWriter} the route plugs in place of the chat writer. Pure and synchronous.
 *
 * Events, each `event: <type>` + `data: <JSON>`: `message_start` (at the first chunk; empty
 * content; `usage.input_tokens` the route's estimate or 0), then per block `content_block_start`,
 * `content_block_delta`s (`thinking_delta` from `delta.reasoning_content` / `delta.reasoning`,
 * `text_delta` from `delta.content` and `delta.refusal`, `input_json_delta` with each piece of a
 * tool call's arguments as it arrives), `content_block_stop`; a new block whenever the kind
 * changes, indexes 0, 1, 2, … Then, at the end (`done`, which comes after OpenAI's usage chunk),
 * `message_delta` with `stop_reason`, `stop_sequence` and the whole usage (see `_finish.ts`), and
 * `message_stop`. A `done` without a finish reason still ends well-formed; an `error` item is an
 * `event: error` and the end.
 *
 * Parallel tool calls (OpenAI `tool_calls` indexes 0, 1, …) become consecutive `tool_use` blocks.
 * Anthropic blocks cannot interleave, so while one tool block is open another call's pieces wait:
 * the open block is closed, and the waiting call started, as soon as the open call's arguments
 * are a complete JSON value (OpenAI sends calls one after the other, so they stream live);
 * otherwise the waiting calls are sent whole when the answer finishes. Pieces for a call whose
 * block was closed are an error (its JSON was complete) unless they are only whitespace.
 */
import { errors, type GatewayError } from "../../errors.ts";
import { readOpenAIUsage, type RecordedUsage } from "../../openai/usage.ts";
import type { StreamItem } from "../../providers/mod.ts";
import type { SseWriter } from "../../streaming/client_stream.ts";
import { matchedStop, readUsage, reasoningOf, toMessagesUsage, toStopReason } from "./_finish.ts";
import { messagesErrorEvent } from "./errors.ts";
import { type MessagesContext, mintToolUseId } from "./response.ts";
import { asRecord } from "../../json.ts";
import { dispatchStreamItem } from "../_canonical.ts";

/** What the stream needs besides the items. */
export interface MessagesStreamContext extends MessagesContext {
  /** `message_start`'s `input_tokens` (the prompt estimate); the real count comes at the end. */
  readonly inputTokens?: number | undefined;
}

interface ToolCall {
  id: string | undefined;
  name: string | undefined;
  /** Arguments received but not yet sent. */
  pending: string;
  /** Arguments sent in the block. */
  sent: string;
  state: "waiting" | "open" | "closed";
}

type Block = { kind: "text" | "thinking" } | { kind: "tool"; call: ToolCall };

/** The `ping` event, for the route's keep-alive timer while a provider is silent. */
export function pingEvent(): string {
  return 'event: ping\ndata: {"type":"ping"}\n\n';
}

function sseEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** Whether `json` is a complete JSON value (cheap check first: it must end like an object). */
function isCompleteJson(json: string): boolean {
  if (!json.trimEnd().endsWith("}")) return false;
  try {
    JSON.parse(json);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the writer for one Messages stream.
 *
 * @example Usage
 * ```ts
 * import { createMessagesSseWriter } from "./stream.ts";
 * const writer = createMessagesSseWriter({ id: "msg_01", model: "gpt-4o" });
 * writer.push({ type: "chunk", chunk: { choices: [{ index: 0, delta: { content: "Hi" } }] } });
 * writer.push({ type: "done" });
 * writer.take(); // "event: message_start\ndata: {…}\n\nevent: content_block_start\n…"
 * ```
 */
export function createMessagesSseWriter(ctx: MessagesStreamContext): SseWriter {
  const stops = ctx.stopSequences ?? [];
  const tailLength = Math.max(0, ...stops.map((stop) => stop.length));
  let out = "";
  let started = false;
  let finished = false;
  let usage: ReturnType<typeof readUsage>;
  /** The same usage as records keep it (with the reasoning share). */
  let recorded: RecordedUsage | undefined;
  let error: GatewayError | undefined;
  let current: Block | undefined;
  let nextIndex = 0;
  const calls = new Map<number, ToolCall>();
  const waiting: ToolCall[] = [];
  let finishReason: unknown = null;
  let providerStop: unknown;
  let textTail = "";
  let toolUse = false;
  let refusal = false;

  const emit = (type: string, data: Record<string, unknown>) => {
    out += sseEvent(type, data);
  };
  const start = () => {
    if (started) return;
    started = true;
    const message = {
      id: ctx.id,
      type: "message",
      role: "assistant",
      model: ctx.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: toMessagesUsage(undefined, ctx.inputTokens ?? 0),
    };
    emit("message_start", { message });
  };
  const close = () => {
    if (current === undefined) return;
    emit("content_block_stop", { index: nextIndex - 1 });
    if (current.kind === "tool") current.call.state = "closed";
    current = undefined;
  };
  const open = (block: Block, contentBlock: Record<string, unknown>) => {
    close();
    emit("content_block_start", { index: nextIndex++, content_block: contentBlock });
    current = block;
  };
  const openTool = (call: ToolCall) => {
    waiting.splice(waiting.indexOf(call), 1);
    call.state = "open";
    toolUse = true;
    const id = call.id ?? mintToolUseId(ctx.id, nextIndex);
    open({ kind: "tool", call }, { type: "tool_use", id, name: call.name, input: {} });
  };
  const flush = (call: ToolCall) => {
    if (call.pending === "") return;
    emit("content_block_delta", {
      index: nextIndex - 1,
      delta: { type: "input_json_delta", partial_json: call.pending },
    });
    call.sent += call.pending;
    call.pending = "";
  };
  /** Sends what can be sent now: the open call's pieces, then waiting calls whose turn came. */
  const pump = () => {
    for (;;) {
      if (current?.kind === "tool") {
        flush(current.call);
        if (waiting.length === 0 || !isCompleteJson(current.call.sent)) return;
        close();
      }
      const next = waiting[0];
      if (next === undefined || next.name === undefined) return;
      openTool(next);
    }
  };
  const text = (kind: "text" | "thinking", value: string) => {
    if (value === "") return;
    if (current?.kind !== kind) {
      open(
        { kind },
        kind === "text" ? { type: "text", text: "" } : {
          type: "thinking",
          thinking: "",
          signature: "",
        },
      );
    }
    const delta = kind === "text"
      ? { type: "text_delta", text: value }
      : { type: "thinking_delta", thinking: value };
    emit("content_block_delta", { index: nextIndex - 1, delta });
    if (kind === "text" && tailLength > 0) textTail = (textTail + value).slice(-tailLength);
  };
  const toolDelta = (value: unknown): GatewayError | undefined => {
    const piece = asRecord(value);
    const key = typeof piece?.index === "number" ? piece.index : 0;
    const fn = asRecord(piece?.function);
    const args = typeof fn?.arguments === "string" ? fn.arguments : "";
    let call = calls.get(key);
    if (call === undefined) {
      call = { id: undefined, name: undefined, pending: "", sent: "", state: "waiting" };
      calls.set(key, call);
      waiting.push(call);
    }
    if (call.state === "closed") {
      if (args.trim() === "") return undefined;
      return errors.upstream(
        `The provider sent more arguments for tool call ${key} after they were complete`,
      );
    }
    if (typeof piece?.id === "string" && piece.id !== "") call.id ??= piece.id;
    if (typeof fn?.name === "string" && fn.name !== "") call.name ??= fn.name;
    call.pending += args;
    pump();
    return undefined;
  };
  /** Closes the open block and sends every waiting call whole. */
  const closeAll = (): GatewayError | undefined => {
    close();
    for (const call of [...waiting]) {
      if (call.name === undefined) {
        return errors.upstream("The provider sent a tool call without a function name");
      }
      openTool(call);
      flush(call);
      close();
    }
    return undefined;
  };
  const fail = (failure: GatewayError) => {
    out += messagesErrorEvent(failure);
    error = failure;
    finished = true;
  };
  const chunk = (value: Record<string, unknown>) => {
    start();
    usage = readUsage(value.usage) ?? usage;
    recorded = readOpenAIUsage(value.usage) ?? recorded;
    const choices = Array.isArray(value.choices) ? value.choices : [];
    for (const item of choices) {
      const choice = asRecord(item);
      if (choice === undefined || (choice.index ?? 0) !== 0) continue;
      const delta = asRecord(choice.delta) ?? {};
      text("thinking", reasoningOf(delta));
      text("text", typeof delta.content === "string" ? delta.content : "");
      if (typeof delta.refusal === "string" && delta.refusal !== "") {
        refusal = true;
        text("text", delta.refusal);
      }
      for (const piece of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        const failure = toolDelta(piece);
        if (failure !== undefined) return fail(failure);
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        finishReason = choice.finish_reason;
        providerStop = choice.stop_reason;
        const failure = closeAll();
        if (failure !== undefined) return fail(failure);
      }
    }
  };
  const end = () => {
    start();
    const failure = closeAll();
    if (failure !== undefined) return fail(failure);
    const stopped = finishReason === "stop" || finishReason === null;
    const delta = toStopReason({
      finishReason,
      toolUse,
      refusal,
      stopSequence: stopped ? matchedStop(stops, providerStop, textTail) : undefined,
    });
    emit("message_delta", { delta, usage: toMessagesUsage(usage, ctx.inputTokens ?? 0) });
    emit("message_stop", {});
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
  };
}
