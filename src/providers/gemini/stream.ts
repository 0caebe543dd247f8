/**
 * Gemini `streamGenerateContent?alt=sse` events → OpenAI `chat.completion.chunk` stream items
 * (FACTS.md §4.3, T30, T31, T34, T35, T36).
 *
 * Every event's data is one whole `GenerateContentResponse`. Each candidate becomes the OpenAI
 * choice with the same index (proto3 JSON leaves `index: 0` out, so a missing index is the
 * candidate's position in the array), and every chunk sent carries one choice:
 *
 * - A candidate's first chunk is `delta: {role: "assistant", content: ""}`.
 * - Text parts → `content` deltas, thought parts (`thought: true`: thought summaries, sent only
 *   when the request set `includeThoughts`) → `reasoning_content` deltas, as DeepSeek and vLLM
 *   stream them; consecutive parts of one kind in one event are sent as one delta. Empty texts
 *   are skipped, as are parts with no Chat Completions equivalent (inline data, code execution, …).
 * - Each `functionCall` part (Gemini sends it whole) → one `tool_calls` delta with the call's
 *   dense 0-based index among the candidate's calls, a minted id (`mintToolCallId`: deterministic
 *   in `ctx.id`, the candidate and the call index, the same as the non-stream translation's;
 *   `encodeToolCallId` adds the part's `thoughtSignature`, to be sent back on the next turn,
 *   T24), the name and `JSON.stringify(args)`. An `id` Gemini may send is not used.
 * - A `finishReason` → `delta: {}` with the mapped `finish_reason` (once per candidate; later
 *   parts of a finished candidate are dropped). `STOP` maps to `tool_calls` when the candidate
 *   called a function in any earlier event, as newer models send the call and then
 *   `{parts: [{text: ""}], finishReason: "STOP"}` in a chunk of its own.
 * - `usageMetadata` (present on every event, cumulative) → the last one is kept.
 * - A blocked prompt (`promptFeedback.blockReason`, no candidates) → choice 0 finishes with
 *   `content_filter` (role chunk, then the finish chunk), as OpenAI reports filtered output, and
 *   the stream still ends normally with usage and `[DONE]`: the response status is already 200,
 *   and a finish reason is what OpenAI clients handle (an error event would make them throw).
 * - `{"error": {...}}` → an error item (T36), and nothing after it. Data that is not a JSON
 *   object, or a response that contradicts the API's types → a 502 error item.
 *
 * `end()` (the HTTP body ended; Gemini sends no `[DONE]`), unless an error was emitted: every
 * candidate that got no `finishReason` gets its finish chunk (`stop`, or `tool_calls` if it called
 * a function); the usage chunk (`choices: []`, always: the client writer drops it unless the
 * client asked, T35) when usage was seen; then `done`. A body that ended without one event
 * emits nothing, so the writer reports the early end; one whose events held no candidate at all
 * gives choice 0 a role chunk and a `stop` finish, so that the client sees a complete answer.
 */
import { errors, type GatewayError } from "../../errors.ts";
import type { SseEvent } from "../../sse.ts";
import type { Emit, StreamTranslator, TranslationContext } from "../mod.ts";
import { fromGeminiStreamError } from "./error.ts";
import {
  fromGeminiFinishReason,
  fromGeminiUsage,
  type GeminiUsageCounts,
} from "./finish_reason.ts";
import { choiceChunk, type OpenAIFinishReason, usageChunk } from "../_chunks.ts";
import { encodeToolCallId, mintToolCallId } from "./tool_ids.ts";

type JsonObject = Record<string, unknown>;
type FinishReason = OpenAIFinishReason;

const USAGE_FIELDS = [
  "promptTokenCount",
  "candidatesTokenCount",
  "totalTokenCount",
  "cachedContentTokenCount",
  "thoughtsTokenCount",
  "toolUsePromptTokenCount",
] as const;

/** What the translator remembers of one candidate (one OpenAI choice). */
interface CandidateState {
  /** The role chunk was sent. */
  started: boolean;
  /** Function calls sent so far: the next call's `tool_calls[].index`. */
  toolCount: number;
  /** The candidate called a function in this turn (a `STOP` then maps to `tool_calls`). */
  sawFunctionCall: boolean;
  /** The finish chunk was sent. */
  finished: boolean;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function malformed(what: string): GatewayError {
  return errors.upstream(`gemini sent a ${what} that is not what the Gemini API promises`);
}

/** The counts of a `usageMetadata` object that are numbers (others are treated as absent). */
function usageCounts(metadata: JsonObject): GeminiUsageCounts {
  const counts: Partial<Record<(typeof USAGE_FIELDS)[number], number>> = {};
  for (const field of USAGE_FIELDS) {
    const value = metadata[field];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) counts[field] = value;
  }
  return counts;
}

/** The finish reasons that end a candidate (proto3 never sends the unspecified default). */
function finishOf(candidate: JsonObject): string | undefined {
  const reason = candidate.finishReason;
  return typeof reason === "string" && reason !== "" && reason !== "FINISH_REASON_UNSPECIFIED"
    ? reason
    : undefined;
}

