/**
 * OpenAI `messages` → Anthropic `system` + `messages` (FACTS.md T5–T10, T21–T23, T25–T26).
 *
 * - `system` and `developer` messages, wherever they are, become top-level `system` text blocks,
 *   all of them, in order (T5).
 * - `user` and `tool` are the user side, `assistant` the assistant side (T6); consecutive turns of
 *   one side are merged, and a merged user turn starts with all its `tool_result` blocks (T7, T23).
 * - Assistant `tool_calls` become `tool_use` blocks after the text, with `arguments` parsed from
 *   their JSON string (`""` is `{}`); a string that is not a JSON object is a 400 (T21).
 * - `tool` messages become `tool_result` blocks (T22); one whose `tool_call_id` matches no earlier
 *   assistant tool call is a 400 naming it (T39), as Anthropic would refuse it in its own words.
 * - `image_url` parts: `data:` URLs of image/jpeg, png, gif or webp → base64 sources, http(s)
 *   URLs → url sources; `detail` has no equivalent and is dropped (T25, T26).
 * - Empty and whitespace-only text is never sent (Anthropic rejects it); a message left with no
 *   content is dropped (T8). A final assistant message is a prefill: its trailing whitespace is
 *   trimmed (T9). `name` is dropped (T10).
 */
import { ToolCalls } from "../_tool_calls.ts";
import { mergeTurns } from "../_turns.ts";
import { errors, GatewayError } from "../../errors.ts";
import type { ChatMessage } from "../../openai/schema.ts";

/** `{type: "text", text}`, never empty. */
export interface AnthropicTextBlock {
  type: "text";
  text: string;
}

/** An image, inline or by URL. */
export interface AnthropicImageBlock {
  type: "image";
  source:
    | { type: "base64"; media_type: AnthropicImageMediaType; data: string }
    | { type: "url"; url: string };
}

/** A call of a tool in an assistant turn. */
export interface AnthropicToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** A tool's answer in a user turn (`content` omitted when the tool returned nothing). */
export interface AnthropicToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content?: string | AnthropicTextBlock[];
}

/** A content block of a request message. */
export type AnthropicRequestBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock;

/** One request turn. */
export interface AnthropicRequestMessage {
  role: "user" | "assistant";
  content: AnthropicRequestBlock[];
}

/** What the OpenAI messages become. */
export interface AnthropicPrompt {
  /** Top-level `system` blocks, in message order (empty: no `system` field). */
  system: AnthropicTextBlock[];
  messages: AnthropicRequestMessage[];
}

/** The image types Anthropic accepts. */
export type AnthropicImageMediaType = "image/jpeg" | "image/png" | "image/gif" | "image/webp";

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  "image/jpeg",
  "image/png",
  "image/gif",
  "image/webp",
]);

const DATA_URL_REGEXP = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

type Content = ChatMessage["content"];
type Part = Exclude<Content, string | null | undefined>[number];

/**
 * Translates the conversation, or returns a 400 naming the first message part Anthropic cannot
 * take.
 *
 * @example Usage
 * ```ts
 * import { toAnthropicPrompt } from "./messages.ts";
 * toAnthropicPrompt([
 *   { role: "system", content: "Be brief." },
 *   { role: "user", content: "Hi" },
 * ]);
 * // { system: [{ type: "text", text: "Be brief." }],
 * //   messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] }
 * ```
 */
export function toAnthropicPrompt(
  messages: readonly ChatMessage[],
): AnthropicPrompt | GatewayError {
  try {
    return translate(messages);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
}

function translate(messages: readonly ChatMessage[]): AnthropicPrompt {
  const system: AnthropicTextBlock[] = [];
  const turns: AnthropicRequestMessage[] = [];
  const calls = new ToolCalls();
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textBlocks(message.content, param));
        return;
      case "user":
        turns.push({ role: "user", content: userBlocks(message.content, param) });
        return;
      case "tool":
        calls.answeredBy(message, param);
        turns.push({ role: "user", content: [toolResult(message, param)] });
        return;
      case "assistant":
        turns.push({ role: "assistant", content: assistantBlocks(message, param, calls) });
        return;
      case "function":
        throw errors.invalidRequest(
          `Unsupported role "function" in ${param} for Anthropic models: use tools`,
          `${param}.role`,
        );
    }
  });
  const merged: AnthropicRequestMessage[] = mergeTurns(
    turns.filter((turn) => turn.content.length > 0).map((t) => ({
      role: t.role,
      items: t.content,
    })),
    "user",
    (block) => block.type === "tool_result",
  ).map((turn) => ({ role: turn.role, content: turn.items }));
  trimPrefill(merged);
  if (merged.length === 0) {
    throw errors.invalidRequest(
      "Cannot send the request to Anthropic: no message besides system messages has content",
      "messages",
    );
  }
  return { system, messages: merged };
}

/** Text of a system or tool message: text parts only. */
function textBlocks(content: Content, param: string): AnthropicTextBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return textBlock(content);
  return content.flatMap((part, j) => {
    const partParam = `${param}.content[${j}]`;
    if (part.type !== "text") throw unsupportedPart(part, partParam);
    return textBlock(partText(part, partParam));
  });
}

