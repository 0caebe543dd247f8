/**
 * OpenAI's Responses API as the fake OpenAI (`/v1/responses…`) and the fake Azure
 * (`/openai/v1/responses…`) serve it: `POST` (JSON or the typed event stream, with increasing
 * `sequence_number`), `GET`/`DELETE` of a stored response and its `input_items`, with OpenAI's
 * 400s and 404s for what the real API refuses. It answers as the scripted model of
 * `fake_model.ts` (the conversation is read as the chat messages it would be, so a translated
 * and a passed-through request show the model the same turns), keeps what it answers unless
 * `store: false`, and continues `previous_response_id` and `item_reference` from its own store.
 *
 * Beyond the chat model: a `web_search` tool (OpenAI's built-in) makes a `web_search_call`
 * output item first, and `include: ["reasoning.encrypted_content"]` adds encrypted content to
 * the reasoning item of a reasoning model (`o…`, `gpt-5…`) asked for `reasoning.effort`.
 */
import { decide, viewOfChat, words } from "./fake_model.ts";

type Json = Record<string, unknown>;

/** Decides the answer to one create request; `undefined` falls back to the model. */
export type ResponsesScript = (
  body: Json,
  request: Request,
) => Response | undefined | Promise<Response | undefined>;

/** A stored response and the input items it kept. */
interface Kept {
  readonly response: Json;
  readonly input: Json[];
}

/** The fake's Responses endpoints; `path` is what follows `…/responses` (`""`, `/{id}`, …). */
export interface FakeResponsesApi {
  handle(request: Request, path: string, body: Json | undefined): Promise<Response>;
  /** Ids of the responses it keeps. */
  readonly stored: ReadonlyMap<string, unknown>;
}

function openAIError(
  status: number,
  message: string,
  param: string | null = null,
  code: string | null = null,
): Response {
  return Response.json({
    error: { message, type: "invalid_request_error", param, code },
  }, { status });
}

function hex(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length / 2));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: Json) => typeof part.text === "string" ? part.text : "").join("");
}

/** The input items of a request as stored: a string is one user message; every item gets an id. */
function inputItems(input: unknown): Json[] {
  const items: Json[] = typeof input === "string"
    ? [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }]
    : Array.isArray(input)
    ? input as Json[]
    : [];
  return items.map((item) => {
    const type = item.type ?? (item.role === undefined ? "item_reference" : "message");
    const prefix = type === "function_call_output"
      ? "fco"
      : type === "function_call"
      ? "fc"
      : "msg";
    return { id: `${prefix}_${hex(48)}`, ...item, type };
  });
}