/** Creates the translator of one Gemini stream. */
export function geminiStream(ctx: TranslationContext, provider = "gemini"): StreamTranslator {
  const candidates = new Map<number, CandidateState>();
  let over = false;
  let eventSeen = false;
  let usage: GeminiUsageCounts | undefined;

  const stateOf = (index: number): CandidateState => {
    let state = candidates.get(index);
    if (state === undefined) {
      state = { started: false, toolCount: 0, sawFunctionCall: false, finished: false };
      candidates.set(index, state);
    }
    return state;
  };
  const chunk = (
    emit: Emit,
    index: number,
    delta: JsonObject,
    finishReason: FinishReason | null = null,
  ) => {
    const state = stateOf(index);
    if (!state.started) {
      state.started = true;
      emit(choiceChunk(ctx, index, { role: "assistant", content: "" }, null));
    }
    emit(choiceChunk(ctx, index, delta, finishReason));
  };
  const finish = (emit: Emit, index: number, reason: FinishReason) => {
    const state = stateOf(index);
    if (state.finished) return;
    state.finished = true;
    chunk(emit, index, {}, reason);
  };
  const fail = (emit: Emit, error: GatewayError) => {
    over = true;
    emit({ type: "error", error });
  };

  /** Translates one candidate; returns an error for a candidate the API cannot have sent. */
  const candidate = (emit: Emit, data: unknown, position: number): GatewayError | undefined => {
    if (!isObject(data)) return malformed("candidate");
    const index = data.index === undefined ? position : data.index;
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0) {
      return malformed("candidate index");
    }
    const state = stateOf(index);
    if (state.finished) return undefined;
    const content = data.content;
    const parts = isObject(content) ? content.parts : undefined;
    if (parts !== undefined && !Array.isArray(parts)) return malformed("candidate content");
    /** Text not sent yet, all of one kind: `content` or `reasoning_content` (thoughts). */
    let text = "";
    let field: "content" | "reasoning_content" = "content";
    const flush = () => {
      if (text === "") return;
      chunk(emit, index, { [field]: text });
      text = "";
    };
    for (const part of parts ?? []) {
      if (!isObject(part)) return malformed("content part");
      if (part.text !== undefined) {
        if (typeof part.text !== "string") return malformed("text part");
        if (part.text === "") continue;
        const kind = part.thought === true ? "reasoning_content" : "content";
        if (kind !== field) flush();
        field = kind;
        text += part.text;
        continue;
      }
      const call = part.functionCall;
      if (call === undefined) continue;
      if (!isObject(call) || typeof call.name !== "string" || call.name === "") {
        return malformed("functionCall part");
      }
      if (call.args !== undefined && call.args !== null && !isObject(call.args)) {
        return malformed("functionCall part");
      }
      flush();
      const k = state.toolCount++;
      state.sawFunctionCall = true;
      const signature = typeof part.thoughtSignature === "string" && part.thoughtSignature !== ""
        ? part.thoughtSignature
        : undefined;
      chunk(emit, index, {
        tool_calls: [{
          index: k,
          id: encodeToolCallId(mintToolCallId(ctx.id, { candidate: index, call: k }), signature),
          type: "function",
          function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
        }],
      });
    }
    flush();
    const reason = finishOf(data);
    if (reason !== undefined) {
      finish(emit, index, fromGeminiFinishReason(reason, state.sawFunctionCall));
    }
    return undefined;
  };

  return {
    event(event: SseEvent, emit: Emit) {
      if (over) return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return fail(emit, errors.upstream("gemini sent a stream event that is not JSON"));
      }
      if (!isObject(json)) {
        return fail(emit, errors.upstream("gemini sent a stream event that is not an object"));
      }
      if (json.error !== undefined) return fail(emit, fromGeminiStreamError(json, provider));
      eventSeen = true;
      if (isObject(json.usageMetadata)) usage = usageCounts(json.usageMetadata);
      const list = json.candidates;
      if (list !== undefined && !Array.isArray(list)) {
        return fail(emit, malformed("candidates list"));
      }
      if (list === undefined || list.length === 0) {
        const feedback = json.promptFeedback;
        if (isObject(feedback) && typeof feedback.blockReason === "string") {
          finish(emit, 0, "content_filter");
        }
        return;
      }
      for (const [position, data] of list.entries()) {
        const error = candidate(emit, data, position);
        if (error !== undefined) return fail(emit, error);
      }
    },
    end(emit: Emit) {
      if (over || !eventSeen) return;
      over = true;
      if (candidates.size === 0) stateOf(0);
      const open = [...candidates.entries()]
        .filter(([, state]) => !state.finished)
        .sort(([a], [b]) => a - b);
      for (const [index, state] of open) {
        finish(emit, index, fromGeminiFinishReason("STOP", state.sawFunctionCall));
      }
      if (usage !== undefined) {
        emit(usageChunk(ctx, fromGeminiUsage(usage)));
      }
      emit({ type: "done" });
    },
  };
}
