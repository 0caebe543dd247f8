/**
 * OpenAI `tools`, `tool_choice` and `parallel_tool_calls` → Anthropic `tools` and `tool_choice`
 * (FACTS.md T17, T18, T20).
 *
 * - `{type: "function", function: {name, description, parameters}}` →
 *   `{name, description, input_schema: parameters}`; missing parameters become
 *   `{type: "object", properties: {}}`, and parameters without a `type` get `type: "object"`
 *   (Anthropic requires it). `strict` is dropped.
 * - `tool_choice`: `auto` → `{type: "auto"}`, `required` → `{type: "any"}`, `none` →
 *   `{type: "none"}`, `{type: "function", function: {name}}` → `{type: "tool", name}`; any other
 *   form (`allowed_tools`, `custom`) is a 400.
 * - `parallel_tool_calls: false` → `disable_parallel_tool_use: true` on the tool choice
 *   (`{type: "auto"}` when the client named none); ignored with `none`, which has no such flag.
 * - Without tools, `tool_choice` and `parallel_tool_calls` are dropped.
 */
import { errors, GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest } from "../../openai/schema.ts";

/** A tool definition. */
export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

/** How the model may use the tools. */
export type AnthropicToolChoice =
  | { type: "auto" | "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

/** The tool fields of a request body (both absent when the client sent no tools). */
export interface AnthropicToolFields {
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
}

type ToolParams = Pick<ChatCompletionRequest, "tools" | "tool_choice" | "parallel_tool_calls">;

/**
 * Translates the tool fields, or returns a 400 naming the first one Anthropic cannot take.
 *
 * @example Usage
 * ```ts
 * import { toAnthropicTools } from "./tools.ts";
 * toAnthropicTools({
 *   tools: [{ type: "function", function: { name: "get_weather" } }],
 *   tool_choice: "required",
 * });
 * // { tools: [{ name: "get_weather", input_schema: { type: "object", properties: {} } }],
 * //   tool_choice: { type: "any" } }
 * ```
 */
export function toAnthropicTools(body: ToolParams): AnthropicToolFields | GatewayError {
  const tools = body.tools ?? [];
  if (tools.length === 0) return {};
  const out: AnthropicTool[] = [];
  for (const [i, tool] of tools.entries()) {
    const fn = tool.function;
    if (tool.type !== "function" || fn === undefined) {
      return errors.invalidRequest(
        `Unsupported tool type "${tool.type.slice(0, 100)}" in 'tools[${i}]' for Anthropic ` +
          'models: only "function" tools',
        `tools[${i}].type`,
      );
    }
    const converted: AnthropicTool = { name: fn.name, input_schema: inputSchema(fn.parameters) };
    if (typeof fn.description === "string") converted.description = fn.description;
    out.push(converted);
  }
  const choice = toolChoice(body.tool_choice);
  if (choice instanceof GatewayError) return choice;
  const fields: AnthropicToolFields = { tools: out };
  if (body.parallel_tool_calls === false) {
    const base = choice ?? { type: "auto" };
    fields.tool_choice = base.type === "none" ? base : { ...base, disable_parallel_tool_use: true };
  } else if (choice !== undefined) {
    fields.tool_choice = choice;
  }
  return fields;
}

function inputSchema(parameters: unknown): Record<string, unknown> {
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) {
    return { type: "object", properties: {} };
  }
  const schema = parameters as Record<string, unknown>;
  return "type" in schema ? schema : { type: "object", ...schema };
}

function toolChoice(
  choice: ChatCompletionRequest["tool_choice"],
): AnthropicToolChoice | undefined | GatewayError {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "auto") return { type: "auto" };
  if (choice === "required") return { type: "any" };
  if (choice === "none") return { type: "none" };
  const fn = choice.function;
  if (
    choice.type === "function" && typeof fn === "object" && fn !== null && "name" in fn &&
    typeof fn.name === "string"
  ) {
    return { type: "tool", name: fn.name };
  }
  return errors.invalidRequest(
    "Unsupported value for 'tool_choice' for Anthropic models: use none, auto, required or " +
      '{"type": "function", "function": {"name": ...}}',
    "tool_choice",
  );
}
