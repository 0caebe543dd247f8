/**
 * Anthropic Messages request → the canonical chat completion request every provider adapter
 * takes, for providers other than Anthropic (to Anthropic a Messages request passes through
 * natively). Pure. Parameter by parameter:
 *
 * | Messages | chat |
 * | --- | --- |
 * | `system`, `messages` | `messages` (see `content.ts`) |
 * | `max_tokens` | `max_completion_tokens` (OpenAI's current name, which reasoning models require; the Anthropic, Gemini and echo adapters read it first) |
 * | `temperature`, `top_p` | the same |
 * | `top_k` | `top_k`, an extension field: the route keeps it only for providers that take it |
 * | `stop_sequences` | `stop` (none: omitted); more than 4 is a 400, as OpenAI takes at most 4 and dropping one would let the model run past it |
 * | `stream: true` | `stream: true`, `stream_options.include_usage: true` (Messages streams always carry usage) |
 * | `metadata.user_id` | `user`; an id longer than OpenAI's limit of 64 characters (Claude Code's are about 150) becomes its SHA-256 hex digest, 64 characters and as stable |
 * | `tools` (custom) | `{type: "function", function: {name, description, parameters: input_schema}}` |
 * | `tool_choice` `auto` / `any` / `tool` / `none` | `"auto"` / `"required"` / `{type: "function", function: {name}}` / `"none"` (only with tools: OpenAI refuses it without; `any` or `tool` without tools is a 400) |
 * | `disable_parallel_tool_use: true` | `parallel_tool_calls: false` |
 * | `thinking: {type: "enabled", budget_tokens}` | `reasoning_effort`: below 8,000 tokens `low`, below 24,000 `medium`, else `high` (Claude Code's 4,000 / 10,000 / 31,999 budgets become low / medium / high) |
 * | `output_config.effort` | `reasoning_effort` (wins over `thinking`); `xhigh` and `max` become `high`, named in `adjusted` |
 * | `output_config.format` (or beta `output_format`) `json_schema` | `response_format: {type: "json_schema", json_schema: {name: "output", schema}}` |
 *
 * Refused with 400 naming the field: Anthropic's own tools (`tools[i]` whose `type` is not
 * `custom`: web search, bash, text editor, code execution, …), `mcp_servers`, `container`, a
 * `tool_choice` naming a tool not in `tools`, an unknown `output_config.effort`, a conversation
 * left with no message once translated (thinking only), and the content `content.ts` refuses.
 *
 * Named in `adjusted` (the answer may differ): `context_management` (nothing clears old tool
 * results), `tools[i].strict` (no schema guarantee), `tools[i].input_examples` (not sent), a last
 * assistant message (`messages[i]`: other providers do not continue a prefill, they answer after
 * it), and what `content.ts` names.
 *
 * Dropped silently, as hints that do not change the answer: `cache_control` anywhere,
 * `defer_loading` (every tool is sent), `eager_input_streaming`, `allowed_callers`,
 * `thinking: {type: "disabled" | "adaptive"}` (the provider's default), `service_tier`,
 * `inference_geo`, `speed`, `diagnostics`, and any field this file does not know.
 */
import { createHash } from "node:crypto";
import { GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest, ChatMessage } from "../../openai/schema.ts";
import { estimatePromptTokens, estimateTokens } from "../../tokens/mod.ts";
import { type Adjusted, refuse, systemText, toChatMessages } from "./content.ts";
import {
  type CustomTool,
  isCustomTool,
  type MessagesCountTokensRequest,
  type MessagesRequest,
  type ToolParam,
} from "./schema.ts";

/** The most stop sequences OpenAI takes. */
export const MAX_STOP_SEQUENCES = 4;

/** The longest `user` OpenAI takes. */
export const MAX_USER_LENGTH = 64;

/** `metadata.user_id` as OpenAI's `user`: kept when it fits, else its SHA-256 hex digest. */
export function toUserField(userId: string): string {
  if (userId.length <= MAX_USER_LENGTH) return userId;
  return createHash("sha256").update(userId).digest("hex");
}

