/**
 * A scripted model for the fake providers, answering in each provider's own wire format (OpenAI,
 * Azure, Gemini, Anthropic), stream and non-stream. It reads back what reached the provider, so a
 * test through the gateway sees whether its request was translated:
 *
 * - with tools and no tool result in the last turn, it calls the first tool twice in parallel
 *   (`{"city":"Paris"}`, `{"city":"Rome"}`), after the text "Let me check.", the arguments
 *   streamed in pieces;
 * - with tool results in the last turn, it answers `Results: <result>; <result>` (with
 *   ` (error)` after a result marked as an error);
 * - otherwise it answers `[<system>] turns=<n> images=<n>: <last user text>`;
 * - it reasons (`Thinking about "<last user text>"`) when asked to, where the provider can show
 *   it; it stops at the first stop sequence in its answer, and after `max_tokens` words.
 *
 * Usage: 20 input tokens, one output token per word (and per tool call).
 */
import { anthropicSse, type MessagesScript } from "./fake_anthropic.ts";
import { type AzureScript, passedFilterResults, promptFilterResults } from "./fake_azure.ts";
import {
  geminiError,
  geminiSse,
  generateBody,
  type GenerateScript,
  wantsThoughts,
} from "./fake_gemini.ts";
import { type ChatScript, SSE_RESPONSE_HEADERS, sseBody } from "./fake_openai.ts";

type Json = Record<string, unknown>;

/** What the model saw, whatever the wire format. */
export interface View {
  readonly system: string;
  /** Turns of the conversation as the provider received them. */
  readonly turns: number;
  readonly lastUserText: string;
  readonly images: number;
  /** Tool results of the last user turn, `(error)` appended to failed ones. */
  readonly toolResults: readonly string[];
  readonly tools: readonly string[];
  readonly maxTokens: number | undefined;
  readonly stops: readonly string[];
  readonly reasoning: boolean;
}

/** One tool call of a reply. */
export interface Call {
  readonly id: string;
  readonly name: string;
  readonly args: Json;
}

/** The model's reply. */
export interface Reply {
  readonly reasoning: string | undefined;
  readonly text: string;
  readonly calls: readonly Call[];
  readonly finish: "stop" | "length" | "tool_calls";
  /** The stop sequence that ended the reply, if one did. */
  readonly stopSequence: string | undefined;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** Input tokens every reply reports. */
export const FAKE_INPUT_TOKENS = 20;

/** Splits text into word pieces that join back to it. */
export function words(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

/** The model's reply to what it saw. */
export function decide(view: View): Reply {
  const reasoning = view.reasoning ? `Thinking about "${view.lastUserText}"` : undefined;
  if (view.tools.length > 0 && view.toolResults.length === 0) {
    const name = view.tools[0] ?? "tool";
    const calls = [
      { id: "call_paris", name, args: { city: "Paris" } },
      { id: "call_rome", name, args: { city: "Rome" } },
    ];
    const text = "Let me check.";
    return {
      reasoning,
      text,
      calls,
      finish: "tool_calls",
      stopSequence: undefined,
      inputTokens: FAKE_INPUT_TOKENS,
      outputTokens: words(text).length + calls.length,
    };
  }
  let text = view.toolResults.length > 0
    ? `Results: ${view.toolResults.join("; ")}`
    : `${
      view.system === "" ? "" : `[${view.system}] `
    }turns=${view.turns} images=${view.images}: ${view.lastUserText}`;
  let finish: Reply["finish"] = "stop";
  let stopSequence: string | undefined;
  for (const stop of view.stops) {
    const at = text.indexOf(stop);
    if (stop !== "" && at >= 0) {
      text = text.slice(0, at);
      stopSequence = stop;
    }
  }
  let pieces = words(text);
  if (view.maxTokens !== undefined && pieces.length > view.maxTokens) {
    pieces = pieces.slice(0, view.maxTokens);
    text = pieces.join("");
    finish = "length";
    stopSequence = undefined;
  }
  return {
    reasoning,
    text,
    calls: [],
    finish,
    stopSequence,
    inputTokens: FAKE_INPUT_TOKENS,
    outputTokens: pieces.length,
  };
}

/** `text` in about three pieces (for streamed tool arguments). */
function thirds(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: Json) => typeof part.text === "string" ? part.text : "").join("");
}

