/**
 * A fake Gemini API (generativelanguage v1beta) on 127.0.0.1 that speaks the real wire format
 * (FACTS.md §4) and rejects what the real API rejects: no `x-goog-api-key` (or a key in the URL),
 * unknown fields anywhere in the body, JSON-Schema keys outside Gemini's Schema subset, roles other
 * than user/model, function responses that do not answer the previous turn's calls one for one,
 * and `fileData` parts without an http(s) `fileUri` or with a `mimeType` outside the types Google
 * lists for external URLs (`mimeType` itself is optional, as on the real API).
 * `:batchEmbedContents` likewise rejects unknown fields, a request `model` other than the path's,
 * and more than 100 requests.
 *
 * `thinkingConfig` is checked as Google's "Gemini thinking" guide describes it, by the model in the
 * path: a level and a budget together are refused; Gemini 2.5 models refuse `thinkingLevel`
 * ("Thinking level is not supported for this model.") and take budgets of -1 (dynamic) or, for
 * Flash, 0 to 24,576, Flash-Lite 0 or 512 to 24,576, Pro 128 to 32,768 (a 0 is "Budget 0 is
 * invalid. This model only works in thinking mode."); Gemini 3 Pro models refuse `minimal`. With
 * `includeThoughts: true` (and thinking not off) the default answers start with a thought part.
 */

/** One request the fake received. */
export interface RecordedGeminiRequest {
  readonly path: string;
  readonly search: string;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

/** Decides the answer to one generate request; `undefined` falls back to the default answer. */
export type GenerateScript = (
  body: Record<string, unknown>,
  stream: boolean,
) => Response | undefined | Promise<Response | undefined>;

/** Decides the answer to one batchEmbedContents request; `undefined` falls back to the default. */
export type EmbedScript = (
  body: Record<string, unknown>,
) => Response | undefined | Promise<Response | undefined>;

/** More options of {@linkcode startFakeGemini}. */
export interface FakeGeminiOptions {
  readonly onEmbed?: EmbedScript;
}

/** A running fake Gemini. */
export interface FakeGemini extends AsyncDisposable {
  /** For GEMINI_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: RecordedGeminiRequest[];
}

/** The provider key the fake expects. */
export const GEMINI_KEY = "AIzaFakeGeminiProviderKey0123456789";

const REQUEST_FIELDS = new Set([
  "contents",
  "systemInstruction",
  "tools",
  "toolConfig",
  "safetySettings",
  "generationConfig",
  "cachedContent",
]);
const GENERATION_FIELDS = new Set([
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "candidateCount",
  "stopSequences",
  "presencePenalty",
  "frequencyPenalty",
  "seed",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "thinkingConfig",
  "responseLogprobs",
  "logprobs",
]);
const SCHEMA_FIELDS = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "items",
  "properties",
  "required",
  "propertyOrdering",
  "anyOf",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "minProperties",
  "maxProperties",
  "default",
  "example",
]);
const PART_FIELDS = new Set([
  "text",
  "inlineData",
  "fileData",
  "functionCall",
  "functionResponse",
  "thought",
  "thoughtSignature",
]);

/** The types Google's "File input methods" guide lists for external (http(s)) URLs. */
export const GEMINI_URL_TYPES: ReadonlySet<string> = new Set([
  "text/html",
  "text/css",
  "text/plain",
  "text/xml",
  "text/csv",
  "text/rtf",
  "text/javascript",
  "application/json",
  "application/pdf",
  "image/bmp",
  "image/jpeg",
  "image/png",
  "image/webp",
  "video/mp4",
  "video/mpeg",
  "video/quicktime",
  "video/avi",
  "video/x-flv",
  "video/mpg",
  "video/webm",
  "video/wmv",
  "video/3gpp",
]);

/** The checks the real API makes on a `fileData` part; undefined when valid. */
function checkFileData(fileData: unknown, where: string): string | undefined {
  if (typeof fileData !== "object" || fileData === null || Array.isArray(fileData)) {
    return `Invalid value at '${where}': must be an object`;
  }
  for (const key of Object.keys(fileData)) {
    if (key !== "fileUri" && key !== "mimeType") return unknownName(key, where);
  }
  const { fileUri, mimeType } = fileData as { fileUri?: unknown; mimeType?: unknown };
  if (typeof fileUri !== "string" || fileUri === "") {
    return `* GenerateContentRequest.${where}.file_uri: a file_uri is required`;
  }
  if (!/^https?:\/\//i.test(fileUri) || !URL.canParse(fileUri)) {
    return `* GenerateContentRequest.${where}.file_uri: Invalid or unsupported file uri: ${fileUri}`;
  }
  if (mimeType !== undefined && (typeof mimeType !== "string" || !GEMINI_URL_TYPES.has(mimeType))) {
    return `Unsupported MIME type: ${String(mimeType)}`;
  }
  return undefined;
}

