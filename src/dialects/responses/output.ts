/**
 * The Responses `response` object and its output items, as the gateway builds them for a
 * translated answer; shared by the non-stream answer (`response.ts`) and the stream
 * (`stream.ts`), so both give the same object.
 *
 * Fields echoed from the request, as OpenAI echoes them: `instructions`, `max_output_tokens`,
 * `metadata` (`{}` when none), `parallel_tool_calls` (default true), `previous_response_id`,
 * `prompt_cache_key`, `reasoning` (`{effort, summary}`), `safety_identifier`, `store` (default
 * true), `text` (`{format: {type: "text"}, verbosity: "medium"}` by default), `tool_choice`
 * (default `auto`), `tools`, `top_logprobs` (default 0), `truncation` (default `disabled`),
 * `user`. `temperature`, `top_p` and `service_tier` are the request's or null: the gateway does
 * not know another provider's defaults. `background` is false (background mode is refused).
 */
import { type RecordedUsage, withBilledDetails } from "../../openai/usage.ts";
import type { ResponsesRequest } from "./schema.ts";
import type { ToolName } from "./tool_names.ts";
import { asRecord } from "../../json.ts";

/** Prefixes of the item ids the gateway makes: messages, function calls and outputs, reasoning. */
export type ItemIdPrefix = "msg" | "fc" | "fco" | "rs";

/** What a translation needs besides the answer. Everything non-deterministic is passed in. */
export interface ResponsesContext {
  /** The response's id, `resp_…`. */
  readonly id: string;
  /** Unix seconds. */
  readonly createdAt: number;
  /** The model name the client sent. */
  readonly model: string;
  /** The request, for the fields the response echoes. */
  readonly request: ResponsesRequest;
  /** A new item id with this prefix (`msg_…`), unique across responses. */
  newItemId(prefix: ItemIdPrefix): string;
}

export type ItemStatus = "in_progress" | "completed" | "incomplete";

/** Text or a refusal, in an assistant message. */
export type MessagePart =
  | { type: "output_text"; text: string; annotations: unknown[]; logprobs: unknown[] }
  | { type: "refusal"; refusal: string };

export type MessageOutput = {
  id: string;
  type: "message";
  status: ItemStatus;
  content: MessagePart[];
  role: "assistant";
};

export type FunctionCallOutput = {
  id: string;
  type: "function_call";
  status: ItemStatus;
  arguments: string;
  call_id: string;
  name: string;
  /** The namespace of a function of a `namespace` tool (see `tool_names.ts`). */
  namespace?: string;
};

export type ReasoningOutput = {
  id: string;
  type: "reasoning";
  summary: { type: "summary_text"; text: string }[];
};

/** An output item of a translated answer. */
export type OutputItem = MessageOutput | FunctionCallOutput | ReasoningOutput;

/** Responses `usage`. */
export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** A Responses `response` object. */
export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: OutputItem[];
  output_text: string;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null };
  safety_identifier: string | null;
  service_tier: string | null;
  store: boolean;
  temperature: number | null;
  text: { format: Record<string, unknown>; verbosity: string };
  tool_choice: unknown;
  tools: unknown[];
  top_logprobs: number;
  top_p: number | null;
  truncation: "auto" | "disabled";
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
}

/** How the answer ended, besides its items. */
export interface Outcome {
  readonly status: ResponseStatus;
  readonly output: readonly OutputItem[];
  readonly usage: ResponseUsage | null;
  readonly incompleteReason?: "max_output_tokens" | "content_filter" | undefined;
  readonly error?: { code: string; message: string } | undefined;
}

/** The text of every `output_text` part, in order: the SDKs' `output_text`. */
export function outputText(output: readonly OutputItem[]): string {
  let text = "";
  for (const item of output) {
    if (item.type !== "message") continue;
    for (const part of item.content) if (part.type === "output_text") text += part.text;
  }
  return text;
}