/** `reasoning_effort` for a thinking budget (see the table above). */
export function effortOfBudget(budgetTokens: number): "low" | "medium" | "high" {
  if (budgetTokens < 8_000) return "low";
  if (budgetTokens < 24_000) return "medium";
  return "high";
}

type ChatTool = { type: "function"; function: { name: string; [key: string]: unknown } };

interface Conversation {
  messages: ChatMessage[];
  tools: ChatTool[];
}

function toChatTool(tool: ToolParam, i: number, adjusted: Adjusted): ChatTool {
  if (!isCustomTool(tool)) {
    const type = String(tool.type).slice(0, 100);
    return refuse(
      `Unsupported tool type "${type}" in 'tools[${i}]': Anthropic's own tools run only on ` +
        "models served by Anthropic; declare a custom tool with an input_schema instead",
      `tools[${i}]`,
    );
  }
  const custom = tool as CustomTool;
  if (custom.strict === true) adjusted.push(`tools[${i}].strict`);
  if ((custom.input_examples?.length ?? 0) > 0) adjusted.push(`tools[${i}].input_examples`);
  const fn: ChatTool["function"] = { name: custom.name };
  if (custom.description !== undefined) fn.description = custom.description;
  fn.parameters = custom.input_schema;
  return { type: "function", function: fn };
}

/** The conversation and tools of a request (shared by create and count_tokens). */
function toConversation(request: MessagesCountTokensRequest, adjusted: Adjusted): Conversation {
  const messages: ChatMessage[] = [];
  if (request.system !== undefined) {
    messages.push({ role: "system", content: systemText(request.system, "system") });
  }
  request.messages.forEach((message, i) => {
    messages.push(...toChatMessages(message, `messages[${i}]`, adjusted));
  });
  if (messages.length === 0) {
    refuse(
      "Invalid value for 'messages': no message has content that can be sent to this model",
      "messages",
    );
  }
  const last = request.messages.length - 1;
  if (request.messages[last]?.role === "assistant") adjusted.push(`messages[${last}]`);
  const tools = (request.tools ?? []).map((tool, i) => toChatTool(tool, i, adjusted));
  return { messages, tools };
}

function toolChoiceFields(
  request: MessagesRequest,
  tools: readonly ChatTool[],
): Partial<ChatCompletionRequest> {
  const choice = request.tool_choice;
  if (choice === undefined) return {};
  if (tools.length === 0) {
    if (choice.type === "auto" || choice.type === "none") return {};
    return refuse(
      `Invalid value for 'tool_choice': "${choice.type}" needs tools, and the request has none`,
      "tool_choice",
    );
  }
  const fields: Partial<ChatCompletionRequest> = {};
  if (choice.type === "auto") fields.tool_choice = "auto";
  else if (choice.type === "any") fields.tool_choice = "required";
  else if (choice.type === "none") fields.tool_choice = "none";
  else {
    if (!tools.some((tool) => tool.function.name === choice.name)) {
      return refuse(
        `Invalid value for 'tool_choice.name': no tool is named "${choice.name.slice(0, 100)}"`,
        "tool_choice.name",
      );
    }
    fields.tool_choice = { type: "function", function: { name: choice.name } };
  }
  if (choice.type !== "none" && choice.disable_parallel_tool_use === true) {
    fields.parallel_tool_calls = false;
  }
  return fields;
}

function reasoningEffort(request: MessagesRequest, adjusted: Adjusted): string | undefined {
  const effort = request.output_config?.effort;
  if (typeof effort === "string") {
    if (effort === "low" || effort === "medium" || effort === "high") return effort;
    if (effort === "xhigh" || effort === "max") {
      adjusted.push("output_config.effort");
      return "high";
    }
    return refuse(
      `Invalid value for 'output_config.effort': "${effort.slice(0, 100)}" is not one of low, ` +
        "medium, high, xhigh, max",
      "output_config.effort",
    );
  }
  const thinking = request.thinking;
  if (thinking?.type !== "enabled") return undefined;
  return effortOfBudget(thinking.budget_tokens as number);
}