/** Google's error body. */
export function geminiError(
  code: number,
  status: string,
  message: string,
  reason?: string,
): Response {
  const details = reason === undefined
    ? []
    : [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason, domain: "googleapis.com" }];
  return Response.json({ error: { code, message, status, details } }, { status: code });
}

function unknownName(name: string, where: string): string {
  return `Invalid JSON payload received. Unknown name "${name}" at '${where}': Cannot find field.`;
}

function checkSchema(schema: unknown, where: string): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (!SCHEMA_FIELDS.has(key)) return unknownName(key, where);
    if (key === "properties" && typeof value === "object" && value !== null) {
      for (const [name, sub] of Object.entries(value)) {
        const problem = checkSchema(sub, `${where}.properties[${name}].value`);
        if (problem !== undefined) return problem;
      }
    }
    if (key === "items") {
      const problem = checkSchema(value, `${where}.items`);
      if (problem !== undefined) return problem;
    }
  }
  const s = schema as Record<string, unknown>;
  if (s.type === "OBJECT" || s.type === "object") {
    const props = s.properties as Record<string, unknown> | undefined;
    if (props !== undefined && Object.keys(props).length === 0) {
      return `${where}.properties: should be non-empty for OBJECT type`;
    }
  }
  return undefined;
}

const THINKING_FIELDS = new Set(["includeThoughts", "thinkingBudget", "thinkingLevel"]);
const THINKING_LEVELS = new Set(["MINIMAL", "LOW", "MEDIUM", "HIGH"]);

/** The budgets a Gemini 2.5 model takes besides -1 (dynamic): `[least above 0, most, takes 0]`. */
function budgetRange(model: string): [number, number, boolean] {
  if (model.startsWith("gemini-2.5-pro")) return [128, 32_768, false];
  if (model.includes("flash-lite")) return [512, 24_576, true];
  return [1, 24_576, true];
}

/** The checks the real API makes on `generationConfig.thinkingConfig`; undefined when valid. */
function checkThinking(config: unknown, model: string): string | undefined {
  const where = "generation_config.thinking_config";
  if (config === undefined) return undefined;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return `Invalid value at '${where}': must be an object`;
  }
  for (const key of Object.keys(config)) {
    if (!THINKING_FIELDS.has(key)) return unknownName(key, where);
  }
  const { thinkingBudget: budget, thinkingLevel: level } = config as Record<string, unknown>;
  if (budget !== undefined && level !== undefined) {
    return "You can only set one of thinking_budget and thinking_level.";
  }
  const older = /^gemini-(1\.|2\.)/.test(model);
  if (level !== undefined) {
    const name = String(level).toUpperCase();
    if (!THINKING_LEVELS.has(name)) {
      return `Invalid value at '${where}.thinking_level' (type.googleapis.com/` +
        `google.ai.generativelanguage.v1beta.ThinkingConfig.ThinkingLevel), "${String(level)}"`;
    }
    if (older) return "Thinking level is not supported for this model.";
    if (name === "MINIMAL" && /-pro(-|$)/.test(model)) {
      return "Thinking level MINIMAL is not supported for this model.";
    }
  }
  if (budget !== undefined && model.startsWith("gemini-2.5-")) {
    if (!Number.isInteger(budget)) return `Invalid value at '${where}.thinking_budget': ${budget}`;
    const [least, most, takesZero] = budgetRange(model);
    const n = budget as number;
    if (n === 0 && !takesZero) {
      return "Budget 0 is invalid. This model only works in thinking mode.";
    }
    if (n !== -1 && n !== 0 && (n < least || n > most)) {
      return `The thinking budget ${n} is invalid. Please choose a value between ${least} and ${most}.`;
    }
  }
  return undefined;
}

/** Whether the request asks for thought summaries and leaves thinking on. */
export function wantsThoughts(body: Record<string, unknown>): boolean {
  const config = (body.generationConfig as { thinkingConfig?: Record<string, unknown> } | undefined)
    ?.thinkingConfig;
  return config?.includeThoughts === true && config.thinkingBudget !== 0;
}

/** The thought summary of the default answers. */
export const FAKE_GEMINI_THOUGHT = "**Greeting** The user says hello; I will greet them back.";

/**
 * The checks the real API makes that a gateway could get wrong, for a request to `model`;
 * undefined when valid.
 */
