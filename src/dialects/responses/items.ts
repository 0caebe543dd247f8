/**
 * Responses input items → canonical chat messages, for providers other than OpenAI and Azure.
 *
 * | Responses item | chat |
 * | --- | --- |
 * | `message`, role `system` or `developer` | a `system` message: the text parts joined by a blank line |
 * | `message`, role `user` | a `user` message: a string, or parts (one text part alone becomes a string) |
 * | `message`, role `assistant` (also an earlier answer's output item) | an `assistant` message: the `output_text` and `refusal` parts' text |
 * | `input_text`, `output_text` | a `text` part |
 * | `input_image` with `image_url` (http(s) or `data:` URL) | an `image_url` part, `detail` kept when `auto`, `low` or `high` |
 * | `input_file` with `file_data` | a `file` part `{file_data, filename}` (OpenAI-compatible servers take it; the Anthropic and Gemini adapters refuse it) |
 * | `function_call` | a tool call on the assistant message just before (consecutive calls, and the text before them, are one assistant turn); a call with a `namespace` takes its function's chat name (`tool_names.ts`) |
 * | `function_call_output` | a `tool` message: a string, or the text parts joined by a newline; images and files cannot go in a `tool` message, so they follow in a `user` message after the run of tool messages, after a line naming the call |
 * | `reasoning` | dropped: its summary and encrypted content only mean something to OpenAI |
 * | `item_reference` | the referenced item, looked up among the items the caller passes (stored responses of the same key) |
 *
 * Refused with 400 `invalid_request` naming the place: an `item_reference` to an unknown id,
 * `file_id` images and files (OpenAI's Files API), `file_url` files (the gateway does not fetch
 * documents), a `function_call_output` without `call_id`, item types of OpenAI's built-in tools
 * (`web_search_call`, `computer_call`, `mcp_call`, `custom_tool_call`, …), content part types
 * that do not belong where they are, and any type this file does not know.
 */
import { errors } from "../../errors.ts";
import type { ChatMessage } from "../../openai/schema.ts";
import {
  type ContentPart,
  type FunctionCallItem,
  type FunctionCallOutputItem,
  type InputFile,
  type InputImage,
  type InputText,
  itemType,
  type MessageItem,
  type Refusal,
} from "./schema.ts";
import type { ToolNames } from "./tool_names.ts";

/** An input item as sent or stored; the translation narrows it by its type. */
export type ResponseItem = { readonly [key: string]: unknown };

/** One item to translate and the request field to name when it cannot be. */
export interface PlacedItem {
  readonly item: ResponseItem;
  /** `input[3]`, or `previous_response_id` for stored history. */
  readonly param: string;
}

/** A canonical content part. */
type Part = { type: string; [key: string]: unknown };

/** Throws the 400 the translation returns (caught once, in `toChatRequest`). */
export function refuse(message: string, param: string): never {
  throw errors.invalidRequest(message, param);
}

const OPENAI_ONLY = "it is available only on models served by OpenAI";

function unsupportedPart(part: { type: string }, param: string, why: string): never {
  return refuse(
    `Unsupported content part type "${part.type.slice(0, 100)}" in '${param}': ${why}`,
    `${param}.type`,
  );
}

function textOf(part: ContentPart): string | undefined {
  if (part.type === "input_text" || part.type === "output_text") return (part as InputText).text;
  return undefined;
}

function imagePart(part: InputImage, param: string): Part {
  if (typeof part.image_url !== "string") {
    return refuse(
      `Unsupported value for '${param}.file_id': images by file id are available only on ` +
        "models served by OpenAI; send image_url (an http(s) or data: URL) instead",
      `${param}.file_id`,
    );
  }
  const detail = part.detail;
  const image: Record<string, string> = { url: part.image_url };
  if (detail === "auto" || detail === "low" || detail === "high") image.detail = detail;
  return { type: "image_url", image_url: image };
}

function filePart(part: InputFile, param: string): Part {
  if (typeof part.file_data === "string") {
    const file: Record<string, string> = { file_data: part.file_data };
    if (part.filename !== undefined) file.filename = part.filename;
    return { type: "file", file };
  }
  const [field, why] = typeof part.file_id === "string"
    ? ["file_id", `files by id are available only on models served by OpenAI`]
    : part.file_url !== undefined
    ? ["file_url", "the gateway does not fetch file URLs"]
    : ["file_data", "a file needs file_data"];
  return refuse(
    `Unsupported value for '${param}.${field}': ${why}; send the file inline as file_data`,
    `${param}.${field}`,
  );
}

/** A part of a user message or tool output → a canonical part. */
function userPart(part: ContentPart, param: string): Part {
  const text = textOf(part);
  if (text !== undefined) return { type: "text", text };
  if (part.type === "input_image") return imagePart(part as InputImage, param);
  if (part.type === "input_file") return filePart(part as InputFile, param);
  if (part.type === "refusal") {
    return unsupportedPart(part, param, "it belongs to assistant messages");
  }
  return unsupportedPart(part, param, OPENAI_ONLY);
}