/** The conversation as chat messages, for the model's view. */
function chatMessages(instructions: unknown, items: readonly Json[]): Json[] {
  const messages: Json[] = [];
  if (typeof instructions === "string" && instructions !== "") {
    messages.push({ role: "system", content: instructions });
  }
  for (const item of items) {
    if (item.type === "message") {
      const role = item.role === "developer" ? "system" : item.role;
      const content = typeof item.content === "string"
        ? item.content
        : (item.content as Json[]).map((part) =>
          part.type === "input_image"
            ? { type: "image_url", image_url: { url: part.image_url } }
            : { type: "text", text: part.text ?? part.refusal ?? "" }
        );
      messages.push({ role, content });
    } else if (item.type === "function_call") {
      const call = { id: item.call_id, type: "function", function: { name: item.name } };
      const last = messages.at(-1);
      if (last?.role === "assistant" && Array.isArray(last.tool_calls)) last.tool_calls.push(call);
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (item.type === "function_call_output") {
      messages.push({ role: "tool", tool_call_id: item.call_id, content: textOf(item.output) });
    }
  }
  return messages;
}

const REASONING_MODEL_REGEXP = /^(o\d|gpt-5)/;

/** OpenAI's Responses API over an in-memory store; `script` may answer a create first. */
export function createFakeResponsesApi(script?: ResponsesScript): FakeResponsesApi {
  const kept = new Map<string, Kept>();
  const allItems = new Map<string, Json>();

  function conversation(id: string): Json[] {
    const entry = kept.get(id);
    if (entry === undefined) return [];
    const previous = entry.response.previous_response_id;
    return [
      ...(typeof previous === "string" ? conversation(previous) : []),
      ...entry.input,
      ...(entry.response.output as Json[]),
    ];
  }

  function create(body: Json): Response {
    if (typeof body.model !== "string") {
      return openAIError(
        400,
        "Missing required parameter: 'model'.",
        "model",
        "missing_required_parameter",
      );
    }
    const model = body.model;
    const effort = (body.reasoning as Json | undefined)?.effort;
    const reasons = typeof effort === "string" && effort !== "none";
    if (reasons && !REASONING_MODEL_REGEXP.test(model)) {
      return openAIError(
        400,
        `Unsupported parameter: 'reasoning.effort' is not supported with this model.`,
        "reasoning.effort",
        "unsupported_parameter",
      );
    }
    const previousId = body.previous_response_id;
    if (typeof previousId === "string" && !kept.has(previousId)) {
      return openAIError(
        404,
        `Previous response with id '${previousId}' not found.`,
        "previous_response_id",
        "previous_response_not_found",
      );
    }
    const own = inputItems(body.input);
    const resolved: Json[] = [];
    for (const [i, item] of own.entries()) {
      if (item.type !== "item_reference") {
        resolved.push(item);
        continue;
      }
      const found = allItems.get(String(item.id));
      if (found === undefined) {
        return openAIError(400, `Item with id '${item.id}' not found.`, `input[${i}].id`);
      }
      resolved.push(found);
    }
    const history = typeof previousId === "string" ? conversation(previousId) : [];
    const tools = (body.tools as Json[] | undefined) ?? [];
    const functions = tools.filter((tool) => tool.type === "function");
    const chat: Json = {
      model,
      messages: chatMessages(body.instructions, [...history, ...resolved]),
      ...(functions.length === 0 ? {} : {
        tools: functions.map((tool) => ({ type: "function", function: { name: tool.name } })),
      }),
      ...(typeof body.max_output_tokens === "number" ? { max_tokens: body.max_output_tokens } : {}),
      ...(reasons ? { reasoning_effort: effort } : {}),
    };
    const view = viewOfChat(chat);
    const reply = decide(view);
    const output: Json[] = [];
    if (tools.some((tool) => tool.type === "web_search")) {
      output.push({
        id: `ws_${hex(48)}`,
        type: "web_search_call",
        status: "completed",
        action: { type: "search", query: view.lastUserText },
      });
    }
    const include = (body.include as string[] | undefined) ?? [];
    if (reply.reasoning !== undefined) {
      output.push({
        id: `rs_${hex(48)}`,
        type: "reasoning",
        summary: [{ type: "summary_text", text: reply.reasoning }],
        ...(include.includes("reasoning.encrypted_content")
          ? { encrypted_content: `gAAAA${btoa(reply.reasoning)}` }
          : {}),
      });
    }
    const incomplete = reply.finish === "length";
    if (reply.text !== "") {
      output.push({
        id: `msg_${hex(48)}`,
        type: "message",
        status: incomplete ? "incomplete" : "completed",
        content: [{ type: "output_text", annotations: [], logprobs: [], text: reply.text }],
        role: "assistant",
      });
    }
    for (const call of reply.calls) {
      output.push({
        id: `fc_${hex(48)}`,
        type: "function_call",
        status: "completed",
        arguments: JSON.stringify(call.args),
        call_id: call.id,
        name: call.name,
      });
    }
    const reasoningTokens = words(reply.reasoning ?? "").length;
    const outputTokens = reply.outputTokens + reasoningTokens;
    const response: Json = {
      id: `resp_${hex(48)}`,
      object: "response",
      created_at: 1_764_000_000,
      status: incomplete ? "incomplete" : "completed",
      background: false,
      error: null,
      incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      max_tool_calls: null,
      model: `${model}-2025-08-07`,
      output,
      parallel_tool_calls: body.parallel_tool_calls ?? true,
      previous_response_id: previousId ?? null,
      prompt_cache_key: null,
      reasoning: { effort: effort ?? null, summary: null },
      safety_identifier: null,
      service_tier: "default",
      store: body.store ?? true,
      temperature: 1,
      text: { format: { type: "text" }, verbosity: "medium", ...(body.text as Json | undefined) },
      tool_choice: body.tool_choice ?? "auto",
      tools,
      top_logprobs: 0,
      top_p: 1,
      truncation: "disabled",
      usage: {
        input_tokens: reply.inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: reasoningTokens },
        total_tokens: reply.inputTokens + outputTokens,
      },
      user: null,
      metadata: body.metadata ?? {},
    };
    if (body.store !== false) {
      kept.set(String(response.id), { response, input: own });
      for (const item of [...own, ...output]) allItems.set(String(item.id), item);
    }
    if (body.stream !== true) return Response.json(response);
    return new Response(streamEvents(response), {
      headers: { "content-type": "text/event-stream; charset=utf-8" },
    });
  }

  function inputItemsList(id: string, url: URL): Response {
    const entry = kept.get(id);
    if (entry === undefined) return openAIError(404, `Response with id '${id}' not found.`);
    const order = url.searchParams.get("order") ?? "desc";
    const limit = Number(url.searchParams.get("limit") ?? 20);
    let items = order === "asc" ? [...entry.input] : [...entry.input].reverse();
    const after = url.searchParams.get("after");
    if (after !== null) items = items.slice(items.findIndex((item) => item.id === after) + 1);
    const data = items.slice(0, limit);
    return Response.json({
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: items.length > data.length,
    });
  }

  return {
    stored: kept,
    async handle(request, path, body) {
      const url = new URL(request.url);
      if (path === "" && request.method === "POST") {
        if (body === undefined) {
          return openAIError(400, "We could not parse the JSON body of your request.");
        }
        return (await script?.(body, request)) ?? create(body);
      }
      const match = path.match(/^\/([^/]+)(\/input_items)?$/);
      const id = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
      if (id === undefined) {
        return openAIError(404, `Invalid URL (${request.method} ${url.pathname})`);
      }
      if (match?.[2] !== undefined && request.method === "GET") return inputItemsList(id, url);
      const entry = kept.get(id);
      if (entry === undefined || match?.[2] !== undefined) {
        return openAIError(404, `Response with id '${id}' not found.`);
      }
      if (request.method === "GET") return Response.json(entry.response);
      if (request.method === "DELETE") {
        kept.delete(id);
        return Response.json({ id, object: "response.deleted", deleted: true });
      }
      return openAIError(404, `Invalid URL (${request.method} ${url.pathname})`);
    },
  };
}