/** The response object for an outcome, with the request's echoed fields (see above). */
export function toResponseObject(ctx: ResponsesContext, outcome: Outcome): ResponseObject {
  const r = ctx.request;
  const output = structuredClone([...outcome.output]);
  return {
    id: ctx.id,
    object: "response",
    created_at: ctx.createdAt,
    status: outcome.status,
    background: false,
    error: outcome.error ?? null,
    incomplete_details: outcome.incompleteReason === undefined
      ? null
      : { reason: outcome.incompleteReason },
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    max_tool_calls: r.max_tool_calls ?? null,
    model: ctx.model,
    output,
    output_text: outputText(output),
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: r.previous_response_id ?? null,
    prompt_cache_key: r.prompt_cache_key ?? null,
    reasoning: { effort: r.reasoning?.effort ?? null, summary: r.reasoning?.summary ?? null },
    safety_identifier: r.safety_identifier ?? null,
    service_tier: r.service_tier ?? null,
    store: r.store ?? true,
    temperature: r.temperature ?? null,
    text: {
      format: (r.text?.format ?? { type: "text" }) as Record<string, unknown>,
      verbosity: r.text?.verbosity ?? "medium",
    },
    tool_choice: r.tool_choice ?? "auto",
    tools: [...(r.tools ?? [])],
    top_logprobs: r.top_logprobs ?? 0,
    top_p: r.top_p ?? null,
    truncation: r.truncation ?? "disabled",
    usage: outcome.usage === null ? null : structuredClone(outcome.usage),
    user: r.user ?? null,
    metadata: { ...(r.metadata ?? {}) },
  };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Responses usage from OpenAI's chat usage: `input_tokens = prompt_tokens` (cached ones
 * included, as OpenAI counts them), `cached_tokens` from `prompt_tokens_details`,
 * `output_tokens = completion_tokens`, `reasoning_tokens` from `completion_tokens_details`;
 * undefined when the value is not a usage object.
 */
export function toResponseUsage(value: unknown): ResponseUsage | undefined {
  const usage = asRecord(value);
  if (typeof usage?.prompt_tokens !== "number" || typeof usage.completion_tokens !== "number") {
    return undefined;
  }
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: Math.min(count(asRecord(usage.prompt_tokens_details)?.cached_tokens), input),
    },
    output_tokens: output,
    output_tokens_details: {
      reasoning_tokens: Math.min(
        count(asRecord(usage.completion_tokens_details)?.reasoning_tokens),
        output,
      ),
    },
    total_tokens: typeof usage.total_tokens === "number"
      ? count(usage.total_tokens)
      : input + output,
  };
}

/** OpenAI-style usage (for usage records) from Responses usage, with its cached and reasoning shares. */
export function toChatUsage(usage: ResponseUsage | null | undefined): RecordedUsage | undefined {
  if (usage === null || usage === undefined) return undefined;
  return withBilledDetails({
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.total_tokens,
  }, {
    cacheRead: usage.input_tokens_details.cached_tokens,
    reasoning: usage.output_tokens_details.reasoning_tokens,
  });
}

/**
 * The status and incomplete reason for OpenAI's `finish_reason`: `length` is `incomplete` with
 * `max_output_tokens`, `content_filter` is `incomplete` with `content_filter`, anything else
 * (`stop`, `tool_calls`, none) is `completed`.
 */
export function finishOutcome(
  finishReason: unknown,
): { status: "completed" | "incomplete"; reason?: "max_output_tokens" | "content_filter" } {
  if (finishReason === "length") return { status: "incomplete", reason: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", reason: "content_filter" };
  return { status: "completed" };
}

/** The reasoning text a provider put on a message or delta (`reasoning_content` or `reasoning`). */
export function reasoningOf(message: Record<string, unknown>): string {
  const value = message.reasoning_content ?? message.reasoning;
  return typeof value === "string" ? value : "";
}

/** A function call's `call_id` when the provider gave no id. */
export function mintCallId(responseId: string, index: number): string {
  return `call_${responseId.replace(/^resp_/, "")}_${index}`;
}

/**
 * A `function_call` item for a provider's tool call: `name` and `namespace` are the Responses
 * names of the chat name the model called (see `tool_names.ts`).
 */
export function functionCallItem(
  fields: Omit<FunctionCallOutput, "type" | "name" | "namespace">,
  called: ToolName,
): FunctionCallOutput {
  const item: FunctionCallOutput = { ...fields, type: "function_call", name: called.name };
  if (called.namespace !== undefined) item.namespace = called.namespace;
  return item;
}

/** An `output_text` part. */
export function textPart(text: string): MessagePart {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}