// OpenAI and Azure (chat completions)

/** How the OpenAI-format model behaves. */
export interface OpenAIModelOptions {
  /**
   * An OpenAI-compatible server (vLLM, DeepSeek): it takes `top_k`, shows its reasoning
   * (`reasoning_content`) and names the stop sequence that stopped it (`stop_reason`). Otherwise
   * it is OpenAI itself, which refuses `top_k`, and `reasoning_effort` on models other than
   * o-series and gpt-5.
   */
  readonly compatible?: boolean;
  /** Azure's extras: the prompt-filter chunk and content-filter results. */
  readonly azure?: boolean;
}

/** What an OpenAI-format request shows the model. */
export function viewOfChat(body: Json): View {
  const messages = body.messages as Json[];
  const system = messages.filter((m) => m.role === "system" || m.role === "developer")
    .map((m) => textOf(m.content)).join(" ");
  const turns = messages.filter((m) => m.role !== "system" && m.role !== "developer");
  let images = 0;
  for (const message of messages) {
    if (Array.isArray(message.content)) {
      images += message.content.filter((p: Json) => p.type === "image_url").length;
    }
  }
  const trailingTools: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === "tool"; i--) {
    trailingTools.unshift(textOf(messages[i]?.content));
  }
  const lastUser = messages.findLast((m) => m.role === "user");
  const stop = body.stop;
  const tools = (body.tools as { function: { name: string } }[] | undefined) ?? [];
  return {
    system,
    turns: turns.length,
    lastUserText: textOf(lastUser?.content),
    images,
    toolResults: trailingTools,
    tools: tools.map((tool) => tool.function.name),
    maxTokens: (body.max_completion_tokens ?? body.max_tokens) as number | undefined,
    stops: typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop : [],
    reasoning: typeof body.reasoning_effort === "string",
  };
}

function openAIRefusal(body: Json, options: OpenAIModelOptions): Response | undefined {
  if (options.compatible === true) return undefined;
  const refuse = (message: string, param: string) =>
    Response.json({
      error: { message, type: "invalid_request_error", param, code: null },
    }, { status: 400 });
  if (body.top_k !== undefined) {
    return refuse("Unrecognized request argument supplied: top_k", "top_k");
  }
  if (body.reasoning_effort !== undefined && !/^(o\d|gpt-5)/.test(String(body.model))) {
    return refuse(
      "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
      "reasoning_effort",
    );
  }
  return undefined;
}

