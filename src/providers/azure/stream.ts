/**
 * Azure OpenAI SSE events → stream items: OpenAI's translator plus Azure's quirks (FACTS.md §2).
 *
 * - The prompt-filter chunk (`"choices":[]`, blank `id`/`object`/`model`, `created` 0) that
 *   opens a stream is dropped: clients that read `choices[0]` crash on it. Any chunk with no
 *   choices and no usage numbers is dropped likewise; the final usage chunk is kept.
 * - The asynchronous content filter's annotation chunks carry a blank identity and choices
 *   without a `delta`: they get the stream's `id`, `created` and `model`, `object`
 *   `"chat.completion.chunk"` and `delta: {}`; their `content_filter_results` are kept.
 * - `finish_reason: "content_filter"` and `content_filter_results` pass through unchanged.
 *
 * Only chunks whose text may need one of these changes are parsed; every other chunk keeps the
 * OpenAI translator's fast path and is sent on byte for byte.
 */
import type { Emit, StreamItem, StreamTranslator, TranslationContext } from "../mod.ts";
import { openAIStream } from "../openai/stream.ts";

/**
 * A blank identity field or an empty `choices` array. In JSON text a bare-quoted `"id"` can only
 * be a key; a nested one (a tool call's `"id":""`) only costs a parse.
 */
const MAY_NEED_CHANGE_REGEXP =
  /"(?:id|object|model)"\s*:\s*""|"created"\s*:\s*0\s*[,}]|"choices"\s*:\s*\[\s*\]/;

/** The fields every chunk of one stream shares. */
interface StreamIdentity {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function filled(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function isTimestamp(value: unknown): value is number {
  return typeof value === "number" && value !== 0;
}

function hasUsageNumbers(usage: unknown): boolean {
  return isObject(usage) &&
    (typeof usage.prompt_tokens === "number" || typeof usage.completion_tokens === "number");
}

function hasIdentity(chunk: Record<string, unknown>): boolean {
  return filled(chunk.id) && filled(chunk.object) && isTimestamp(chunk.created) &&
    filled(chunk.model);
}

function lacksDelta(choice: unknown): boolean {
  return isObject(choice) && (choice.delta === undefined || choice.delta === null);
}

/** The identity of a complete chunk, each blank field taken from the context instead. */
function identityOf(chunk: unknown, ctx: TranslationContext): StreamIdentity {
  const fields = isObject(chunk) ? chunk : {};
  return {
    id: filled(fields.id) ? fields.id : ctx.id,
    created: isTimestamp(fields.created) ? fields.created : ctx.created,
    model: filled(fields.model) ? fields.model : ctx.model,
  };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Fills a chunk's blank identity and its choices' missing deltas, in a copy. */
function normalise(
  chunk: Record<string, unknown>,
  identity: StreamIdentity,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...chunk };
  if (!filled(out.id)) out.id = identity.id;
  if (!filled(out.object)) out.object = "chat.completion.chunk";
  if (!isTimestamp(out.created)) out.created = identity.created;
  if (!filled(out.model)) out.model = identity.model;
  if (Array.isArray(out.choices) && out.choices.some(lacksDelta)) {
    out.choices = out.choices.map((choice) =>
      lacksDelta(choice) ? { ...choice, delta: {} } : choice
    );
  }
  return out;
}

/**
 * A translator of one Azure OpenAI stream. `ctx` supplies the identity of chunks that arrive
 * blank before any complete chunk; `provider` names the provider in errors (an error object in
 * the stream becomes an error item through `fromOpenAIStreamError`).
 *
 * @example Usage
 * ```ts
 * import { azureStream } from "./stream.ts";
 * const translator = azureStream({ id: "chatcmpl-1", created: 1, model: "azure/gpt4o" });
 * translator.event(
 *   { data: '{"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[]}' },
 *   () => {}, // not called: the prompt-filter chunk is dropped
 * );
 * ```
 */
export function azureStream(ctx: TranslationContext, provider = "azure"): StreamTranslator {
  const inner = openAIStream(provider, { mustParse: (data) => MAY_NEED_CHANGE_REGEXP.test(data) });
  /** The stream's identity, once known. */
  let identity: StreamIdentity | undefined;
  /** The first complete chunk passed on unparsed: read only if a blank chunk follows. */
  let firstRaw: string | undefined;

  const streamIdentity = (): StreamIdentity => {
    if (identity === undefined) {
      identity = identityOf(firstRaw === undefined ? undefined : parseOrUndefined(firstRaw), ctx);
    }
    return identity;
  };

  const forward = (item: StreamItem, emit: Emit): void => {
    if (item.type === "raw") {
      // Not matched by MAY_NEED_CHANGE_REGEXP, so its identity is filled in.
      if (identity === undefined) firstRaw ??= item.raw;
      return emit(item);
    }
    if (item.type !== "chunk") return emit(item);
    const { chunk } = item;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    if (choices.length === 0 && !hasUsageNumbers(chunk.usage)) return;
    const complete = hasIdentity(chunk);
    if (complete && identity === undefined && firstRaw === undefined) {
      identity = identityOf(chunk, ctx);
    }
    if (complete && !choices.some(lacksDelta)) return emit(item);
    emit({ type: "chunk", chunk: normalise(chunk, streamIdentity()) });
  };

  return {
    event(event, emit) {
      inner.event(event, (item) => forward(item, emit));
    },
    end(emit) {
      inner.end((item) => forward(item, emit));
    },
  };
}
