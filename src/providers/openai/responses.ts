/**
 * A Responses request to OpenAI (or Azure OpenAI, `../azure/responses.ts`) passes through
 * natively (DESIGN.md "Dialects"): the client's body with only `model` replaced, the gateway's
 * key; the answer and the stream's events come back as they are, their usage and response id
 * read on the way for records, limits and the store. Nothing is lost: built-in tools, reasoning
 * items with encrypted content, `include`, background mode work as on OpenAI. Pure.
 *
 * Only the built-in `openai` provider passes Responses through: the OpenAI-compatible servers of
 * a routing file (vLLM, llama.cpp, Ollama, …) mostly lack `/v1/responses`, so the gateway
 * translates for them as for Anthropic.
 */
import { GatewayError } from "../../errors.ts";
import { type RecordedUsage, withBilledDetails } from "../../openai/usage.ts";
import { type SseEvent, sseEvent } from "../../sse.ts";
import type { StreamFailure } from "../../streaming/client_stream.ts";
import type {
  ProviderTarget,
  ResponseResource,
  ResponsesPassThrough,
  ResponsesStreamWriter,
} from "../mod.ts";
import { asCount, asRecord } from "../../json.ts";
import { ProviderRequest } from "../../http/provider_request.ts";

/**
 * The usage of a Responses `response` object, as records and limits count it (`input_tokens` as
 * prompt tokens, `output_tokens` as completion tokens, and their `cached_tokens` and
 * `reasoning_tokens` details as the shares priced apart); undefined without `usage`.
 */
export function responseUsage(response: unknown): RecordedUsage | undefined {
  const usage = asRecord(asRecord(response)?.usage);
  const input = asCount(usage?.input_tokens);
  const output = asCount(usage?.output_tokens);
  if (input === undefined || output === undefined) return undefined;
  return withBilledDetails({
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: asCount(usage?.total_tokens) ?? input + output,
  }, {
    cacheRead: asCount(asRecord(usage?.input_tokens_details)?.cached_tokens),
    reasoning: asCount(asRecord(usage?.output_tokens_details)?.reasoning_tokens),
  });
}

/**
 * How a finished `response` object ended, in OpenAI's chat words as the access log and traces
 * name finish reasons: `completed` is `tool_calls` when it calls a function, else `stop`;
 * `incomplete` is `length` (`max_output_tokens`) or `content_filter`; undefined otherwise (still
 * running, failed, cancelled).
 *
 * @example Usage
 * ```ts
 * import { responseFinishReasons } from "./responses.ts";
 * responseFinishReasons({ status: "completed", output: [{ type: "message" }] }); // ["stop"]
 * ```
 */
export function responseFinishReasons(response: unknown): string[] | undefined {
  const object = asRecord(response);
  if (object?.status === "completed") {
    const output = Array.isArray(object.output) ? object.output : [];
    const calls = output.some((item) => asRecord(item)?.type === "function_call");
    return [calls ? "tool_calls" : "stop"];
  }
  if (object?.status !== "incomplete") return undefined;
  const reason = asRecord(object.incomplete_details)?.reason;
  return [reason === "content_filter" ? "content_filter" : "length"];
}

/** The body sent upstream: the client's, with `model` set to the upstream name. */
export function toNativeResponsesBody(
  body: Readonly<Record<string, unknown>>,
  target: Pick<ProviderTarget, "model">,
): string {
  return JSON.stringify({ ...body, model: target.model });
}

/** Where a provider's Responses API is and how it is authenticated. */
export interface ResponsesEndpoint {
  /** The URL of `…/responses`, without a trailing slash or query. */
  url(target: Omit<ProviderTarget, "model">): string;
  /** The query every call carries (Azure's `api-version`), without `?`; empty for none. */
  query(target: Omit<ProviderTarget, "model">): string;
  /** The headers with the gateway's key. */
  auth(target: Omit<ProviderTarget, "model">): Record<string, string>;
}

/** OpenAI: `{base}/responses`, the key in `Authorization: Bearer`. */
export const OPENAI_RESPONSES: ResponsesEndpoint = {
  url: (target) => `${target.baseUrl.replace(/\/+$/, "")}/responses`,
  query: () => "",
  auth: (target) => target.apiKey === "" ? {} : { authorization: `Bearer ${target.apiKey}` },
};

function withQuery(url: string, ...queries: string[]): string {
  const query = queries.filter((part) => part !== "").join("&");
  return query === "" ? url : `${url}?${query}`;
}

/**
 * `POST …/responses` with the client's body, `model` set to the upstream name.
 *
 * @example Usage
 * ```ts
 * import { OPENAI_RESPONSES, toNativeResponsesRequest } from "./responses.ts";
 * const request = toNativeResponsesRequest(
 *   OPENAI_RESPONSES,
 *   { model: "smart", input: "Hi", tools: [{ type: "web_search" }] },
 *   { model: "gpt-5", baseUrl: "https://api.openai.com/v1", apiKey: "sk-…" },
 * );
 * // POST https://api.openai.com/v1/responses, body {"model":"gpt-5","input":"Hi",…}
 * ```
 */
