/**
 * Anthropic Messages SSE events → OpenAI `chat.completion.chunk` stream items (FACTS.md §3.3,
 * T33, T35, T36).
 *
 * - `message_start` → the first chunk, `delta: {role: "assistant", content: ""}`; its usage (input
 *   and cache tokens) is kept.
 * - `content_block_start` of a `tool_use` block → a `tool_calls` delta with the call's `id`,
 *   `name` and empty `arguments`. Its `index` counts tool calls only (dense, 0-based), not
 *   Anthropic's block index. Other blocks (text, thinking, server tools) start silently.
 * - `content_block_delta`: `text_delta` → `content`; `input_json_delta` → an `arguments` piece
 *   (the empty first fragment Anthropic often sends is skipped). `thinking_delta`,
 *   `signature_delta`, `citations_delta` and unknown deltas have no Chat Completions equivalent
 *   and are dropped.
 * - `content_block_stop` → nothing, except for a tool call that got no `arguments` piece at all
 *   (a tool without parameters): it gets `JSON.stringify(input)` (`"{}"`), so that its arguments
 *   are valid JSON, as in the non-stream answer.
 * - `message_delta` → `delta: {}` with the mapped `finish_reason` (once). Its usage counts are
 *   cumulative: each one present replaces the value kept so far.
 * - `message_stop` → the usage chunk (`choices: []`, always: the client writer drops it unless
 *   the client asked for it), then `done`.
 * - `ping` and unknown event types → nothing. `error` → an error item (no `done`). Data that is
 *   not a JSON object, or a known event missing what the API promises → a 502 error item.
 * - The body ending without `message_stop` → nothing: the writer reports the early end.
 */
import { errors, type GatewayError } from "../../errors.ts";
import type { SseEvent } from "../../sse.ts";
import type { Emit, StreamTranslator, TranslationContext } from "../mod.ts";
import { fromAnthropicStreamError } from "./error.ts";
import { choiceChunk, type OpenAIFinishReason, usageChunk } from "../_chunks.ts";
import { fromAnthropicStopReason } from "./finish_reason.ts";
import { fromAnthropicUsage } from "./usage.ts";

type JsonObject = Record<string, unknown>;

/** The usage fields Anthropic reports, as last seen. */
interface UsageSoFar {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

const USAGE_FIELDS = [
  "input_tokens",
  "output_tokens",
  "cache_creation_input_tokens",
  "cache_read_input_tokens",
] as const;

/** A `tool_use` block being streamed. */
interface ToolBlock {
  /** The call's OpenAI `tool_calls[].index`. */
  readonly index: number;
  /** `content_block_start`'s `input` (normally `{}`). */
  readonly input: unknown;
  /** A non-empty `arguments` piece was sent. */
  sentArguments: boolean;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(what: string): GatewayError {
  return errors.upstream(`anthropic sent a ${what} that is not what the Messages API promises`);
}

/** Copies the numeric usage fields of `source` over `usage` (null or absent ones are kept). */
function mergeUsage(usage: UsageSoFar, source: unknown): void {
  if (!isObject(source)) return;
  for (const field of USAGE_FIELDS) {
    const value = source[field];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) usage[field] = value;
  }
}

/** Creates the translator of one Anthropic stream. */
export function anthropicStream(ctx: TranslationContext, provider = "anthropic"): StreamTranslator {
  let started = false;
  let finishSent = false;
  let over = false;
  let usageSeen = false;
  let toolCount = 0;
  const tools = new Map<number, ToolBlock>();
  const usage: UsageSoFar = {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };

  /** Sends the role chunk, once, before anything else. */
  const start = (emit: Emit) => {
    if (started) return;
    started = true;
    emit(choiceChunk(ctx, 0, { role: "assistant", content: "" }, null));
  };
  const chunk = (emit: Emit, delta: JsonObject, finishReason: OpenAIFinishReason | null = null) => {
    start(emit);
    emit(choiceChunk(ctx, 0, delta, finishReason));
  };
  const fail = (emit: Emit, error: GatewayError) => {
    over = true;
    emit({ type: "error", error });
  };
  const toolCall = (emit: Emit, call: JsonObject) => chunk(emit, { tool_calls: [call] });

  const handlers: Record<string, (data: JsonObject, emit: Emit) => void> = {
    message_start(data, emit) {
      if (started) return;
      const message = data.message;
      if (isObject(message) && isObject(message.usage)) {
        mergeUsage(usage, message.usage);
        usageSeen = true;
      }
      start(emit);
    },
    content_block_start(data, emit) {
      const block = data.content_block;
      if (!isObject(block) || typeof data.index !== "number") {
        return fail(emit, malformed("content_block_start"));
      }
      if (block.type !== "tool_use") return;
      if (typeof block.id !== "string" || typeof block.name !== "string") {
        return fail(emit, malformed("tool_use block"));
      }
      const index = toolCount++;
      tools.set(data.index, { index, input: block.input, sentArguments: false });
      toolCall(emit, {
        index,
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: "" },
      });
    },
    content_block_delta(data, emit) {
      const delta = data.delta;
      if (!isObject(delta) || typeof data.index !== "number") {
        return fail(emit, malformed("content_block_delta"));
      }
      if (delta.type === "text_delta") {
        if (typeof delta.text !== "string") return fail(emit, malformed("text_delta"));
        if (delta.text !== "") chunk(emit, { content: delta.text });
      } else if (delta.type === "input_json_delta") {
        const tool = tools.get(data.index);
        if (tool === undefined || typeof delta.partial_json !== "string") {
          return fail(emit, malformed("input_json_delta"));
        }
        if (delta.partial_json === "") return;
        tool.sentArguments = true;
        toolCall(emit, { index: tool.index, function: { arguments: delta.partial_json } });
      }
      // thinking_delta, signature_delta, citations_delta and unknown deltas: dropped.
    },
    content_block_stop(data, emit) {
      const tool = typeof data.index === "number" ? tools.get(data.index) : undefined;
      if (tool === undefined || tool.sentArguments) return;
      tool.sentArguments = true;
      const input = isObject(tool.input) ? tool.input : {};
      toolCall(emit, { index: tool.index, function: { arguments: JSON.stringify(input) } });
    },
    message_delta(data, emit) {
      if (isObject(data.usage)) {
        mergeUsage(usage, data.usage);
        usageSeen = true;
      }
      const delta = data.delta;
      const stopReason = isObject(delta) ? delta.stop_reason : undefined;
      if (finishSent || typeof stopReason !== "string") return;
      finishSent = true;
      chunk(emit, {}, fromAnthropicStopReason(stopReason));
    },
    message_stop(_data, emit) {
      if (!finishSent) {
        // Never seen in practice: every stream has a message_delta with the stop reason.
        finishSent = true;
        chunk(emit, {}, fromAnthropicStopReason(null));
      }
      if (usageSeen) {
        emit(usageChunk(ctx, fromAnthropicUsage({ ...usage })));
      }
      over = true;
      emit({ type: "done" });
    },
  };

  return {
    event(event: SseEvent, emit: Emit) {
      if (over || event.event === "ping") return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return fail(emit, errors.upstream("anthropic sent a stream event that is not JSON"));
      }
      if (!isObject(json)) {
        return fail(emit, errors.upstream("anthropic sent a stream event that is not an object"));
      }
      const type = event.event ?? json.type;
      if (type === "error" || json.type === "error") {
        return fail(emit, fromAnthropicStreamError(json, provider));
      }
      if (typeof type !== "string" || !Object.hasOwn(handlers, type)) return;
      handlers[type]?.(json, emit);
    },
    end() {},
  };
}
