/**
 * OpenAI `tools` and `tool_choice` → Gemini `tools` and `toolConfig` (FACTS.md §4.1, T19, T20).
 *
 * - `tools` become one `tools[0].functionDeclarations` list, parameters cleaned by
 *   `toGeminiParameters`, none for a parameterless tool (T19). `strict` is dropped.
 * - `tool_choice` → `toolConfig.functionCallingConfig.mode`: `auto` AUTO, `none` NONE, `required`
 *   ANY, a named function ANY + `allowedFunctionNames` (T20). A `tool_choice` naming a function
 *   not in `tools` is a 400, as are tool types other than `function`.
 * - Without tools, `tool_choice` is dropped.
 */
import { errors, GatewayError } from "../../errors.ts";
import type { ChatCompletionRequest } from "../../openai/schema.ts";
import { type GeminiSchema, toGeminiParameters } from "./schema.ts";

/** A function declaration (`parameters` omitted for a parameterless function). */
export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: GeminiSchema;
}

/** The tool fields of the request body. */
export interface GeminiToolFields {
  tools?: [{ functionDeclarations: GeminiFunctionDeclaration[] }];
  toolConfig?: {
    functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] };
  };
}

/** The `tools` and `toolConfig` of a request, or a 400 for tools Gemini cannot take. */
export function toGeminiTools(
  body: ChatCompletionRequest,
): GeminiToolFields | GatewayError {
  const tools = body.tools ?? [];
  if (tools.length === 0) return {};
  const declarations: GeminiFunctionDeclaration[] = [];
  for (const [i, tool] of tools.entries()) {
    const fn = tool.function;
    if (tool.type !== "function" || fn === undefined) {
      return errors.invalidRequest(
        `Unsupported tool type "${tool.type.slice(0, 100)}" in 'tools[${i}]' for Gemini ` +
          'models: only "function" tools',
        `tools[${i}].type`,
      );
    }
    const declaration: GeminiFunctionDeclaration = { name: fn.name };
    if (typeof fn.description === "string" && fn.description !== "") {
      declaration.description = fn.description;
    }
    const parameters = toGeminiParameters(fn.parameters, {
      param: `tools[${i}].function.parameters`,
      subject: `tool "${fn.name.slice(0, 100)}"`,
    });
    if (parameters instanceof GatewayError) return parameters;
    if (parameters !== undefined) declaration.parameters = parameters;
    declarations.push(declaration);
  }
  const fields: GeminiToolFields = {
    tools: [{ functionDeclarations: declarations }],
  };
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return fields;
  const names = new Set(declarations.map((declaration) => declaration.name));
  if (choice === "auto") fields.toolConfig = { functionCallingConfig: { mode: "AUTO" } };
  else if (choice === "none") fields.toolConfig = { functionCallingConfig: { mode: "NONE" } };
  else if (choice === "required") fields.toolConfig = { functionCallingConfig: { mode: "ANY" } };
  else {
    const fn = choice.function;
    const name = choice.type === "function" && typeof fn === "object" && fn !== null &&
        "name" in fn && typeof fn.name === "string"
      ? fn.name
      : undefined;
    if (name === undefined) {
      return errors.invalidRequest(
        "Unsupported value for 'tool_choice' for Gemini models: use none, auto, required or " +
          '{"type": "function", "function": {"name": ...}}',
        "tool_choice",
      );
    }
    if (!names.has(name)) {
      return errors.invalidRequest(
        `Invalid value for 'tool_choice': no tool in 'tools' is named "${name.slice(0, 100)}"`,
        "tool_choice",
      );
    }
    fields.toolConfig = { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [name] } };
  }
  return fields;
}
