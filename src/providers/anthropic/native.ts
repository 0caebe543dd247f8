/**
 * A Messages request to Anthropic passes through natively (DESIGN.md "Dialects"): the client's
 * body with only `model` replaced, its `anthropic-version` (else {@linkcode ANTHROPIC_API_VERSION})
 * and `anthropic-beta` headers, the gateway's key; the answer and the stream's events come back
 * as they are, their usage read on the way for records and limits. Nothing is lost: thinking,
 * cache_control, documents, server tools and betas work as on Anthropic. Pure.
 */
import { messagesErrorEvent } from "../../dialects/messages/errors.ts";
import type { GatewayError } from "../../errors.ts";
import type { RecordedUsage } from "../../openai/usage.ts";
import type { SseEvent } from "../../sse.ts";
import type { SseWriter, StreamFailure } from "../../streaming/client_stream.ts";
import type { MessagesHeaders, MessagesPassThrough, ProviderTarget } from "../mod.ts";
import { fromAnthropicStreamError } from "./error.ts";
import { fromAnthropicStopReason } from "./finish_reason.ts";
import { ANTHROPIC_API_VERSION } from "./request.ts";
import { recordedAnthropicUsage } from "./usage.ts";
import { asCount, asRecord } from "../../json.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

function buildRequest(
  path: string,
  body: Readonly<Record<string, unknown>>,
  target: ProviderTarget,
  headers: MessagesHeaders,
): ProviderRequest {
  return new ProviderRequest(`${target.baseUrl.replace(/\/+$/, "")}${path}`, {
    method: "POST",
    headers: {
      "x-api-key": target.apiKey,
      "anthropic-version": headers.version ?? ANTHROPIC_API_VERSION,
      ...(headers.beta === null ? {} : { "anthropic-beta": headers.beta }),
      "content-type": "application/json",
      "accept": body.stream === true ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify({ ...body, model: target.model }),
  });
}

/**
 * `POST {base}/v1/messages` with the client's body, `model` set to the upstream name.
 *
 * @example Usage
 * ```ts
 * import { toNativeMessagesRequest } from "./native.ts";
 * const request = toNativeMessagesRequest(
 *   { model: "claude", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] },
 *   { model: "claude-sonnet-4-5", baseUrl: "https://api.anthropic.com", apiKey: "sk-ant-…" },
 *   { version: null, beta: "interleaved-thinking-2025-05-14" },
 * );
 * // POST https://api.anthropic.com/v1/messages, anthropic-version: 2023-06-01
 * ```
 */
export function toNativeMessagesRequest(
  body: Readonly<Record<string, unknown>>,
  target: ProviderTarget,
  headers: MessagesHeaders,
): ProviderRequest {
  return buildRequest("/v1/messages", body, target, headers);
}

/** `POST {base}/v1/messages/count_tokens`, built as {@linkcode toNativeMessagesRequest}. */
export function toNativeCountTokensRequest(
  body: Readonly<Record<string, unknown>>,
  target: ProviderTarget,
  headers: MessagesHeaders,
): ProviderRequest {
  return buildRequest("/v1/messages/count_tokens", body, target, headers);
}

/** Usage counts as Anthropic reports them (a message's `usage`, or a delta's). */
interface Counts {
  input_tokens?: number | undefined;
  output_tokens?: number | undefined;
  cache_creation_input_tokens?: number | undefined;
  cache_read_input_tokens?: number | undefined;
}

function readCounts(value: unknown): Counts | undefined {
  const usage = asRecord(value);
  if (usage === undefined) return undefined;
  return {
    input_tokens: asCount(usage.input_tokens),
    output_tokens: asCount(usage.output_tokens),
    cache_creation_input_tokens: asCount(usage.cache_creation_input_tokens),
    cache_read_input_tokens: asCount(usage.cache_read_input_tokens),
  };
}

function toUsage(counts: Counts): RecordedUsage {
  return recordedAnthropicUsage({ ...counts, output_tokens: counts.output_tokens ?? 0 });
}

/**
 * The usage of a Messages answer, as records and limits count it: input + cache reads + cache
 * writes as prompt tokens (the reads and writes also apart, as they are priced apart), output
 * tokens (thinking included) as completion tokens; undefined without `usage`.
 */
export function nativeAnswerUsage(body: unknown): RecordedUsage | undefined {
  const counts = readCounts(asRecord(body)?.usage);
  return counts === undefined ? undefined : toUsage(counts);
}

/**
 * A Messages answer's `stop_reason` in OpenAI's words (`end_turn` → `stop`, `max_tokens` →
 * `length`, `tool_use` → `tool_calls`, …), as the access log and traces name finish reasons;
 * undefined while it is null or missing (a stream's `message_start`).
 *
 * @example Usage
 * ```ts
 * import { nativeFinishReasons } from "./native.ts";
 * nativeFinishReasons({ stop_reason: "tool_use" }); // ["tool_calls"]
 * ```
 */
export function nativeFinishReasons(message: unknown): string[] | undefined {
  const reason = asRecord(message)?.stop_reason;
  return typeof reason === "string" ? [fromAnthropicStopReason(reason)] : undefined;
}

/** One SSE event as Anthropic framed it: `event:` name, then its data unchanged. */
function frame(event: SseEvent): string {
  const data = event.data.includes("\n")
    ? event.data.split("\n").map((line) => `data: ${line}`).join("\n")
    : `data: ${event.data}`;
  return event.event === undefined ? `${data}\n\n` : `event: ${event.event}\n${data}\n\n`;
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/**
 * The writer of a passed-through Messages stream: every event goes on as it came (`ping`s and
 * events the gateway does not know included). The usage is read from `message_start`
 * (`usage.input_tokens` and the cache counts) and `message_delta` (its cumulative `usage`);
 * `message_stop` ends the stream. Anthropic's `error` event is passed on and ends the stream, or,
 * before anything was sent, becomes the error the route may retry or answer (mapped as
 * `fromAnthropicStreamError` does). The gateway's own failures (a timeout, a cut stream) are
 * Messages `error` events.
 *
 * @example Usage
 * ```ts
 * import { createNativeStreamWriter } from "./native.ts";
 * const writer = createNativeStreamWriter("anthropic");
 * writer.push({ event: "message_stop", data: '{"type":"message_stop"}' });
 * writer.take(); // 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
 * ```
 */
export function createNativeStreamWriter(provider: string): SseWriter<SseEvent> {
  let out = "";
  let finished = false;
  let hasData = false;
  let counts: Counts | undefined;
  let error: GatewayError | undefined;
  let finishReasons: string[] | undefined;
  const merge = (update: Counts | undefined) => {
    if (update === undefined) return;
    const next: Counts = { ...counts };
    for (const [key, value] of Object.entries(update) as [keyof Counts, number | undefined][]) {
      if (value !== undefined) next[key] = value;
    }
    counts = next;
  };
  return {
    push(item: SseEvent | StreamFailure) {
      if (finished) return;
      finished = !("data" in item) || item.event === "error" || item.event === "message_stop";
      if (!("data" in item)) {
        out += messagesErrorEvent(item.error);
        error = item.error;
        return;
      }
      if (item.event === "error") {
        error = fromAnthropicStreamError(parseData(item.data), provider);
        if (hasData) out += frame(item);
        return;
      }
      out += frame(item);
      hasData = true;
      if (item.event === "message_start") {
        merge(readCounts(asRecord(asRecord(parseData(item.data))?.message)?.usage));
      } else if (item.event === "message_delta") {
        const delta = asRecord(parseData(item.data));
        merge(readCounts(delta?.usage));
        finishReasons = nativeFinishReasons(delta?.delta) ?? finishReasons;
      }
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
      return hasData;
    },
    get usage() {
      return counts === undefined ? undefined : toUsage(counts);
    },
    get error() {
      return error;
    },
    get finishReasons() {
      return finishReasons;
    },
  };
}

/** Anthropic's native Messages API, for a provider called `provider` (in error messages). */
export function createMessagesPassThrough(provider: string): MessagesPassThrough {
  return {
    toRequest: toNativeMessagesRequest,
    countTokensRequest: toNativeCountTokensRequest,
    answerUsage: nativeAnswerUsage,
    answerFinishReasons: nativeFinishReasons,
    streamWriter: () => createNativeStreamWriter(provider),
  };
}
