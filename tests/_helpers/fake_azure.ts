/**
 * A fake Azure OpenAI data plane on 127.0.0.1 that speaks the real wire format (FACTS.md §2) and
 * rejects what the real service rejects: a missing `api-version` (404 "Resource not found"), an
 * unsupported one (400), a wrong or missing `api-key` or any `Authorization` header (401), an
 * unknown deployment (404 `DeploymentNotFound`). Answers carry Azure's extras
 * (`prompt_filter_results`, `content_filter_results`); streams open with the blank prompt-filter
 * chunk. Tests script answers per request and can switch on the content filter. The v1 API's
 * Responses endpoints (`/openai/v1/responses…`, the deployment as `model`, no `api-version`)
 * are OpenAI's Responses API answering as the scripted model (`fake_responses.ts`).
 */
import { SSE_RESPONSE_HEADERS, sseBody } from "./fake_openai.ts";
import { createFakeResponsesApi, type ResponsesScript } from "./fake_responses.ts";

/** One request the fake received (recorded before any check). */
export interface RecordedAzureRequest {
  readonly method: string;
  readonly path: string;
  /** The deployment of the path; undefined for a path that is not a deployment operation. */
  readonly deployment: string | undefined;
  /** The `api-version` query value, or null when missing. */
  readonly apiVersion: string | null;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

/** What a script is told besides the body. */
export interface AzureScriptInfo {
  readonly deployment: string;
  readonly request: Request;
}

/** Decides the answer to one request; `undefined` falls back to the default answer. */
export type AzureScript = (
  body: Record<string, unknown>,
  info: AzureScriptInfo,
) => Response | undefined | Promise<Response | undefined>;

/** Options of {@linkcode startFakeAzure}. */
export interface FakeAzureOptions {
  /** The key the gateway must send in `api-key`. */
  readonly apiKey?: string;
  /** Deployments that exist; others get 404 `DeploymentNotFound`. */
  readonly deployments?: readonly string[];
  /** `api-version` values the fake accepts; others get 400 "API version not supported". */
  readonly apiVersions?: readonly string[];
  /** The model behind the chat deployments, as answers name it. */
  readonly model?: string;
  /** The model behind the embeddings deployments. */
  readonly embeddingModel?: string;
  /**
   * `prompt`: every chat request is refused with Azure's 400 `content_filter` error (FACTS §2);
   * `completion`: answers stop early with `finish_reason: "content_filter"`.
   */
  readonly contentFilter?: "prompt" | "completion";
  /** Streams as the asynchronous filter does: annotation chunks with a blank identity. */
  readonly asyncFilter?: boolean;
  readonly onChat?: AzureScript;
  readonly onEmbeddings?: AzureScript;
  /** Answers a `POST /openai/v1/responses` first; `undefined` falls back to the scripted model. */
  readonly onResponses?: ResponsesScript;
}

/** A running fake Azure OpenAI resource. */
export interface FakeAzure extends AsyncDisposable {
  /** The resource endpoint (`https://<name>.openai.azure.com` on the real service). */
  readonly endpoint: string;
  readonly requests: RecordedAzureRequest[];
  /** Ids of the responses its Responses API keeps. */
  readonly storedResponses: ReadonlyMap<string, unknown>;
}

/** The key the fake expects unless told otherwise. */
export const AZURE_KEY = "0123456789abcdef0123456789abcdef";
/** The api-version the gateway uses by default. */
export const AZURE_API_VERSION = "2024-10-21";
/** Versions the fake accepts by default. */
export const AZURE_API_VERSIONS: readonly string[] = [
  "2024-02-01",
  "2024-06-01",
  "2024-10-21",
  "2024-12-01-preview",
  "2025-01-01-preview",
];
/** Deployments that exist by default. */
export const AZURE_DEPLOYMENTS: readonly string[] = ["gpt-4o", "text-embedding-3-small"];
/** The model behind chat deployments by default. */
export const AZURE_MODEL = "gpt-4o-2024-11-20";
/** Vector length of `text-embedding-3-small` answers without `dimensions`. */
export const AZURE_EMBEDDING_DIMENSIONS = 1536;

const CREATED = 1_764_000_000;
const FINGERPRINT = "fp_b705f0c291";

/** Azure's error body: `{"error":{"code","message"}}`. */
export function azureError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, {
    status,
    headers: { "apim-request-id": crypto.randomUUID() },
  });
}