function responseFormat(request: MessagesRequest): Record<string, unknown> | undefined {
  const configured = request.output_config?.format;
  const [format, param] = configured !== undefined && configured !== null
    ? [configured, "output_config.format"]
    : [request.output_format, "output_format"];
  if (format === undefined || format === null) return undefined;
  if (format.type !== "json_schema") {
    return refuse(
      `Unsupported value for '${param}.type': "${format.type.slice(0, 100)}" (only json_schema)`,
      `${param}.type`,
    );
  }
  return { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
}

function refuseAnthropicOnly(request: MessagesRequest): void {
  const mcp = request.mcp_servers;
  if (Array.isArray(mcp) ? mcp.length > 0 : mcp !== undefined && mcp !== null) {
    refuse(
      "Unsupported parameter 'mcp_servers': MCP connectors run only on Anthropic",
      "mcp_servers",
    );
  }
  if (request.container !== undefined && request.container !== null) {
    refuse("Unsupported parameter 'container': containers exist only on Anthropic", "container");
  }
}

function translate(request: MessagesRequest): { chat: ChatCompletionRequest; adjusted: string[] } {
  const adjusted: Adjusted = [];
  refuseAnthropicOnly(request);
  const { messages, tools } = toConversation(request, adjusted);
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages,
    max_completion_tokens: request.max_tokens,
  };
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.top_k !== undefined) chat.top_k = request.top_k;
  const stops = request.stop_sequences ?? [];
  if (stops.length > MAX_STOP_SEQUENCES) {
    refuse(
      `Invalid value for 'stop_sequences': at most ${MAX_STOP_SEQUENCES} stop sequences can be ` +
        `sent to this model, got ${stops.length}`,
      "stop_sequences",
    );
  }
  if (stops.length > 0) chat.stop = [...stops];
  const user = request.metadata?.user_id;
  if (typeof user === "string") chat.user = toUserField(user);
  if (tools.length > 0) chat.tools = tools;
  Object.assign(chat, toolChoiceFields(request, tools));
  const effort = reasoningEffort(request, adjusted);
  if (effort !== undefined) chat.reasoning_effort = effort;
  const format = responseFormat(request);
  if (format !== undefined) {
    chat.response_format = format as ChatCompletionRequest["response_format"];
  }
  if (request.context_management !== undefined) adjusted.push("context_management");
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return { chat, adjusted };
}

/**
 * Translates a Messages request to the canonical chat request (see the table above), or returns
 * the 400 for what no provider but Anthropic can do. `adjusted` names the parameters changed,
 * for `x-choreoai-adjusted`.
 *
 * @example Usage
 * ```ts
 * import { toChatRequest } from "./request.ts";
 * const out = toChatRequest({
 *   model: "gpt-4o",
 *   max_tokens: 100,
 *   system: "Be brief.",
 *   messages: [{ role: "user", content: "Hi" }],
 * });
 * // out.chat.messages: [{role: "system", content: "Be brief."}, {role: "user", content: "Hi"}]
 * // out.chat.max_completion_tokens === 100
 * ```
 */
export function toChatRequest(
  request: MessagesRequest,
): { chat: ChatCompletionRequest; adjusted: string[] } | GatewayError {
  try {
    return translate(request);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

/**
 * The gateway's estimate of a request's input tokens, for `count_tokens` on providers other than
 * Anthropic: the translated messages (as `estimatePromptTokens` counts them for rate limits) plus
 * the tool definitions' JSON. A 400 when the request could not be translated.
 */
export function estimateInputTokens(request: MessagesCountTokensRequest): number | GatewayError {
  try {
    const { messages, tools } = toConversation(request, []);
    const toolTokens = tools.length === 0 ? 0 : estimateTokens(JSON.stringify(tools));
    return estimatePromptTokens(messages) + toolTokens;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}