function systemText(content: string | readonly ContentPart[], param: string): string {
  if (typeof content === "string") return content;
  return content.map((part, j) =>
    textOf(part) ?? unsupportedPart(part, `${param}.content[${j}]`, "system messages take text")
  ).join("\n\n");
}

function assistantText(content: string | readonly ContentPart[], param: string): string {
  if (typeof content === "string") return content;
  return content.map((part, j) => {
    if (part.type === "refusal") return (part as Refusal).refusal;
    return textOf(part) ??
      unsupportedPart(
        part,
        `${param}.content[${j}]`,
        "assistant messages sent to this model take text",
      );
  }).join("");
}

function messageOf(item: MessageItem, param: string): ChatMessage | undefined {
  const { role, content } = item;
  if (role === "system" || role === "developer") {
    return { role: "system", content: systemText(content, param) };
  }
  if (role === "assistant") {
    const text = assistantText(content, param);
    return text === "" ? undefined : { role: "assistant", content: text };
  }
  if (typeof content === "string") return { role: "user", content };
  const parts = content.map((part, j) => userPart(part, `${param}.content[${j}]`));
  if (parts.length === 0) return undefined;
  const only = parts.length === 1 ? parts[0] : undefined;
  return { role: "user", content: only?.type === "text" ? only.text as string : parts };
}

/** A tool output → the `tool` message and the media parts that must follow the run of them. */
function toolResult(item: FunctionCallOutputItem, param: string): {
  message: ChatMessage;
  media: Part[];
} {
  const callId = item.call_id;
  if (typeof callId !== "string") {
    return refuse(`Invalid value for '${param}.call_id': is required`, `${param}.call_id`);
  }
  if (typeof item.output === "string") {
    return { message: { role: "tool", tool_call_id: callId, content: item.output }, media: [] };
  }
  const texts: string[] = [];
  const media: Part[] = [];
  item.output.forEach((part, j) => {
    const converted = userPart(part, `${param}.output[${j}]`);
    if (converted.type === "text") texts.push(converted.text as string);
    else media.push(converted);
  });
  let result = texts.join("\n");
  if (result === "" && media.length > 0) result = "The result is attached in the next message.";
  const intro = media.length > 0
    ? [{ type: "text", text: `The result of tool call ${callId}:` }]
    : [];
  return {
    message: { role: "tool", tool_call_id: callId, content: result },
    media: [...intro, ...media],
  };
}

function resolve(
  item: ResponseItem,
  param: string,
  references: ReadonlyMap<string, ResponseItem> | undefined,
): ResponseItem {
  if (itemType(item) !== "item_reference") return item;
  const id = String(item.id);
  const found = references?.get(id);
  if (found === undefined || itemType(found) === "item_reference") {
    return refuse(
      `Invalid value for '${param}.id': no stored item has the id "${id.slice(0, 100)}" ` +
        "(only items of responses stored by this gateway for this key can be referenced)",
      `${param}.id`,
    );
  }
  return found;
}

/** What {@linkcode toChatMessages} needs besides the items. */
export interface ItemSources {
  /** The items an `item_reference` may name, by id. */
  readonly references?: ReadonlyMap<string, ResponseItem> | undefined;
  /** The request's tool names, for calls of a function in a namespace (bare names without). */
  readonly names?: ToolNames | undefined;
}

/**
 * Translates items, in order, to chat messages (see the table above). Throws the 400
 * `GatewayError` for what cannot be sent.
 */
export function toChatMessages(
  items: readonly PlacedItem[],
  sources: ItemSources = {},
): ChatMessage[] {
  const { references, names } = sources;
  const messages: ChatMessage[] = [];
  let media: Part[] = [];
  const flush = () => {
    if (media.length > 0) messages.push({ role: "user", content: media });
    media = [];
  };
  for (const placed of items) {
    const item = resolve(placed.item, placed.param, references);
    const param = placed.param;
    const type = itemType(item);
    switch (type) {
      case "message": {
        flush();
        const message = messageOf(item as MessageItem, param);
        if (message !== undefined) messages.push(message);
        break;
      }
      case "function_call": {
        flush();
        const call = item as FunctionCallItem;
        const toolCall = {
          id: call.call_id,
          type: "function",
          function: {
            name: names?.toChat(call.name, call.namespace) ?? call.name,
            arguments: call.arguments,
          },
        };
        const last = messages.at(-1);
        if (last?.role === "assistant") (last.tool_calls ??= []).push(toolCall);
        else messages.push({ role: "assistant", content: null, tool_calls: [toolCall] });
        break;
      }
      case "function_call_output": {
        const result = toolResult(item as FunctionCallOutputItem, param);
        messages.push(result.message);
        media.push(...result.media);
        break;
      }
      case "reasoning":
        break;
      default:
        refuse(
          `Unsupported input item type "${type.slice(0, 100)}" in '${param}': ${OPENAI_ONLY}`,
          `${param}.type`,
        );
    }
  }
  flush();
  return messages;
}