export function validateGenerate(
  body: Record<string, unknown>,
  model = "gemini-2.5-flash",
): string | undefined {
  for (const key of Object.keys(body)) if (!REQUEST_FIELDS.has(key)) return unknownName(key, "");
  const generation = (body.generationConfig ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(generation)) {
    if (!GENERATION_FIELDS.has(key)) return unknownName(key, "generation_config");
  }
  const thinking = checkThinking(generation.thinkingConfig, model);
  if (thinking !== undefined) return thinking;
  const tools = (body.tools ?? []) as { functionDeclarations?: Record<string, unknown>[] }[];
  for (const [t, tool] of tools.entries()) {
    for (const [f, declaration] of (tool.functionDeclarations ?? []).entries()) {
      const problem = checkSchema(
        declaration.parameters,
        `tools[${t}].function_declarations[${f}].parameters`,
      );
      if (problem !== undefined) return problem;
    }
  }
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return "contents is not specified";
  let pendingCalls: string[] = [];
  for (const [i, content] of (contents as Record<string, unknown>[]).entries()) {
    const role = content.role ?? "user";
    if (role !== "user" && role !== "model") {
      return `Please use a valid role: user, model. (contents[${i}].role: ${String(role)})`;
    }
    const parts = content.parts as Record<string, unknown>[] | undefined;
    if (!Array.isArray(parts) || parts.length === 0) {
      return `contents[${i}].parts: must contain at least one part`;
    }
    for (const [j, part] of parts.entries()) {
      for (const key of Object.keys(part)) {
        if (!PART_FIELDS.has(key)) return unknownName(key, `contents[${i}].parts[${j}]`);
      }
      if (part.fileData !== undefined) {
        const problem = checkFileData(part.fileData, `contents[${i}].parts[${j}].file_data`);
        if (problem !== undefined) return problem;
      }
    }
    const responses = parts.filter((p) => p.functionResponse !== undefined);
    if (pendingCalls.length > 0 || responses.length > 0) {
      const names = responses.map((p) =>
        String((p.functionResponse as { name?: string }).name ?? "")
      );
      if (names.some((n) => n === "")) {
        return `contents[${i}]: function_response.name: Name cannot be empty.`;
      }
      if (names.length !== pendingCalls.length || role !== "user") {
        return "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.";
      }
    }
    pendingCalls = role === "model"
      ? parts.filter((p) => p.functionCall !== undefined).map((p) =>
        String((p.functionCall as { name: string }).name)
      )
      : [];
  }
  return undefined;
}

const EMBED_REQUEST_FIELDS = new Set([
  "model",
  "content",
  "taskType",
  "title",
  "outputDimensionality",
]);
const CONTENT_FIELDS = new Set(["parts", "role"]);

/** The most requests one batchEmbedContents call takes on the real API. */
export const GEMINI_EMBED_BATCH_LIMIT = 100;

/** The checks the real API makes on a batchEmbedContents body; undefined when valid. */
export function validateBatchEmbed(
  body: Record<string, unknown>,
  model: string,
): string | undefined {
  for (const key of Object.keys(body)) if (key !== "requests") return unknownName(key, "");
  const requests = body.requests;
  if (!Array.isArray(requests) || requests.length === 0) return "requests is not specified";
  if (requests.length > GEMINI_EMBED_BATCH_LIMIT) {
    return `* BatchEmbedContentsRequest.requests: at most ${GEMINI_EMBED_BATCH_LIMIT} requests ` +
      "can be in one batch";
  }
  for (const [i, request] of (requests as Record<string, unknown>[]).entries()) {
    const where = `requests[${i}]`;
    for (const key of Object.keys(request)) {
      if (!EMBED_REQUEST_FIELDS.has(key)) return unknownName(key, where);
    }
    if (request.model !== `models/${model}`) {
      return `* BatchEmbedContentsRequest.${where}.model: the model in each request must ` +
        `match the batch model models/${model}, got ${String(request.model)}`;
    }
    const content = request.content as Record<string, unknown> | undefined;
    if (typeof content !== "object" || content === null) {
      return `* BatchEmbedContentsRequest.${where}.content: content is not specified`;
    }
    for (const key of Object.keys(content)) {
      if (!CONTENT_FIELDS.has(key)) return unknownName(key, `${where}.content`);
    }
    const parts = content.parts as Record<string, unknown>[] | undefined;
    if (!Array.isArray(parts) || parts.length === 0) {
      return `* BatchEmbedContentsRequest.${where}.content.parts: must contain at least one part`;
    }
    for (const [j, part] of parts.entries()) {
      for (const key of Object.keys(part)) {
        if (!PART_FIELDS.has(key)) return unknownName(key, `${where}.content.parts[${j}]`);
      }
    }
    const dimensions = request.outputDimensionality;
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || Number(dimensions) < 1)) {
      return `* BatchEmbedContentsRequest.${where}.output_dimensionality: must be positive`;
    }
  }
  return undefined;
}

