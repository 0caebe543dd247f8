/**
 * A fake OpenAI upstream on 127.0.0.1 that speaks the real wire format (FACTS.md §1) and
 * rejects what the real API rejects: a wrong key (401), a body without `model`/`messages` (400),
 * a wrong content type (415-ish 400), an embeddings body without `model`/`input` (400). Tests
 * script its answers per request. `/v1/responses` (and its `GET`/`DELETE`/`input_items`) is
 * OpenAI's Responses API answering as the scripted model (`fake_responses.ts`).
 */
import { Buffer } from "node:buffer";
import { createFakeResponsesApi, type ResponsesScript } from "./fake_responses.ts";

/** One request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

/** Decides the answer to one chat request; `undefined` falls back to the default answer. */
export type ChatScript = (
  body: Record<string, unknown>,
  request: Request,
) => Response | undefined | Promise<Response | undefined>;

/** Decides the answer to one embeddings request; `undefined` falls back to the default answer. */
export type EmbeddingsScript = (
  body: Record<string, unknown>,
  request: Request,
) => Response | undefined | Promise<Response | undefined>;

/** Options of {@linkcode startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** The provider key the gateway must send. */
  readonly apiKey?: string;
  readonly onChat?: ChatScript;
  readonly onEmbeddings?: EmbeddingsScript;
  /** Answers a `POST /v1/responses` first; `undefined` falls back to the scripted model. */
  readonly onResponses?: ResponsesScript;
  /** Model ids of `GET /v1/models`; a number answers that HTTP status instead. */
  readonly models?: readonly string[] | number;
}

/** A running fake upstream. */
export interface FakeOpenAI extends AsyncDisposable {
  /** Base URL including `/v1`, for OPENAI_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Ids of the responses its Responses API keeps. */
  readonly storedResponses: ReadonlyMap<string, unknown>;
}

/** The provider key fake upstreams expect unless told otherwise. */
export const PROVIDER_KEY = "sk-provider-secret-0123456789";

function openAIError(status: number, message: string, type: string, code: string | null) {
  return Response.json({ error: { message, type, param: null, code } }, { status });
}