/** Azure's OpenAI-style validation error (`type`, `param`, `code`). */
function invalidRequest(message: string, param: string | null = null): Response {
  return Response.json(
    { error: { message, type: "invalid_request_error", param, code: null } },
    { status: 400 },
  );
}

/** 404 for a missing `api-version` or a path that is not an operation. */
export function resourceNotFound(): Response {
  return azureError(404, "404", "Resource not found");
}

/** 401 for a wrong or missing `api-key`. */
export function accessDenied(): Response {
  return azureError(
    401,
    "401",
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide " +
      "a valid key for an active subscription and use a correct regional API endpoint for your " +
      "resource.",
  );
}

/** 404 for an unknown deployment. */
export function deploymentNotFound(): Response {
  return azureError(
    404,
    "DeploymentNotFound",
    "The API deployment for this resource does not exist. If you created the deployment within " +
      "the last 5 minutes, please wait a moment and try again.",
  );
}

/** 429 as Azure sends it: code `"429"`, a wait in the message and (unless told) `retry-after`. */
export function rateLimited(seconds: number, header = true): Response {
  const response = azureError(
    429,
    "429",
    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 " +
      "have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry " +
      `after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would ` +
      "like to further increase the default rate limit.",
  );
  if (header) response.headers.set("retry-after", String(seconds));
  return response;
}

const SAFE = { filtered: false, severity: "safe" } as const;

/** Content-filter results of a completion that passed. */
export function passedFilterResults(): Record<string, unknown> {
  return {
    hate: SAFE,
    protected_material_code: { filtered: false, detected: false },
    protected_material_text: { filtered: false, detected: false },
    self_harm: SAFE,
    sexual: SAFE,
    violence: SAFE,
  };
}

/** Content-filter results of a completion cut off for violence. */
export function blockedFilterResults(): Record<string, unknown> {
  return {
    hate: SAFE,
    protected_material_code: { filtered: false, detected: false },
    protected_material_text: { filtered: false, detected: false },
    self_harm: SAFE,
    sexual: SAFE,
    violence: { filtered: true, severity: "medium" },
  };
}

/** `prompt_filter_results` of a prompt that passed. */
export function promptFilterResults(): Record<string, unknown>[] {
  return [{
    prompt_index: 0,
    content_filter_results: {
      hate: SAFE,
      jailbreak: { filtered: false, detected: false },
      self_harm: SAFE,
      sexual: SAFE,
      violence: SAFE,
    },
  }];
}

/** The exact 400 Azure sends for a prompt its content filter blocks (FACTS.md §2). */
export function contentFilterErrorBody(): Record<string, unknown> {
  return {
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content " +
        "management policy. Please modify your prompt and retry. To learn more about our " +
        "content filtering policies please read our documentation: " +
        "https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: "prompt",
      code: "content_filter",
      status: 400,
      innererror: {
        code: "ResponsibleAIPolicyViolation",
        content_filter_result: {
          hate: SAFE,
          jailbreak: { filtered: false, detected: false },
          self_harm: SAFE,
          sexual: SAFE,
          violence: { filtered: true, severity: "medium" },
        },
      },
    },
  };
}

/** A realistic non-stream answer, keys in Azure's (alphabetical) order. */
export function azureCompletionBody(
  model = AZURE_MODEL,
  content = "Hello from the fake Azure",
  finishReason: "stop" | "content_filter" = "stop",
): Record<string, unknown> {
  return {
    choices: [{
      content_filter_results: finishReason === "stop"
        ? passedFilterResults()
        : blockedFilterResults(),
      finish_reason: finishReason,
      index: 0,
      logprobs: null,
      message: { annotations: [], content, refusal: null, role: "assistant" },
    }],
    created: CREATED,
    id: "chatcmpl-AzFake123",
    model,
    object: "chat.completion",
    prompt_filter_results: promptFilterResults(),
    system_fingerprint: FINGERPRINT,
    usage: {
      completion_tokens: 6,
      completion_tokens_details: {
        accepted_prediction_tokens: 0,
        audio_tokens: 0,
        reasoning_tokens: 0,
        rejected_prediction_tokens: 0,
      },
      prompt_tokens: 9,
      prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
      total_tokens: 15,
    },
  };
}

/** How {@linkcode azureStreamChunks} streams. */
export interface AzureStreamOptions {
  readonly includeUsage?: boolean;
  /** Ends with `finish_reason: "content_filter"` after the first word. */
  readonly contentFilter?: boolean;
  /** Adds an asynchronous-filter annotation chunk (blank identity, no delta) after the words. */
  readonly asyncFilter?: boolean;
}