function userBlocks(content: Content, param: string): AnthropicRequestBlock[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return textBlock(content);
  return content.flatMap((part, j): AnthropicRequestBlock[] => {
    const partParam = `${param}.content[${j}]`;
    if (part.type === "text") return textBlock(partText(part, partParam));
    if (part.type === "image_url") return [imageBlock(part, partParam)];
    throw unsupportedPart(part, partParam);
  });
}

function assistantBlocks(
  message: ChatMessage,
  param: string,
  calls: ToolCalls,
): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  const { content } = message;
  if (typeof content === "string") blocks.push(...textBlock(content));
  else if (content !== null && content !== undefined) {
    content.forEach((part, j) => {
      const partParam = `${param}.content[${j}]`;
      if (part.type === "text") blocks.push(...textBlock(partText(part, partParam)));
      else if (part.type === "refusal" && typeof part.refusal === "string") {
        blocks.push(...textBlock(part.refusal));
      } else throw unsupportedPart(part, partParam);
    });
  }
  (message.tool_calls ?? []).forEach((call, j) => {
    const callParam = `${param}.tool_calls[${j}]`;
    if (call.type !== "function") {
      throw errors.invalidRequest(
        `Unsupported tool call type "${call.type}" for Anthropic models: only "function"`,
        `${callParam}.type`,
      );
    }
    calls.add(call.id, call.function.name);
    blocks.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments, `${callParam}.function.arguments`),
    });
  });
  return blocks;
}

function toolResult(message: ChatMessage, param: string): AnthropicToolResultBlock {
  const block: AnthropicToolResultBlock = {
    type: "tool_result",
    // The request schema requires tool_call_id on tool messages.
    tool_use_id: message.tool_call_id ?? "",
  };
  const { content } = message;
  if (typeof content === "string") {
    if (content.trim() !== "") block.content = content;
  } else {
    const texts = textBlocks(content, param);
    if (texts.length > 0) block.content = texts;
  }
  return block;
}

/** Arguments JSON string → tool input object; empty means no arguments. */
function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw errors.invalidRequest(`Invalid value for '${param}': must be a JSON string`, param);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw errors.invalidRequest(`Invalid value for '${param}': must be a JSON object`, param);
  }
  return value as Record<string, unknown>;
}

function imageBlock(part: Part, param: string): AnthropicImageBlock {
  const imageUrl = part.image_url;
  const url = typeof imageUrl === "string"
    ? imageUrl
    : typeof imageUrl === "object" && imageUrl !== null && "url" in imageUrl
    ? imageUrl.url
    : undefined;
  const urlParam = `${param}.image_url.url`;
  if (typeof url !== "string") {
    throw errors.invalidRequest(`Invalid value for '${urlParam}': must be a string`, urlParam);
  }
  const data = DATA_URL_REGEXP.exec(url);
  if (data !== null) {
    const mediaType = (data[1] ?? "").toLowerCase();
    if (!isImageMediaType(mediaType)) {
      throw errors.invalidRequest(
        `Unsupported image type "${mediaType.slice(0, 100)}" in '${urlParam}' for Anthropic ` +
          "models: use image/jpeg, image/png, image/gif or image/webp",
        urlParam,
      );
    }
    const isBase64 = (data[2] ?? "").toLowerCase().split(";").includes("base64");
    const payload = data[3] ?? "";
    if (!isBase64 || payload === "") {
      throw errors.invalidRequest(
        `Invalid value for '${urlParam}': a data URL must hold base64 data`,
        urlParam,
      );
    }
    return { type: "image", source: { type: "base64", media_type: mediaType, data: payload } };
  }
  if (/^https?:\/\//i.test(url) && URL.canParse(url)) {
    return { type: "image", source: { type: "url", url } };
  }
  throw errors.invalidRequest(
    `Invalid value for '${urlParam}': must be a data: URL or an http(s) URL`,
    urlParam,
  );
}

function isImageMediaType(value: string): value is AnthropicImageMediaType {
  return IMAGE_MEDIA_TYPES.has(value);
}

function partText(part: Part, param: string): string {
  if (typeof part.text !== "string") {
    throw errors.invalidRequest(
      `Invalid value for '${param}.text': must be a string`,
      `${param}.text`,
    );
  }
  return part.text;
}

/** A text block, or none for empty or whitespace-only text (Anthropic rejects those). */
function textBlock(text: string): AnthropicTextBlock[] {
  return text.trim() === "" ? [] : [{ type: "text", text }];
}

function unsupportedPart(part: Part, param: string): GatewayError {
  return errors.invalidRequest(
    `Unsupported content part type "${part.type.slice(0, 100)}" in '${param}' for Anthropic models`,
    `${param}.type`,
  );
}

/** A final assistant turn is a prefill, which must not end in whitespace. */
function trimPrefill(turns: AnthropicRequestMessage[]): void {
  const last = turns.at(-1);
  if (last === undefined || last.role !== "assistant") return;
  const block = last.content.at(-1);
  // Non-blank text (textBlock() drops blank text), so trimming leaves it non-empty.
  if (block?.type === "text") block.text = block.text.trimEnd();
}