/** Vector length of the default embeddings answer when a request sets no dimensionality. */
export const FAKE_GEMINI_DIMENSIONS = 8;

/** A deterministic vector of `length` values for request number `index`. */
export function fakeGeminiValues(index: number, length = FAKE_GEMINI_DIMENSIONS): number[] {
  return Array.from({ length }, (_, i) => ((index * 5 + i * 11) % 32) / 32 - 0.5);
}

/** The default batchEmbedContents answer: one vector per request, dimensionality obeyed. */
export function batchEmbedBody(body: Record<string, unknown>): Record<string, unknown> {
  const requests = body.requests as { outputDimensionality?: number }[];
  return {
    embeddings: requests.map((request, index) => ({
      values: fakeGeminiValues(index, request.outputDimensionality),
    })),
  };
}

/** A realistic GenerateContentResponse with `parts`; a null finish reason is left out. */
export function generateBody(
  parts: Record<string, unknown>[],
  finishReason: string | null = "STOP",
  usage = { promptTokenCount: 11, candidatesTokenCount: 7, totalTokenCount: 18 },
): Record<string, unknown> {
  return {
    candidates: [{
      content: { role: "model", parts },
      ...(finishReason === null ? {} : { finishReason }),
      index: 0,
    }],
    usageMetadata: usage,
    modelVersion: "gemini-2.5-flash",
    responseId: "resp_fake",
  };
}

/** Encodes responses as Google's SSE stream (CRLF framing, no terminator). */
export function geminiSse(chunks: readonly Record<string, unknown>[]): string {
  return chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join("");
}

/** Starts the fake on a free port. */
export function startFakeGemini(
  onGenerate?: GenerateScript,
  options: FakeGeminiOptions = {},
): FakeGemini {
  const requests: RecordedGeminiRequest[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    requests.push({ path: url.pathname, search: url.search, headers: request.headers, body });
    if (url.searchParams.has("key")) {
      return geminiError(400, "INVALID_ARGUMENT", "this fake refuses keys in the URL");
    }
    if (request.headers.get("x-goog-api-key") !== GEMINI_KEY) {
      return geminiError(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        "API_KEY_INVALID",
      );
    }
    if (request.method === "GET" && url.pathname === "/v1beta/models") {
      return Response.json({
        models: [{
          name: "models/gemini-2.5-flash",
          displayName: "Gemini 2.5 Flash",
          supportedGenerationMethods: ["generateContent"],
        }],
      });
    }
    const embed = /^\/v1beta\/models\/([^/:]+):batchEmbedContents$/.exec(url.pathname);
    if (request.method === "POST" && embed !== null && body !== undefined) {
      const problem = validateBatchEmbed(body, decodeURIComponent(embed[1] ?? ""));
      if (problem !== undefined) return geminiError(400, "INVALID_ARGUMENT", problem);
      return (await options.onEmbed?.(body)) ?? Response.json(batchEmbedBody(body));
    }
    const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(
      url.pathname,
    );
    if (request.method !== "POST" || match === null || body === undefined) {
      return geminiError(404, "NOT_FOUND", `models/x is not found for API version v1beta`);
    }
    const stream = match[2] === "streamGenerateContent";
    if (stream && url.searchParams.get("alt") !== "sse") {
      return geminiError(400, "INVALID_ARGUMENT", "this fake answers streams only with alt=sse");
    }
    const problem = validateGenerate(body, decodeURIComponent(match[1] ?? ""));
    if (problem !== undefined) return geminiError(400, "INVALID_ARGUMENT", problem);
    const scripted = await onGenerate?.(body, stream);
    if (scripted !== undefined) return scripted;
    const thought = wantsThoughts(body) ? [{ text: FAKE_GEMINI_THOUGHT, thought: true }] : [];
    if (stream) {
      const chunks = [
        ...thought.map((part) =>
          generateBody([part], null, {
            promptTokenCount: 11,
            candidatesTokenCount: 0,
            totalTokenCount: 11,
          })
        ),
        generateBody([{ text: "Hello" }], null, {
          promptTokenCount: 11,
          candidatesTokenCount: 1,
          totalTokenCount: 12,
        }),
        generateBody([{ text: " from Gemini" }]),
      ];
      return new Response(geminiSse(chunks), { headers: { "content-type": "text/event-stream" } });
    }
    return Response.json(generateBody([...thought, { text: "Hello from Gemini" }]));
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