/** The chat completion (or its chunks) of `reply` to the chat request `body`. */
export function openAIAnswer(
  body: Json,
  reply: Reply,
  options: OpenAIModelOptions = {},
): Response {
  const model = String(body.model);
  const compatible = options.compatible === true;
  const azure = options.azure === true;
  const usage = {
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
  };
  const stopReason = compatible && reply.stopSequence !== undefined
    ? { stop_reason: reply.stopSequence }
    : {};
  const filter = azure ? { content_filter_results: passedFilterResults() } : {};
  const toolCalls = reply.calls.map((call) => ({
    id: call.id,
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.args) },
  }));
  const identity = { id: "chatcmpl-model", created: 1_764_000_000, model };
  if (body.stream !== true) {
    const message: Json = { role: "assistant", content: reply.text === "" ? null : reply.text };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    if (compatible && reply.reasoning !== undefined) message.reasoning_content = reply.reasoning;
    return Response.json({
      ...identity,
      object: "chat.completion",
      choices: [{
        index: 0,
        message,
        finish_reason: reply.finish,
        logprobs: null,
        ...stopReason,
        ...filter,
      }],
      usage,
      ...(azure ? { prompt_filter_results: promptFilterResults() } : {}),
    });
  }
  const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
  const nullUsage = includeUsage ? { usage: null } : {};
  const chunk = (delta: Json, finish: string | null = null, extra: Json = {}) => ({
    ...identity,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra, ...filter }],
    ...nullUsage,
  });
  const chunks: Json[] = [];
  if (azure) {
    chunks.push({
      choices: [],
      created: 0,
      id: "",
      model: "",
      object: "",
      prompt_filter_results: promptFilterResults(),
    });
  }
  chunks.push(chunk({ role: "assistant", content: "" }));
  if (compatible && reply.reasoning !== undefined) {
    for (const piece of words(reply.reasoning)) chunks.push(chunk({ reasoning_content: piece }));
  }
  for (const piece of words(reply.text)) chunks.push(chunk({ content: piece }));
  reply.calls.forEach((call, index) => {
    chunks.push(chunk({
      tool_calls: [{
        index,
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: "" },
      }],
    }));
    for (const piece of thirds(JSON.stringify(call.args))) {
      chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  chunks.push(chunk({}, reply.finish, stopReason));
  if (includeUsage) {
    chunks.push({ ...identity, object: "chat.completion.chunk", choices: [], usage });
  }
  return new Response(sseBody(chunks), { headers: SSE_RESPONSE_HEADERS });
}

/** A fake OpenAI (or OpenAI-compatible server) script that answers as the model. */
export function openAIModel(options: OpenAIModelOptions = {}): ChatScript {
  return (body) =>
    openAIRefusal(body, options) ?? openAIAnswer(body, decide(viewOfChat(body)), options);
}

/** A fake Azure script that answers as the model. */
export function azureModel(): AzureScript {
  const options = { azure: true };
  return (body) =>
    openAIRefusal(body, options) ?? openAIAnswer(body, decide(viewOfChat(body)), options);
}

// Gemini

/** What a Gemini request shows the model. */
export function viewOfGemini(body: Json): View {
  const system = ((body.systemInstruction as { parts?: Json[] } | undefined)?.parts ?? [])
    .map((part) => String(part.text ?? "")).join(" ");
  const contents = body.contents as { role: string; parts: Json[] }[];
  let images = 0;
  for (const content of contents) {
    images += content.parts.filter((p) => p.inlineData !== undefined || p.fileData !== undefined)
      .length;
  }
  const last = contents.at(-1);
  const results = (last?.parts ?? []).filter((p) => p.functionResponse !== undefined).map((p) => {
    const response = (p.functionResponse as { response: Json }).response;
    return typeof response.output === "string" ? response.output : JSON.stringify(response);
  });
  const lastUser = contents.findLast((c) =>
    c.role === "user" && c.parts.some((p) => typeof p.text === "string")
  );
  const config = (body.generationConfig ?? {}) as Json;
  const declarations = ((body.tools ?? []) as { functionDeclarations?: { name: string }[] }[])
    .flatMap((tool) => tool.functionDeclarations ?? []);
  return {
    system,
    turns: contents.length,
    lastUserText: (lastUser?.parts ?? []).map((p) => typeof p.text === "string" ? p.text : "").join(
      "",
    ),
    images,
    toolResults: results,
    tools: declarations.map((d) => d.name),
    maxTokens: config.maxOutputTokens as number | undefined,
    stops: (config.stopSequences as string[] | undefined) ?? [],
    reasoning: wantsThoughts(body),
  };
}

/** A fake Gemini script that answers as the model (thought parts with `includeThoughts`). */
export function geminiModel(): GenerateScript {
  return (body, stream) => {
    const config = (body.generationConfig ?? {}) as Json;
    if (config.topK !== undefined && typeof config.topK !== "number") {
      return geminiError(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.top_k'");
    }
    const reply = decide(viewOfGemini(body));
    const finish = reply.finish === "length" ? "MAX_TOKENS" : "STOP";
    const usage = (output: number) => ({
      promptTokenCount: reply.inputTokens,
      candidatesTokenCount: output,
      totalTokenCount: reply.inputTokens + output,
    });
    const calls = reply.calls.map((call) => ({
      functionCall: { name: call.name, args: call.args },
    }));
    const thought = reply.reasoning === undefined ? [] : [{ text: reply.reasoning, thought: true }];
    if (!stream) {
      const parts = [...thought, ...(reply.text === "" ? [] : [{ text: reply.text }]), ...calls];
      return Response.json(generateBody(parts, finish, usage(reply.outputTokens)));
    }
    const chunks = [
      ...words(reply.reasoning ?? "").map((piece) =>
        generateBody([{ text: piece, thought: true }], null, usage(0))
      ),
      ...words(reply.text).map((piece, i) => generateBody([{ text: piece }], null, usage(i + 1))),
    ];
    if (calls.length > 0) chunks.push(generateBody(calls, null, usage(reply.outputTokens)));
    chunks.push(generateBody([{ text: "" }], finish, usage(reply.outputTokens)));
    return new Response(geminiSse(chunks), { headers: { "content-type": "text/event-stream" } });
  };
}

// Anthropic

/** What a Messages request shows the model. */
export function viewOfMessages(body: Json): View {
  const system = typeof body.system === "string" ? body.system : textOf(body.system);
  const messages = body.messages as { role: string; content: unknown }[];
  const blocks = (content: unknown): Json[] =>
    typeof content === "string" ? [{ type: "text", text: content }] : content as Json[];
  let images = 0;
  for (const message of messages) {
    images += blocks(message.content).filter((b) => b.type === "image").length;
  }
  const last = messages.at(-1);
  const results = last?.role === "user"
    ? blocks(last.content).filter((b) => b.type === "tool_result").map((b) =>
      `${textOf(b.content)}${b.is_error === true ? " (error)" : ""}`
    )
    : [];
  const lastUser = messages.findLast((m) =>
    m.role === "user" && blocks(m.content).some((b) => b.type === "text")
  );
  const tools = (body.tools as { name: string }[] | undefined) ?? [];
  return {
    system,
    turns: messages.length,
    lastUserText: textOf(blocks(lastUser?.content ?? "")),
    images,
    toolResults: results,
    tools: tools.map((tool) => tool.name),
    maxTokens: body.max_tokens as number,
    stops: (body.stop_sequences as string[] | undefined) ?? [],
    reasoning: (body.thinking as Json | undefined)?.type === "enabled",
  };
}

const STOP_REASONS = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use" } as const;

/** A fake Anthropic script that answers as the model, thinking shown when enabled. */
export function anthropicModel(): MessagesScript {
  return (body) => anthropicReply(body, decide(viewOfMessages(body)));
}

/** Anthropic's answer to the Messages request `body` holding `reply`, streamed if asked. */
export function anthropicReply(body: Json, reply: Reply): Response {
  const model = String(body.model);
  const stopReason = reply.stopSequence !== undefined
    ? "stop_sequence"
    : STOP_REASONS[reply.finish];
  const signature = "sig_fake";
  const content: Json[] = [];
  if (reply.reasoning !== undefined) {
    content.push({ type: "thinking", thinking: reply.reasoning, signature });
  }
  if (reply.text !== "") content.push({ type: "text", text: reply.text });
  for (const call of reply.calls) {
    content.push({
      type: "tool_use",
      id: call.id.replace("call_", "toolu_"),
      name: call.name,
      input: call.args,
    });
  }
  const usage = {
    input_tokens: reply.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: reply.outputTokens,
  };
  if (body.stream !== true) {
    return Response.json({
      id: "msg_fakemodel",
      type: "message",
      role: "assistant",
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: reply.stopSequence ?? null,
      usage,
    });
  }
  const events: Json[] = [{
    type: "message_start",
    message: {
      id: "msg_fakemodel",
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  }];
  content.forEach((block, index) => {
    if (block.type === "thinking") {
      events.push({
        type: "content_block_start",
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
      for (const piece of words(String(block.thinking))) {
        events.push({
          type: "content_block_delta",
          index,
          delta: { type: "thinking_delta", thinking: piece },
        });
      }
      events.push({
        type: "content_block_delta",
        index,
        delta: { type: "signature_delta", signature },
      });
    } else if (block.type === "text") {
      events.push({
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      });
      if (index === 0) events.push({ type: "ping" });
      for (const piece of words(String(block.text))) {
        events.push({
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: piece },
        });
      }
    } else {
      events.push({ type: "content_block_start", index, content_block: { ...block, input: {} } });
      for (const piece of thirds(JSON.stringify(block.input))) {
        events.push({
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: piece },
        });
      }
    }
    events.push({ type: "content_block_stop", index });
  });
  events.push(
    {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: reply.stopSequence ?? null },
      usage: { output_tokens: reply.outputTokens },
    },
    { type: "message_stop" },
  );
  return new Response(anthropicSse(events), {
    headers: { "content-type": "text/event-stream; charset=utf-8" },
  });
}

/** Anthropic's `error` event, as sent mid-stream. */
export function anthropicErrorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}