/** The chunks Azure streams for `words`: prompt-filter chunk first, usage chunk when asked. */
export function azureStreamChunks(
  model: string,
  words: readonly string[],
  options: AzureStreamOptions = {},
): Record<string, unknown>[] {
  const usage = options.includeUsage === true ? { usage: null } : {};
  const identity = {
    created: CREATED,
    id: "chatcmpl-AzFakeStream",
    model,
    object: "chat.completion.chunk",
    system_fingerprint: FINGERPRINT,
  };
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null,
    filter: Record<string, unknown>,
  ) => ({
    choices: [{
      content_filter_results: filter,
      delta,
      finish_reason: finish,
      index: 0,
      logprobs: null,
    }],
    ...identity,
    ...usage,
  });
  const sent = options.contentFilter === true ? words.slice(0, 1) : words;
  const chunks: Record<string, unknown>[] = [
    {
      choices: [],
      created: 0,
      id: "",
      model: "",
      object: "",
      prompt_filter_results: promptFilterResults(),
      ...usage,
    },
    chunk({ content: "", refusal: null, role: "assistant" }, null, {}),
  ];
  for (const word of sent) chunks.push(chunk({ content: word }, null, passedFilterResults()));
  if (options.asyncFilter === true) {
    const length = sent.join("").length;
    chunks.push({
      choices: [{
        content_filter_offsets: { check_offset: 0, end_offset: length, start_offset: 0 },
        content_filter_results: passedFilterResults(),
        finish_reason: null,
        index: 0,
      }],
      created: 0,
      id: "",
      model: "",
      object: "",
      ...usage,
    });
  }
  chunks.push(
    options.contentFilter === true
      ? chunk({}, "content_filter", blockedFilterResults())
      : chunk({}, "stop", {}),
  );
  if (options.includeUsage === true) {
    chunks.push({
      choices: [],
      ...identity,
      usage: {
        completion_tokens: sent.length,
        completion_tokens_details: { reasoning_tokens: 0 },
        prompt_tokens: 9,
        prompt_tokens_details: { cached_tokens: 0 },
        total_tokens: 9 + sent.length,
      },
    });
  }
  return chunks;
}

function defaultChat(body: Record<string, unknown>, options: FakeAzureOptions): Response {
  const model = options.model ?? AZURE_MODEL;
  const filtered = options.contentFilter === "completion";
  if (body.stream === true) {
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    const chunks = azureStreamChunks(model, ["Hello", " from", " the", " fake"], {
      includeUsage: streamOptions?.include_usage === true,
      contentFilter: filtered,
      asyncFilter: options.asyncFilter === true,
    });
    return new Response(sseBody(chunks), { headers: SSE_RESPONSE_HEADERS });
  }
  return Response.json(
    filtered
      ? azureCompletionBody(model, "Hello from", "content_filter")
      : azureCompletionBody(model),
  );
}

/** FNV-1a of a string: the seed of an input's vector. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The fake's embedding of one input: deterministic, unit length, float32 values (so that the
 * base64 form decodes to exactly the float form). `dimensions` shortens and renormalises it, as
 * text-embedding-3 models do.
 */
