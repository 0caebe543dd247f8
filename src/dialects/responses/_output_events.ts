/**
 * The output items of a Responses stream and their events, as the canonical deltas arrive.
 * Private to `stream.ts`, which documents the event sequence.
 */
import { errors, type GatewayError } from "../../errors.ts";
import {
  finishOutcome,
  functionCallItem,
  type FunctionCallOutput,
  type MessageOutput,
  mintCallId,
  type OutputItem,
  type ReasoningOutput,
  type ResponsesContext,
  textPart,
} from "./output.ts";
import { asRecord } from "../../json.ts";
import { type ToolNames, toolNames } from "./tool_names.ts";

/** Writes one event: its type and fields (the writer adds `sequence_number`). */
export type EmitEvent = (type: string, data: Record<string, unknown>) => void;

interface Slot {
  readonly index: number;
  readonly item: OutputItem;
  open: boolean;
}

interface Call {
  id: string | undefined;
  name: string | undefined;
  /** Arguments received before the item could be added (its name was not known yet). */
  pending: string;
  slot: Slot | undefined;
}

/** The output items of one stream, in `output_index` order, and the events that build them. */
export class OutputEvents {
  readonly #ctx: ResponsesContext;
  readonly #emit: EmitEvent;
  readonly #names: ToolNames;
  readonly #slots: Slot[] = [];
  readonly #calls = new Map<number, Call>();
  #reasoning: Slot | undefined;
  #message: Slot | undefined;
  /** The open content part of the message: its kind and index. */
  #part: { kind: "text" | "refusal"; index: number } | undefined;
  #finishReason: unknown = null;

  constructor(ctx: ResponsesContext, emit: EmitEvent) {
    this.#ctx = ctx;
    this.#emit = emit;
    this.#names = toolNames(ctx.request.tools);
  }

  /** The items so far (live objects; the response builder copies them). */
  get output(): OutputItem[] {
    return this.#slots.map((slot) => slot.item);
  }