/** A realistic non-stream `chat.completion`. */
export function completionBody(
  model: string,
  content = "Hello from the fake upstream",
): Record<string, unknown> {
  return {
    id: "chatcmpl-fake123",
    object: "chat.completion",
    created: 1_764_000_000,
    model,
    choices: [{
      index: 0,
      message: { role: "assistant", content, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: {
      prompt_tokens: 9,
      completion_tokens: 6,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
    service_tier: "default",
    system_fingerprint: "fp_fake",
  };
}

/** The chunks OpenAI streams for `words`, usage chunk included when asked. */
export function streamChunks(
  model: string,
  words: readonly string[],
  includeUsage: boolean,
): Record<string, unknown>[] {
  const base = {
    id: "chatcmpl-fakestream",
    object: "chat.completion.chunk",
    created: 1_764_000_000,
    model,
  };
  const usage = includeUsage ? { usage: null } : {};
  const chunk = (delta: object, finish: string | null) => ({
    ...base,
    system_fingerprint: "fp_fake",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...usage,
  });
  const chunks: Record<string, unknown>[] = [
    chunk({ role: "assistant", content: "", refusal: null }, null),
  ];
  for (const word of words) chunks.push(chunk({ content: word }, null));
  chunks.push(chunk({}, "stop"));
  if (includeUsage) {
    chunks.push({
      ...base,
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length },
    });
  }
  return chunks;
}

/** Encodes chunks as an OpenAI SSE body, `[DONE]` included. */
export function sseBody(chunks: readonly unknown[], done = true): string {
  return chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") +
    (done ? "data: [DONE]\n\n" : "");
}

/** SSE response headers as OpenAI sends them. */
export const SSE_RESPONSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8" };

function defaultChat(body: Record<string, unknown>): Response {
  const model = String(body.model);
  if (body.stream === true) {
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    const chunks = streamChunks(
      model,
      ["Hello", " from", " the", " fake"],
      options?.include_usage === true,
    );
    return new Response(sseBody(chunks), { headers: SSE_RESPONSE_HEADERS });
  }
  return Response.json(completionBody(model));
}

/** Vector length of the default embeddings answer when the request sets no `dimensions`. */
export const FAKE_EMBEDDING_DIMENSIONS = 8;

/** A deterministic vector of `length` values for input number `index`, as the fake answers it. */
export function fakeEmbedding(index: number, length = FAKE_EMBEDDING_DIMENSIONS): number[] {
  // Multiples of 1/64 survive float32 exactly, so float and base64 answers hold the same numbers.
  return Array.from({ length }, (_, i) => ((index * 7 + i * 3) % 64) / 64 - 0.5);
}

/**
 * A realistic embeddings list for `body` (the default answer): one {@linkcode fakeEmbedding} per
 * input, `encoding_format` and `dimensions` obeyed, usage counting words (texts) or token ids.
 */
export function embeddingsBody(body: Record<string, unknown>): Record<string, unknown> {
  const input = body.input;
  const inputs: unknown[] = typeof input === "string" || typeof (input as unknown[])[0] === "number"
    ? [input]
    : input as unknown[];
  const length = typeof body.dimensions === "number" ? body.dimensions : undefined;
  let tokens = 0;
  const data = inputs.map((item, index) => {
    tokens += typeof item === "string"
      ? item.split(/\s+/).filter(Boolean).length
      : (item as unknown[]).length;
    const values = fakeEmbedding(index, length);
    const embedding = body.encoding_format === "base64"
      ? Buffer.from(new Float32Array(values).buffer).toString("base64")
      : values;
    return { object: "embedding", index, embedding };
  });
  return {
    object: "list",
    data,
    model: String(body.model),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** The 400s the real API gives an embeddings body without a usable `model` or `input`. */
function embeddingsProblem(body: Record<string, unknown>): Response | undefined {
  if (typeof body.model !== "string") {
    return openAIError(400, "you must provide a model parameter", "invalid_request_error", null);
  }
  const input = body.input;
  if (input === undefined) {
    return openAIError(400, "'input' is a required property", "invalid_request_error", null);
  }
  const valid = (typeof input === "string" && input !== "") ||
    (Array.isArray(input) && input.length > 0 && input.length <= 2048 &&
      (input.every((item) => typeof item === "string" && item !== "") ||
        input.every((item) => Number.isInteger(item)) ||
        input.every((item) => Array.isArray(item) && item.length > 0)));
  if (!valid) {
    return openAIError(
      400,
      "'$.input' is invalid. Please check the API reference: " +
        "https://platform.openai.com/docs/api-reference.",
      "invalid_request_error",
      null,
    );
  }
  if (
    body.encoding_format !== undefined && body.encoding_format !== "float" &&
    body.encoding_format !== "base64"
  ) {
    return openAIError(
      400,
      `Invalid value for 'encoding_format': ${JSON.stringify(body.encoding_format)}`,
      "invalid_request_error",
      null,
    );
  }
  return undefined;
}

/**
 * A chat script answering exactly `max_tokens` completion tokens (and 12 prompt tokens): the
 * cost of such a request is known before it is sent.
 */
export function answerMaxTokens(body: Record<string, unknown>): Response {
  return Response.json({
    ...completionBody(String(body.model)),
    usage: {
      prompt_tokens: 12,
      completion_tokens: Number(body.max_tokens),
      total_tokens: 12 + Number(body.max_tokens),
    },
  });
}

/** Starts the fake upstream on a free port. */
export function startFakeOpenAI(options: FakeOpenAIOptions = {}): FakeOpenAI {
  const apiKey = options.apiKey ?? PROVIDER_KEY;
  const requests: RecordedRequest[] = [];
  const responses = createFakeResponsesApi(options.onResponses);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    requests.push({ method: request.method, path: url.pathname, headers: request.headers, body });
    // An empty key: a local server that takes none (and must not be sent one).
    if (request.headers.get("authorization") !== (apiKey === "" ? null : `Bearer ${apiKey}`)) {
      return openAIError(
        401,
        `Incorrect API key provided: ${request.headers.get("authorization")?.slice(7, 40)}. ` +
          "You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
      );
    }
    if (request.method === "GET" && url.pathname === "/v1/models") {
      if (typeof options.models === "number") {
        return openAIError(options.models, "models unavailable", "server_error", null);
      }
      const data = (options.models ?? ["gpt-4o", "gpt-4o-mini"]).map((id) => ({
        id,
        object: "model",
        created: 1_715_367_049,
        owned_by: "system",
      }));
      return Response.json({ object: "list", data });
    }
    if (url.pathname === "/v1/responses" || url.pathname.startsWith("/v1/responses/")) {
      return await responses.handle(request, url.pathname.slice("/v1/responses".length), body);
    }
    if (request.method === "POST" && url.pathname === "/v1/embeddings") {
      if (
        !(request.headers.get("content-type") ?? "").startsWith("application/json") ||
        body === undefined
      ) {
        return openAIError(
          400,
          "We could not parse the JSON body of your request.",
          "invalid_request_error",
          null,
        );
      }
      return embeddingsProblem(body) ??
        (await options.onEmbeddings?.(body, request)) ??
        Response.json(embeddingsBody(body));
    }
    if (request.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      return openAIError(
        404,
        `Invalid URL (${request.method} ${url.pathname})`,
        "invalid_request_error",
        null,
      );
    }
    if (
      !(request.headers.get("content-type") ?? "").startsWith("application/json") ||
      body === undefined
    ) {
      return openAIError(
        400,
        "We could not parse the JSON body of your request.",
        "invalid_request_error",
        null,
      );
    }
    if (typeof body.model !== "string") {
      return openAIError(400, "you must provide a model parameter", "invalid_request_error", null);
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return openAIError(
        400,
        "Invalid 'messages': empty array.",
        "invalid_request_error",
        "empty_array",
      );
    }
    if (body.stream !== true && body.stream_options !== undefined) {
      return openAIError(
        400,
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "invalid_request_error",
        null,
      );
    }
    return (await options.onChat?.(body, request)) ?? defaultChat(body);
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    storedResponses: responses.stored,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