export function fakeAzureEmbedding(input: unknown, dimensions: number): number[] {
  let state = hashText(JSON.stringify(input));
  const values: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values.push((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((value) => Math.fround(value / norm));
}

/** Base64 of little-endian float32 values, as `encoding_format: "base64"` answers. */
export function float32Base64(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  let binary = "";
  for (const byte of new Uint8Array(view.buffer)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The inputs of an embeddings body, one per vector; a string when the input is invalid. */
function embeddingInputs(input: unknown): unknown[] | string {
  if (typeof input === "string") return input === "" ? "'$.input' is invalid" : [input];
  if (!Array.isArray(input) || input.length === 0) return "'$.input' is invalid";
  if (input.length > 2048) return "Too many inputs. The max number of inputs is 2048.";
  if (input.every((item) => typeof item === "number")) return [input];
  if (input.every((item) => typeof item === "string" && item !== "")) return input;
  if (input.every((item) => Array.isArray(item) && item.length > 0)) return input;
  return "'$.input' is invalid";
}

function tokenCount(input: unknown): number {
  if (Array.isArray(input)) return input.length;
  return Math.max(1, Math.ceil(String(input).length / 4));
}

function defaultEmbeddings(body: Record<string, unknown>, options: FakeAzureOptions): Response {
  const model = options.embeddingModel ?? "text-embedding-3-small";
  if (body.input === undefined) return invalidRequest("'input' is a required property");
  const inputs = embeddingInputs(body.input);
  if (typeof inputs === "string") {
    return invalidRequest(
      `${inputs}. Please check the API reference: https://platform.openai.com/docs/api-reference.`,
      "input",
    );
  }
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    return invalidRequest(
      `${JSON.stringify(format)} is not one of ['float', 'base64'] - 'encoding_format'`,
      "encoding_format",
    );
  }
  let dimensions = AZURE_EMBEDDING_DIMENSIONS;
  if (body.dimensions !== undefined) {
    if (model === "text-embedding-ada-002") {
      return invalidRequest("This model does not support specifying dimensions.", "dimensions");
    }
    const asked = body.dimensions;
    if (typeof asked !== "number" || !Number.isInteger(asked) || asked < 1 || asked > dimensions) {
      return invalidRequest(
        `Invalid value for 'dimensions' = ${String(asked)}. Must be between 1 and ${dimensions}.`,
        "dimensions",
      );
    }
    dimensions = asked;
  }
  const tokens = inputs.reduce<number>((sum, input) => sum + tokenCount(input), 0);
  return Response.json({
    data: inputs.map((input, index) => {
      const values = fakeAzureEmbedding(input, dimensions);
      return {
        embedding: format === "base64" ? float32Base64(values) : values,
        index,
        object: "embedding",
      };
    }),
    model,
    object: "list",
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** The v1 API's Responses endpoint. */
const RESPONSES_PATH = "/openai/v1/responses";

const OPERATION_REGEXP = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Starts the fake on a free port. */
export function startFakeAzure(options: FakeAzureOptions = {}): FakeAzure {
  const apiKey = options.apiKey ?? AZURE_KEY;
  const deployments = options.deployments ?? AZURE_DEPLOYMENTS;
  const versions = options.apiVersions ?? AZURE_API_VERSIONS;
  const requests: RecordedAzureRequest[] = [];
  const responses = createFakeResponsesApi(options.onResponses);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: Record<string, unknown> | undefined;
    try {
      const parsed = text === "" ? undefined : JSON.parse(text);
      body = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
        ? parsed
        : undefined;
    } catch {
      body = undefined;
    }
    const match = url.pathname.match(OPERATION_REGEXP);
    const deployment = match?.[1] === undefined ? undefined : decodeSegment(match[1]);
    const apiVersion = url.searchParams.get("api-version");
    requests.push({
      method: request.method,
      path: url.pathname,
      deployment,
      apiVersion,
      headers: request.headers,
      body,
    });
    if (url.pathname === RESPONSES_PATH || url.pathname.startsWith(`${RESPONSES_PATH}/`)) {
      if (request.headers.has("authorization") || request.headers.get("api-key") !== apiKey) {
        return accessDenied();
      }
      const version = apiVersion ?? "v1";
      if (version !== "v1" && version !== "preview") {
        return azureError(400, "BadRequest", "API version not supported");
      }
      if (
        request.method === "POST" && body !== undefined &&
        !deployments.includes(String(body.model))
      ) {
        return deploymentNotFound();
      }
      return await responses.handle(request, url.pathname.slice(RESPONSES_PATH.length), body);
    }
    if (match === null || deployment === undefined || request.method !== "POST") {
      return resourceNotFound();
    }
    if (apiVersion === null) return resourceNotFound();
    if (!versions.includes(apiVersion)) {
      return azureError(400, "BadRequest", "API version not supported");
    }
    if (request.headers.has("authorization") || request.headers.get("api-key") !== apiKey) {
      return accessDenied();
    }
    if (!deployments.includes(deployment)) return deploymentNotFound();
    if (
      !(request.headers.get("content-type") ?? "").startsWith("application/json") ||
      body === undefined
    ) {
      return invalidRequest("We could not parse the JSON body of your request.");
    }
    const info = { deployment, request };
    if (match[2] === "embeddings") {
      return (await options.onEmbeddings?.(body, info)) ?? defaultEmbeddings(body, options);
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return invalidRequest("Invalid 'messages': empty array.", "messages");
    }
    if (body.stream !== true && body.stream_options !== undefined) {
      return invalidRequest(
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "stream_options",
      );
    }
    if (options.contentFilter === "prompt") {
      return Response.json(contentFilterErrorBody(), { status: 400 });
    }
    return (await options.onChat?.(body, info)) ?? defaultChat(body, options);
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    requests,
    storedResponses: responses.stored,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
