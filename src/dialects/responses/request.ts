/**
 * Responses request → the canonical chat completion request every provider adapter takes, for
 * providers other than OpenAI and Azure OpenAI (to those a Responses request passes through
 * natively). Pure. Parameter by parameter:
 *
 * | Responses | chat |
 * | --- | --- |
 * | `instructions` | a first `system` message (instructions of earlier responses are not carried over, as in OpenAI) |
 * | stored history of `previous_response_id` | the messages before `input` (see `items.ts`) |
 * | `input` (a string: one user message; items: see `items.ts`) | `messages` |
 * | `tools` of type `function` | `{type: "function", function: {name, description, parameters, strict}}` |
 * | `tools` of type `namespace` | its function tools, as above, named as `tool_names.ts` says (the namespace's `description` is dropped) |
 * | `tool_choice` `auto` / `none` / `required` / `{type: "function", name}` | the same / `{type: "function", function: {name}}`; `auto` and `none` without tools are dropped |
 * | `tool_choice` `{type: "allowed_tools", mode, tools}` | `tools` narrowed to the allowed ones, `tool_choice` = `mode` |
 * | `parallel_tool_calls` | the same (with tools only: OpenAI refuses it without) |
 * | `text.format` `json_object` / `json_schema` | `response_format` `{type: "json_object"}` / `{type: "json_schema", json_schema: {name, schema, strict, description}}` |
 * | `text.verbosity` | `verbosity` |
 * | `reasoning.effort` `low` / `medium` / `high` | `reasoning_effort`; `minimal` becomes `low` and `xhigh` / `max` `high` (named in `adjusted`); `none` sends none |
 * | `max_output_tokens` | `max_completion_tokens` |
 * | `temperature`, `top_p`, `prompt_cache_key` | the same |
 * | `user`, else `safety_identifier` | `user` (an id longer than 64 characters becomes its SHA-256 hex digest) |
 * | `stream: true` | `stream: true`, `stream_options.include_usage: true` |
 *
 * Refused with 400 naming the field: OpenAI's built-in tools (`tools[i]` whose type is not
 * `function` or `namespace`: `web_search`, `file_search`, `computer_use_preview`,
 * `code_interpreter`, `mcp`, `image_generation`, `local_shell`, `custom`, …) and tool choices
 * naming them, a namespace's tool that is not a function (`tools[i].tools[j]`), a namespace's
 * function whose chat name another tool has (`tools[i].tools[j].name`), a `tool_choice`
 * naming a function not in `tools`, `required` without tools, `background: true`,
 * `conversation`, `prompt`, an unknown `reasoning.effort` or `text.format.type`, a request left
 * with nothing but system messages once translated, and what `items.ts` refuses.
 *
 * Named in `adjusted` (the answer may differ): `reasoning.effort` when changed, `truncation:
 * "auto"` (nothing is truncated: a conversation too long fails), `top_logprobs` above 0 (no
 * log probabilities come back).
 *
 * Dropped: `metadata` (echoed in the response and kept with it when stored; OpenAI's chat
 * `metadata` is only accepted with `store`, which other providers lack), `store`,
 * `previous_response_id` (replaced by the history), `include` (nothing extra can be returned,
 * such as `reasoning.encrypted_content`), `reasoning.summary` (reasoning comes back as a summary
 * whenever the provider returns it), `service_tier`, `max_tool_calls` (built-in tools only),
 * `stream_options`, and any field this file does not know.
 */
import { GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import { toUserField } from "../messages/request.ts";
import { type PlacedItem, refuse, type ResponseItem, toChatMessages } from "./items.ts";
import type { FunctionTool, NamespaceTool, ResponsesRequest, ToolChoice } from "./schema.ts";
import { flattenTools, type ToolNames, toolNames } from "./tool_names.ts";

/** What a translation needs besides the request, read from the store by the caller. */
export interface ChatRequestSources {
  /** `previous_response_id`'s stored conversation: input and output items, oldest first. */
  readonly history?: readonly ResponseItem[] | undefined;
  /** Stored items by id, for the request's `item_reference`s (see `referencedItemIds`). */
  readonly items?: ReadonlyMap<string, ResponseItem> | undefined;
}

type ChatTool = { type: "function"; function: { name: string; [key: string]: unknown } };

const OPENAI_ONLY = "it is available only on models served by OpenAI";

function refuseOtherTools(request: ResponsesRequest): void {
  (request.tools ?? []).forEach((tool, i) => {
    if (tool.type === "namespace") {
      (tool as NamespaceTool).tools.forEach((entry, j) => {
        if (entry.type === "function") return;
        refuse(
          `Unsupported tool type "${entry.type.slice(0, 100)}" in 'tools[${i}].tools[${j}]': ` +
            `only function tools can be sent to this model`,
          `tools[${i}].tools[${j}]`,
        );
      });
    } else if (tool.type !== "function") {
      refuse(
        `Unsupported tool type "${tool.type.slice(0, 100)}" in 'tools[${i}]': OpenAI's built-in ` +
          `tools run only on models served by OpenAI; declare a function tool instead`,
        `tools[${i}]`,
      );
    }
  });
}

/** Function tools, those of namespaces flattened (see `tool_names.ts`). */
function toChatTools(request: ResponsesRequest): ChatTool[] {
  refuseOtherTools(request);
  const flat = flattenTools(request.tools);
  return flat.map((entry) => {
    const clash = entry.namespace !== undefined &&
      flat.some((other) => other !== entry && other.chatName === entry.chatName);
    if (clash) {
      refuse(
        `Invalid value for '${entry.param}.name': "${entry.chatName.slice(0, 100)}", the name ` +
          `this function of namespace "${entry.namespace?.slice(0, 100)}" is sent under, is ` +
          "taken by another tool",
        `${entry.param}.name`,
      );
    }
    const { description, parameters, strict } = entry.tool as FunctionTool;
    const fn: ChatTool["function"] = { name: entry.chatName };
    if (typeof description === "string") fn.description = description;
    if (parameters !== undefined && parameters !== null) fn.parameters = parameters;
    if (typeof strict === "boolean") fn.strict = strict;
    return { type: "function", function: fn };
  });
}

function hasTool(tools: readonly ChatTool[], name: string): boolean {
  return tools.some((tool) => tool.function.name === name);
}

/** `tool_choice` and the tools it leaves (see the table above). */
function toolChoiceFields(
  choice: ToolChoice | null | undefined,
  tools: ChatTool[],
  names: ToolNames,
): { tools: ChatTool[]; fields: Partial<ChatCompletionRequest> } {
  if (choice === undefined || choice === null) return { tools, fields: {} };
  if (tools.length === 0 && (choice === "auto" || choice === "none")) return { tools, fields: {} };
  if (tools.length === 0) {
    const name = typeof choice === "string" ? choice : choice.type;
    return refuse(
      `Invalid value for 'tool_choice': "${
        name.slice(0, 100)
      }" needs tools, and the request has none`,
      "tool_choice",
    );
  }
  if (typeof choice === "string") return { tools, fields: { tool_choice: choice } };
  if (choice.type === "function") {
    const name = names.toChat(String(choice.name), choice.namespace);
    if (!hasTool(tools, name)) {
      return refuse(
        `Invalid value for 'tool_choice.name': no function tool is named "${name.slice(0, 100)}"`,
        "tool_choice.name",
      );
    }
    return { tools, fields: { tool_choice: { type: "function", function: { name } } } };
  }
  if (choice.type === "allowed_tools") {
    const allowed = (choice.tools as { type: string; name?: unknown; namespace?: unknown }[]).map(
      (entry, k) => {
        const param = `tool_choice.tools[${k}]`;
        if (entry.type !== "function") {
          return refuse(
            `Unsupported tool type "${entry.type.slice(0, 100)}" in '${param}': ${OPENAI_ONLY}`,
            param,
          );
        }
        const name = typeof entry.name === "string"
          ? names.toChat(entry.name, entry.namespace)
          : undefined;
        if (name === undefined || !hasTool(tools, name)) {
          return refuse(`Invalid value for '${param}.name': it names no function tool`, param);
        }
        return name;
      },
    );
    const narrowed = tools.filter((tool) => allowed.includes(tool.function.name));
    if (narrowed.length === 0 && choice.mode === "required") {
      return refuse(
        "Invalid value for 'tool_choice.tools': mode required needs at least one tool",
        "tool_choice.tools",
      );
    }
    if (narrowed.length === 0) return { tools: [], fields: {} };
    return { tools: narrowed, fields: { tool_choice: choice.mode as "auto" | "required" } };
  }
  return refuse(
    `Unsupported value for 'tool_choice.type': "${choice.type.slice(0, 100)}": ${OPENAI_ONLY}`,
    "tool_choice.type",
  );
}

function reasoningEffort(request: ResponsesRequest, adjusted: string[]): string | undefined {
  const effort = request.reasoning?.effort;
  switch (effort) {
    case undefined:
    case null:
    case "none":
      return undefined;
    case "low":
    case "medium":
    case "high":
      return effort;
    case "minimal":
      adjusted.push("reasoning.effort");
      return "low";
    case "xhigh":
    case "max":
      adjusted.push("reasoning.effort");
      return "high";
    default:
      return refuse(
        `Invalid value for 'reasoning.effort': "${effort.slice(0, 100)}" is not one of none, ` +
          "minimal, low, medium, high, xhigh",
        "reasoning.effort",
      );
  }
}

function responseFormat(request: ResponsesRequest): ChatCompletionRequest["response_format"] {
  const format = request.text?.format;
  if (format === undefined || format === null || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type !== "json_schema") {
    return refuse(
      `Unsupported value for 'text.format.type': "${format.type.slice(0, 100)}" (text, ` +
        "json_object or json_schema)",
      "text.format.type",
    );
  }
  const { name, schema, strict, description } = format as Record<string, unknown>;
  const jsonSchema: Record<string, unknown> = { name, schema };
  if (typeof strict === "boolean") jsonSchema.strict = strict;
  if (typeof description === "string") jsonSchema.description = description;
  return { type: "json_schema", json_schema: jsonSchema };
}

function refuseOpenAiOnly(request: ResponsesRequest): void {
  if (request.background === true) {
    refuse(`Unsupported parameter 'background': background mode ${OPENAI_ONLY}`, "background");
  }
  for (const field of ["conversation", "prompt"] as const) {
    if (request[field] !== undefined && request[field] !== null) {
      refuse(`Unsupported parameter '${field}': ${OPENAI_ONLY}`, field);
    }
  }
}

function conversation(request: ResponsesRequest, sources: ChatRequestSources, names: ToolNames) {
  const placed: PlacedItem[] = (sources.history ?? []).map((item) => ({
    item,
    param: "previous_response_id",
  }));
  const input = request.input;
  if (typeof input === "string") {
    placed.push({ item: { type: "message", role: "user", content: input }, param: "input" });
  } else {
    input?.forEach((item, i) => placed.push({ item, param: `input[${i}]` }));
  }
  const messages = toChatMessages(placed, { references: sources.items, names });
  if (!messages.some((message) => message.role !== "system")) {
    refuse(
      "Invalid value for 'input': the request has no input that can be sent to this model",
      "input",
    );
  }
  if (typeof request.instructions === "string" && request.instructions !== "") {
    messages.unshift({ role: "system", content: request.instructions });
  }
  return messages;
}

function translate(
  request: ResponsesRequest,
  sources: ChatRequestSources,
): { chat: ChatCompletionRequest; adjusted: string[] } {
  const adjusted: string[] = [];
  refuseOpenAiOnly(request);
  const names = toolNames(request.tools);
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages: conversation(request, sources, names),
  };
  const { tools, fields } = toolChoiceFields(request.tool_choice, toChatTools(request), names);
  if (tools.length > 0) {
    chat.tools = tools;
    if (typeof request.parallel_tool_calls === "boolean") {
      chat.parallel_tool_calls = request.parallel_tool_calls;
    }
  }
  Object.assign(chat, fields);
  const format = responseFormat(request);
  if (format !== undefined) chat.response_format = format;
  if (typeof request.text?.verbosity === "string") chat.verbosity = request.text.verbosity;
  const effort = reasoningEffort(request, adjusted);
  if (effort !== undefined) chat.reasoning_effort = effort;
  if (typeof request.max_output_tokens === "number") {
    chat.max_completion_tokens = request.max_output_tokens;
  }
  if (typeof request.temperature === "number") chat.temperature = request.temperature;
  if (typeof request.top_p === "number") chat.top_p = request.top_p;
  if (typeof request.prompt_cache_key === "string") {
    chat.prompt_cache_key = request.prompt_cache_key;
  }
  const user = request.user ?? request.safety_identifier;
  if (typeof user === "string" && user !== "") chat.user = toUserField(user);
  if (request.truncation === "auto") adjusted.push("truncation");
  if ((request.top_logprobs ?? 0) > 0) adjusted.push("top_logprobs");
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return { chat, adjusted };
}

/**
 * Translates a Responses request to the canonical chat request (see the table above), or
 * returns the 400 for what only OpenAI can do. `sources` holds what the caller read from the
 * store: `previous_response_id`'s conversation and the items `item_reference`s name.
 * `adjusted` names the parameters changed, for `x-choreoai-adjusted`.
 *
 * @example Usage
 * ```ts
 * import { parseResponsesRequest } from "./schema.ts";
 * import { toChatRequest } from "./request.ts";
 * const parsed = parseResponsesRequest({
 *   model: "claude-sonnet-4-5",
 *   instructions: "Be brief.",
 *   input: "Hi",
 *   max_output_tokens: 100,
 * });
 * if (!parsed.ok) throw parsed.error;
 * const out = toChatRequest(parsed.request);
 * // out.chat.messages: [{role: "system", content: "Be brief."}, {role: "user", content: "Hi"}]
 * // out.chat.max_completion_tokens === 100
 * ```
 */
export function toChatRequest(
  request: ResponsesRequest,
  sources: ChatRequestSources = {},
): { chat: ChatCompletionRequest; adjusted: string[] } | GatewayError {
  try {
    return translate(request, sources);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}