  /** Adds reasoning text to the open reasoning item, opening one (and closing the message). */
  reasoning(value: string): void {
    if (value === "") return;
    if (this.#reasoning === undefined) {
      this.#closeMessage();
      const slot = this.#add({ id: this.#ctx.newItemId("rs"), type: "reasoning", summary: [] });
      this.#reasoning = slot;
      const part = { type: "summary_text" as const, text: "" };
      this.#emit("response.reasoning_summary_part.added", {
        ...this.#where(slot),
        summary_index: 0,
        part,
      });
      (slot.item as ReasoningOutput).summary.push({ ...part });
    }
    const slot = this.#reasoning;
    const summary = (slot.item as ReasoningOutput).summary[0];
    if (summary !== undefined) summary.text += value;
    this.#emit("response.reasoning_summary_text.delta", {
      ...this.#where(slot),
      summary_index: 0,
      delta: value,
    });
  }

  /** Adds text or refusal to the open message, opening one (and closing the reasoning). */
  message(kind: "text" | "refusal", value: string): void {
    if (value === "") return;
    if (this.#message === undefined) {
      this.#closeReasoning();
      this.#message = this.#add({
        id: this.#ctx.newItemId("msg"),
        type: "message",
        status: "in_progress",
        content: [],
        role: "assistant",
      });
    }
    const slot = this.#message;
    const item = slot.item as MessageOutput;
    if (this.#part?.kind !== kind) {
      this.#closePart();
      this.#part = { kind, index: item.content.length };
      const part = kind === "text" ? textPart("") : { type: "refusal" as const, refusal: "" };
      this.#emit("response.content_part.added", {
        ...this.#where(slot),
        content_index: this.#part.index,
        part,
      });
      item.content.push(structuredClone(part));
    }
    const current = item.content[this.#part.index];
    const at = { ...this.#where(slot), content_index: this.#part.index };
    if (current?.type === "output_text") {
      current.text += value;
      this.#emit("response.output_text.delta", { ...at, delta: value, logprobs: [] });
    } else if (current?.type === "refusal") {
      current.refusal += value;
      this.#emit("response.refusal.delta", { ...at, delta: value });
    }
  }

  /** One `tool_calls[]` piece: a call's item is added once its name is known. */
  toolPiece(value: unknown): void {
    const piece = asRecord(value);
    const key = typeof piece?.index === "number" ? piece.index : 0;
    const fn = asRecord(piece?.function);
    let call = this.#calls.get(key);
    if (call === undefined) {
      call = { id: undefined, name: undefined, pending: "", slot: undefined };
      this.#calls.set(key, call);
    }
    if (typeof piece?.id === "string" && piece.id !== "") call.id ??= piece.id;
    if (typeof fn?.name === "string" && fn.name !== "") call.name ??= fn.name;
    const args = typeof fn?.arguments === "string" ? fn.arguments : "";
    if (call.slot === undefined) {
      call.pending += args;
      if (call.name === undefined) return;
      this.#closeReasoning();
      this.#closeMessage();
      call.slot = this.#add(functionCallItem({
        id: this.#ctx.newItemId("fc"),
        status: "in_progress",
        arguments: "",
        call_id: call.id ?? mintCallId(this.#ctx.id, key),
      }, this.#names.fromChat(call.name)));
      this.#arguments(call.slot, call.pending);
      call.pending = "";
    } else if (call.slot.open) {
      this.#arguments(call.slot, args);
    }
  }

  /**
   * Closes every open item in output order, the last one `incomplete` when `finishReason` says
   * the answer was cut; a 502 when a tool call never got a name.
   */
  closeAll(finishReason: unknown): GatewayError | undefined {
    this.#finishReason = finishReason;
    for (const call of this.#calls.values()) {
      if (call.slot === undefined) {
        return errors.upstream("The provider sent a tool call without a function name");
      }
    }
    for (const slot of this.#slots) {
      if (!slot.open) continue;
      if (slot === this.#reasoning) this.#closeReasoning();
      else if (slot === this.#message) this.#closeMessage();
      else this.#closeCall(slot);
    }
    return undefined;
  }

  /** Marks the items still open `incomplete` (for `response.failed`); no events. */
  abandon(): void {
    for (const slot of this.#slots) {
      if (slot.open && slot.item.type !== "reasoning") slot.item.status = "incomplete";
    }
  }

  #add(item: OutputItem): Slot {
    const slot = { index: this.#slots.length, item, open: true };
    this.#slots.push(slot);
    this.#emit("response.output_item.added", { output_index: slot.index, item });
    return slot;
  }

  #where(slot: Slot) {
    return { item_id: slot.item.id, output_index: slot.index };
  }

  #done(slot: Slot): void {
    slot.open = false;
    this.#emit("response.output_item.done", { output_index: slot.index, item: slot.item });
  }

  #closingStatus(slot: Slot): "completed" | "incomplete" {
    const cut = finishOutcome(this.#finishReason).status === "incomplete";
    return cut && slot.index === this.#slots.length - 1 ? "incomplete" : "completed";
  }

  #arguments(slot: Slot, value: string): void {
    if (value === "") return;
    (slot.item as FunctionCallOutput).arguments += value;
    this.#emit("response.function_call_arguments.delta", { ...this.#where(slot), delta: value });
  }

  #closeReasoning(): void {
    const slot = this.#reasoning;
    if (slot === undefined) return;
    this.#reasoning = undefined;
    const summary = (slot.item as ReasoningOutput).summary[0] ?? { type: "summary_text", text: "" };
    const at = { ...this.#where(slot), summary_index: 0 };
    this.#emit("response.reasoning_summary_text.done", { ...at, text: summary.text });
    this.#emit("response.reasoning_summary_part.done", { ...at, part: summary });
    this.#done(slot);
  }

  #closePart(): void {
    const slot = this.#message;
    if (slot === undefined || this.#part === undefined) return;
    const value = (slot.item as MessageOutput).content[this.#part.index];
    const at = { ...this.#where(slot), content_index: this.#part.index };
    if (value?.type === "output_text") {
      this.#emit("response.output_text.done", { ...at, text: value.text, logprobs: [] });
    } else if (value?.type === "refusal") {
      this.#emit("response.refusal.done", { ...at, refusal: value.refusal });
    }
    this.#emit("response.content_part.done", { ...at, part: value });
    this.#part = undefined;
  }

  #closeMessage(): void {
    const slot = this.#message;
    if (slot === undefined) return;
    this.#closePart();
    this.#message = undefined;
    (slot.item as MessageOutput).status = this.#closingStatus(slot);
    this.#done(slot);
  }

  #closeCall(slot: Slot): void {
    const item = slot.item as FunctionCallOutput;
    this.#emit("response.function_call_arguments.done", {
      ...this.#where(slot),
      arguments: item.arguments,
    });
    item.status = this.#closingStatus(slot);
    this.#done(slot);
  }
}