export function toNativeResponsesRequest(
  endpoint: ResponsesEndpoint,
  body: Readonly<Record<string, unknown>>,
  target: ProviderTarget,
): ProviderRequest {
  return new ProviderRequest(withQuery(endpoint.url(target), endpoint.query(target)), {
    method: "POST",
    headers: {
      ...endpoint.auth(target),
      "content-type": "application/json",
      "accept": body.stream === true ? "text/event-stream" : "application/json",
    },
    body: toNativeResponsesBody(body, target),
  });
}

/**
 * `GET`/`DELETE …/responses/{id}` or `GET …/responses/{id}/input_items`, the id percent-encoded
 * and the client's query (`include`, `after`, `limit`, …) kept.
 */
export function toNativeResourceRequest(
  endpoint: ResponsesEndpoint,
  resource: ResponseResource,
  target: Omit<ProviderTarget, "model">,
): ProviderRequest {
  const path = `${endpoint.url(target)}/${encodeURIComponent(resource.id)}${
    resource.inputItems ? "/input_items" : ""
  }`;
  const search = resource.search.replace(/^\?/, "");
  return new ProviderRequest(withQuery(path, endpoint.query(target), search), {
    method: resource.method,
    headers: { ...endpoint.auth(target), accept: "application/json" },
  });
}

function parseData(data: string): Record<string, unknown> | undefined {
  try {
    return asRecord(JSON.parse(data));
  } catch {
    return undefined;
  }
}

const TERMINAL_EVENTS: ReadonlySet<string> = new Set([
  "response.completed",
  "response.incomplete",
  "response.failed",
]);

/** A Responses `error` event's error, as the gateway raises it when nothing was sent yet. */
function streamError(data: Record<string, unknown> | undefined, provider: string): GatewayError {
  const error = asRecord(data?.error) ?? data;
  const message = typeof error?.message === "string" ? error.message : "the stream failed";
  const code = error?.code;
  return new GatewayError(`${provider}: ${message}`, {
    status: 502,
    type: "api_error",
    code: typeof code === "string" && code !== "" ? code : "upstream_error",
    param: typeof error?.param === "string" ? error.param : null,
  });
}

/**
 * The writer of a passed-through Responses stream: every event goes on as it came. The response
 * id is read from `response.created`, the usage from the final `response.completed`,
 * `response.incomplete` or `response.failed` event, which ends the stream (as would a
 * `[DONE]`). An `error` event before anything was sent becomes the error the route may retry or
 * answer; after that it is passed on, and the provider's `response.failed` (or the end of its
 * body) ends the stream. The gateway's own failures (a timeout, a cut stream) are a Responses
 * `error` event whose `sequence_number` follows the provider's last.
 *
 * @example Usage
 * ```ts
 * import { createNativeResponsesWriter } from "./responses.ts";
 * const writer = createNativeResponsesWriter("openai");
 * writer.push({
 *   event: "response.created",
 *   data: '{"type":"response.created","sequence_number":0,"response":{"id":"resp_1"}}',
 * });
 * writer.responseId; // "resp_1"
 * ```
 */
export function createNativeResponsesWriter(provider: string): ResponsesStreamWriter {
  let out = "";
  let finished = false;
  let hasData = false;
  let failedMidway = false;
  let sequence = -1;
  let usage: RecordedUsage | undefined;
  let error: GatewayError | undefined;
  let responseId: string | undefined;
  let finishReasons: string[] | undefined;
  const passEvent = (item: SseEvent) => {
    if (item.data === "[DONE]") {
      out += sseEvent(item);
      hasData = true;
      finished = true;
      return;
    }
    const data = parseData(item.data);
    const type = typeof data?.type === "string" ? data.type : item.event;
    const number = data?.sequence_number;
    if (typeof number === "number" && number > sequence) sequence = number;
    if (type === "error") {
      error ??= streamError(data, provider);
      if (!hasData) {
        finished = true;
        return;
      }
      failedMidway = true;
    }
    out += sseEvent(item);
    hasData = true;
    const response = asRecord(data?.response);
    if (type === "response.created" && typeof response?.id === "string") responseId = response.id;
    if (type !== undefined && TERMINAL_EVENTS.has(type)) {
      usage = responseUsage(response) ?? usage;
      finishReasons = responseFinishReasons(response);
      finished = true;
    }
  };
  const fail = (failure: StreamFailure) => {
    finished = true;
    if (failedMidway) return;
    error = failure.error;
    if (!hasData) return;
    const event = {
      type: "error",
      code: failure.error.code,
      message: failure.error.message,
      param: failure.error.param,
      sequence_number: sequence + 1,
    };
    out += `event: error\ndata: ${JSON.stringify(event)}\n\n`;
  };
  return {
    push(item: SseEvent | StreamFailure) {
      if (finished) return;
      if ("data" in item) passEvent(item);
      else fail(item);
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
      return usage;
    },
    get error() {
      return error;
    },
    get responseId() {
      return responseId;
    },
    get finishReasons() {
      return finishReasons;
    },
  };
}

/** A provider's native Responses API at `endpoint`, for a provider called `provider`. */
export function createResponsesPassThrough(
  provider: string,
  endpoint: ResponsesEndpoint,
): ResponsesPassThrough {
  return {
    toRequest: (body, target) => toNativeResponsesRequest(endpoint, body, target),
    resourceRequest: (resource, target) => toNativeResourceRequest(endpoint, resource, target),
    answerUsage: responseUsage,
    answerFinishReasons: responseFinishReasons,
    streamWriter: () => createNativeResponsesWriter(provider),
  };
}