/** `text` in about three pieces (streamed function arguments). */
function thirds(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The typed event stream OpenAI sends for `response`. */
export function streamEvents(response: Json): string {
  let sequence = 0;
  let out = "";
  const emit = (type: string, data: Json) => {
    out += `event: ${type}\ndata: ${
      JSON.stringify({ type, sequence_number: sequence++, ...data })
    }\n\n`;
  };
  const pending = { ...response, status: "in_progress", output: [], usage: null };
  emit("response.created", { response: pending });
  emit("response.in_progress", { response: pending });
  (response.output as Json[]).forEach((item, outputIndex) => {
    const at = { item_id: item.id, output_index: outputIndex };
    if (item.type === "message") {
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress", content: [] },
      });
      const part = (item.content as Json[])[0] as Json;
      const text = String(part.text);
      emit("response.content_part.added", {
        ...at,
        content_index: 0,
        part: { ...part, text: "" },
      });
      for (const piece of words(text)) {
        emit("response.output_text.delta", { ...at, content_index: 0, delta: piece, logprobs: [] });
      }
      emit("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
      emit("response.content_part.done", { ...at, content_index: 0, part });
    } else if (item.type === "function_call") {
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress", arguments: "" },
      });
      for (const piece of thirds(String(item.arguments))) {
        emit("response.function_call_arguments.delta", { ...at, delta: piece });
      }
      emit("response.function_call_arguments.done", { ...at, arguments: item.arguments });
    } else if (item.type === "reasoning") {
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, summary: [] },
      });
      const text = String((item.summary as Json[])[0]?.text ?? "");
      emit("response.reasoning_summary_part.added", {
        ...at,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      });
      for (const piece of words(text)) {
        emit("response.reasoning_summary_text.delta", { ...at, summary_index: 0, delta: piece });
      }
      emit("response.reasoning_summary_text.done", { ...at, summary_index: 0, text });
      emit("response.reasoning_summary_part.done", {
        ...at,
        summary_index: 0,
        part: { type: "summary_text", text },
      });
    } else {
      emit("response.output_item.added", {
        output_index: outputIndex,
        item: { ...item, status: "in_progress" },
      });
    }
    emit("response.output_item.done", { output_index: outputIndex, item });
  });
  const type = response.status === "incomplete" ? "response.incomplete" : "response.completed";
  emit(type, { response });
  return out;
}
