/**
 * A fake Anthropic Messages API on 127.0.0.1 that speaks the real wire format (FACTS.md §3) and
 * rejects what the real API rejects: a missing or wrong `x-api-key` (401), a missing or unknown
 * `anthropic-version`, a body without `max_tokens`, unknown top-level fields, roles other than
 * user/assistant, empty text blocks, tool_use blocks not answered by tool_result blocks at the
 * start of the next user turn, and tool_result blocks that answer no tool_use block of the previous
 * assistant turn. Tests script its answers per request. `POST /v1/messages/count_tokens` answers
 * the fake's own count, {@linkcode fakeTokenCount}.
 */

/** One request the fake received. */
export interface RecordedAnthropicRequest {
  readonly path: string;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | undefined;
}

/** Decides the answer to one messages request; `undefined` falls back to the default answer. */
export type MessagesScript = (
  body: Record<string, unknown>,
) => Response | undefined | Promise<Response | undefined>;

/** A running fake Anthropic. */
export interface FakeAnthropic extends AsyncDisposable {
  /** For ANTHROPIC_BASE_URL (no `/v1`). */
  readonly baseUrl: string;
  readonly requests: RecordedAnthropicRequest[];
}

/** The provider key the fake expects. */
export const ANTHROPIC_KEY = "sk-ant-fake-provider-key-0123456789";

/**
 * The `anthropic-version` values the fake accepts: the gateway's default, and the one
 * `@anthropic-ai/sdk` 1.16 sends.
 */
export const ANTHROPIC_VERSIONS: readonly string[] = ["2023-06-01", "2026-10-21"];

/** The fake's own token count of a `count_tokens` body: the length of its messages' JSON. */
export function fakeTokenCount(body: Record<string, unknown>): number {
  return JSON.stringify(body.messages).length;
}

const TOP_LEVEL = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "stream",
  "tools",
  "tool_choice",
  "metadata",
  "thinking",
  "output_config",
  "service_tier",
  "context_management",
  "mcp_servers",
  "container",
]);

/** Anthropic's error body. */
export function anthropicError(status: number, type: string, message: string): Response {
  return Response.json(
    { type: "error", error: { type, message }, request_id: "req_fake" },
    { status, headers: { "request-id": "req_fake" } },
  );
}

type Block = Record<string, unknown>;

function blocksOf(content: unknown): Block[] | undefined {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? content as Block[] : undefined;
}

/** The checks the real API makes that a gateway could get wrong; undefined when valid. */
export function validateMessages(body: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key)) return `${key}: Extra inputs are not permitted`;
  }
  if (typeof body.model !== "string") return "model: Field required";
  if (typeof body.max_tokens !== "number") return "max_tokens: Field required";
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return "messages: Field required";
  }
  if (typeof body.temperature === "number" && body.temperature > 1) {
    return "temperature: Input should be less than or equal to 1";
  }
  const messages = body.messages as Record<string, unknown>[];
  let pendingToolUses: string[] = [];
  for (const [i, message] of messages.entries()) {
    if (message.role !== "user" && message.role !== "assistant") {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    const blocks = blocksOf(message.content);
    if (blocks === undefined) return `messages.${i}.content: Input should be a valid list`;
    const last = i === messages.length - 1 && message.role === "assistant";
    if (blocks.length === 0 && !last) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const block of blocks) {
      if (block.type === "text" && (typeof block.text !== "string" || block.text === "")) {
        return "messages: text content blocks must be non-empty";
      }
    }
    for (const [j, block] of blocks.entries()) {
      if (block.type === "tool_result" && !pendingToolUses.includes(String(block.tool_use_id))) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${
          String(block.tool_use_id)
        }. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    if (pendingToolUses.length > 0) {
      const results = blocks.slice(0, pendingToolUses.length);
      const answered = results.every((b, k) =>
        b.type === "tool_result" && b.tool_use_id === pendingToolUses[k]
      );
      if (message.role !== "user" || !answered) {
        return `messages.${i}: Did not find ${pendingToolUses.length} tool_result block(s) at the beginning of this message. Messages following tool_use blocks must begin with a matching number of tool_result blocks.`;
      }
    }
    pendingToolUses = message.role === "assistant"
      ? blocks.filter((b) => b.type === "tool_use").map((b) => String(b.id))
      : [];
  }
  return undefined;
}

/** A realistic Message answering with `text`. */
export function messageBody(model: string, text: string): Record<string, unknown> {
  return {
    id: "msg_fake01",
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: 12,
      output_tokens: 6,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

/** Encodes Anthropic's named SSE events. */
export function anthropicSse(events: readonly Record<string, unknown>[]): string {
  return events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

/** The event stream of a text answer, split into `pieces`. */
export function textStreamEvents(
  model: string,
  pieces: readonly string[],
): Record<string, unknown>[] {
  return [
    {
      type: "message_start",
      message: {
        id: "msg_fake02",
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "ping" },
    ...pieces.map((text) => ({
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text },
    })),
    { type: "content_block_stop", index: 0 },
    {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: pieces.length },
    },
    { type: "message_stop" },
  ];
}

/** Starts the fake on a free port. */
export function startFakeAnthropic(onMessages?: MessagesScript): FakeAnthropic {
  const requests: RecordedAnthropicRequest[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const text = await request.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    requests.push({ path: url.pathname, headers: request.headers, body });
    if (request.headers.get("x-api-key") !== ANTHROPIC_KEY) {
      return anthropicError(401, "authentication_error", "invalid x-api-key");
    }
    if (request.headers.has("authorization")) {
      return anthropicError(400, "invalid_request_error", "unexpected Authorization header");
    }
    const version = request.headers.get("anthropic-version");
    if (version === null) {
      return anthropicError(400, "invalid_request_error", "anthropic-version: header is required");
    }
    if (!ANTHROPIC_VERSIONS.includes(version)) {
      return anthropicError(
        400,
        "invalid_request_error",
        `anthropic-version: ${version} is not a valid version`,
      );
    }
    if (request.method === "GET" && url.pathname === "/v1/models") {
      return Response.json({
        data: [{
          type: "model",
          id: "claude-sonnet-4-5",
          display_name: "Claude Sonnet 4.5",
          created_at: "2025-09-29T00:00:00Z",
        }],
        has_more: false,
        first_id: "claude-sonnet-4-5",
        last_id: "claude-sonnet-4-5",
      });
    }
    if (
      request.method === "POST" && url.pathname === "/v1/messages/count_tokens" &&
      body !== undefined
    ) {
      const extra = ["max_tokens", "stream", "stop_sequences", "temperature"].find((key) =>
        key in body
      );
      const problem = extra === undefined
        ? validateMessages({ ...body, max_tokens: 1 })
        : `${extra}: Extra inputs are not permitted`;
      if (problem !== undefined) return anthropicError(400, "invalid_request_error", problem);
      return Response.json({ input_tokens: fakeTokenCount(body) });
    }
    if (request.method !== "POST" || url.pathname !== "/v1/messages" || body === undefined) {
      return anthropicError(404, "not_found_error", `Not found: ${request.method} ${url.pathname}`);
    }
    const problem = validateMessages(body);
    if (problem !== undefined) return anthropicError(400, "invalid_request_error", problem);
    const scripted = await onMessages?.(body);
    if (scripted !== undefined) return scripted;
    const model = String(body.model);
    if (body.stream === true) {
      return new Response(anthropicSse(textStreamEvents(model, ["Hello", " from", " Claude"])), {
        headers: { "content-type": "text/event-stream; charset=utf-8" },
      });
    }
    return Response.json(messageBody(model, "Hello from Claude"));
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
