/**
 * Function tool names across the translation: Responses groups function tools under `namespace`
 * tools (Codex sends its sub-agent tools as `{type: "namespace", name: "multi_agent_v1", tools}`),
 * chat completions has one flat list. Pure.
 *
 * A function in a namespace goes to the provider under its own name (`spawn_agent`), unless that
 * name is given to more than one function tool of the request: then it goes as
 * `<namespace>__<name>` (top-level functions always keep their name). A model's call of that
 * name comes back as a `function_call` with the bare `name` and the `namespace`, as OpenAI
 * returns it; a replayed `function_call` with a `namespace` goes back under the same chat name.
 */
import type { ToolParam } from "./schema.ts";

/** A Responses function tool's name: top-level, or inside a namespace. */
export interface ToolName {
  readonly name: string;
  readonly namespace?: string | undefined;
}

/** A function tool of the request, top-level or in a namespace, and its name in chat. */
export interface FlatTool extends ToolName {
  /** The name the provider sees. */
  readonly chatName: string;
  /** The Responses function tool. */
  readonly tool: { readonly [key: string]: unknown };
  /** Where it is in the request: `tools[2]` or `tools[4].tools[1]`. */
  readonly param: string;
}

/** The two directions of {@linkcode flattenTools}' naming. */
export interface ToolNames {
  /** The chat name of a Responses function (its bare name when the request lacks it). */
  toChat(name: string, namespace?: unknown): string;
  /** The Responses name of a chat tool call's name (a bare name when the request lacks it). */
  fromChat(chatName: string): ToolName;
}

function isRecord(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The request's function tools, namespaces flattened, in order, with their chat names (see
 * above). Other tool types are left out (the request translation refuses them).
 *
 * @example Usage
 * ```ts
 * import { flattenTools } from "./tool_names.ts";
 * const flat = flattenTools([
 *   { type: "function", name: "wait" },
 *   { type: "namespace", name: "agents", tools: [{ type: "function", name: "wait" }] },
 * ]);
 * // flat.map((t) => t.chatName): ["wait", "agents__wait"]
 * ```
 */
export function flattenTools(tools: readonly ToolParam[] | null | undefined): FlatTool[] {
  const found: Omit<FlatTool, "chatName">[] = [];
  (tools ?? []).forEach((tool, i) => {
    if (tool.type === "function" && typeof tool.name === "string") {
      found.push({ name: tool.name, tool, param: `tools[${i}]` });
    } else if (tool.type === "namespace" && typeof tool.name === "string") {
      const inner = Array.isArray(tool.tools) ? tool.tools : [];
      inner.forEach((entry: unknown, j) => {
        if (!isRecord(entry) || entry.type !== "function" || typeof entry.name !== "string") return;
        found.push({
          name: entry.name,
          namespace: tool.name as string,
          tool: entry,
          param: `tools[${i}].tools[${j}]`,
        });
      });
    }
  });
  const uses = new Map<string, number>();
  for (const { name } of found) uses.set(name, (uses.get(name) ?? 0) + 1);
  return found.map((entry) => ({
    ...entry,
    chatName: entry.namespace !== undefined && (uses.get(entry.name) ?? 0) > 1
      ? `${entry.namespace}__${entry.name}`
      : entry.name,
  }));
}

/** Both directions of the naming of `tools` (see {@linkcode flattenTools}). */
export function toolNames(tools: readonly ToolParam[] | null | undefined): ToolNames {
  const flat = flattenTools(tools);
  const key = (name: string, namespace: unknown) =>
    typeof namespace === "string" ? `${namespace}\u0000${name}` : name;
  const toChat = new Map(flat.map((entry) => [key(entry.name, entry.namespace), entry.chatName]));
  const fromChat = new Map<string, ToolName>();
  for (const { chatName, name, namespace } of flat) {
    if (!fromChat.has(chatName)) fromChat.set(chatName, { name, namespace });
  }
  return {
    toChat: (name, namespace) => toChat.get(key(name, namespace)) ?? name,
    fromChat: (chatName) => fromChat.get(chatName) ?? { name: chatName },
  };
}
