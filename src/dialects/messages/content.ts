/**
 * Messages `system` + `messages` → canonical chat messages, for providers other than Anthropic.
 *
 * | Messages | chat |
 * | --- | --- |
 * | `system` (string, or text blocks joined by a blank line) | a first `system` message |
 * | a `role: "system"` entry inside `messages` (Claude Code sends them) | a `system` message at its place |
 * | `text` | text (a user turn of one text block is a plain string; assistant text blocks are joined as they are) |
 * | `image`, `base64` / `url` source | `image_url` with a `data:` URL / the URL |
 * | `document`, base64 PDF | `file` part `{filename: "document.pdf", file_data: "data:application/pdf;base64,…"}` (OpenAI and Azure carry it; the Gemini and Anthropic adapters refuse it with a 400) |
 * | `document`, plain text or `content` source | text (and images); `title` and `context` go in a text line before the document |
 * | `search_result` | text: title, source, then the text blocks |
 * | `tool_use` (assistant) | `tool_calls[{id, type: "function", function: {name, arguments: JSON.stringify(input)}}]` |
 * | `tool_result` (user) | a `tool` message right after the assistant turn, before the rest of the user turn: text blocks joined by a newline; `is_error: true` prefixes `Error: ` so that the model sees the failure; images and PDFs of a result cannot go in a `tool` message, so they open the user message that follows, after a line naming the tool call |
 * | `tool_reference` (in a result) | text `Tool loaded: <name>` (every tool is sent to other providers anyway) |
 * | `thinking`, `redacted_thinking` (assistant) | dropped: their signatures only mean something to Anthropic, which itself drops earlier turns' thinking |
 *
 * Refused with 400 `invalid_request` naming the block: image and document sources other than
 * those above (Anthropic Files API ids, document URLs: the gateway does not fetch them), content
 * block types of Anthropic's server tools, any block type this file does not know, images or
 * documents in assistant turns. `cache_control` and `citations` on text are dropped (hints that
 * do not change the answer); `citations.enabled` on a document is named in `adjusted`, as the
 * answer then has no citations.
 */
import { errors } from "../../errors.ts";
import type { ChatMessage } from "../../openai/schema.ts";
import type {
  Base64Source,
  ContentBlock,
  ContentSource,
  DocumentBlock,
  ImageBlock,
  MessageParam,
  PlainTextSource,
  SearchResultBlock,
  TextBlock,
  ToolReferenceBlock,
  ToolResultBlock,
  ToolUseBlock,
  UrlSource,
} from "./schema.ts";

/** A canonical content part. */
type Part = { type: string; [key: string]: unknown };

/** Collects the parameters the translation changed (see `request.ts`). */
export type Adjusted = string[];

/** A translated block: parts for the user turn. */
function text(value: string): Part {
  return { type: "text", text: value };
}

/** Throws the 400 the translation returns (caught once, in `toChatRequest`). */
export function refuse(message: string, param: string): never {
  throw errors.invalidRequest(message, param);
}

function unsupported(block: { type: string }, param: string, why: string): never {
  return refuse(
    `Unsupported content block type "${block.type.slice(0, 100)}" in '${param}': ${why}`,
    `${param}.type`,
  );
}

const ANTHROPIC_ONLY = "it is available only on models served by Anthropic";

/** The text of `system`, or of a system entry: text blocks joined by a blank line. */
export function systemText(content: string | readonly ContentBlock[], param: string): string {
  if (typeof content === "string") return content;
  return content.map((block, j) => {
    if (block.type !== "text") {
      return unsupported(block, `${param}[${j}]`, "system content takes only text blocks");
    }
    return (block as TextBlock).text;
  }).join("\n\n");
}

function imagePart(block: ImageBlock, param: string): Part {
  const source = block.source;
  if (source.type === "base64") {
    const { media_type, data } = source as Base64Source;
    return { type: "image_url", image_url: { url: `data:${media_type};base64,${data}` } };
  }
  if (source.type === "url") {
    return { type: "image_url", image_url: { url: (source as UrlSource).url } };
  }
  return refuse(
    `Unsupported image source type "${source.type.slice(0, 100)}" in '${param}.source': ` +
      `only base64 and url images can be sent to this model (file ids ${ANTHROPIC_ONLY})`,
    `${param}.source.type`,
  );
}

function documentParts(block: DocumentBlock, param: string, adjusted: Adjusted): Part[] {
  if (block.citations?.enabled === true) adjusted.push(`${param}.citations`);
  const heading = [block.title, block.context].filter((s) => typeof s === "string" && s !== "");
  const intro = heading.length > 0 ? [text(heading.join("\n"))] : [];
  const source = block.source;
  const sourceParam = `${param}.source`;
  switch (source.type) {
    case "base64": {
      const { media_type, data } = source as Base64Source;
      if (media_type !== "application/pdf") {
        return refuse(
          `Unsupported document media type "${media_type.slice(0, 100)}" in '${sourceParam}': ` +
            'base64 documents must be "application/pdf"',
          `${sourceParam}.media_type`,
        );
      }
      const file = { filename: "document.pdf", file_data: `data:${media_type};base64,${data}` };
      return [...intro, { type: "file", file }];
    }
    case "text":
      return [...intro, text((source as PlainTextSource).data)];
    case "content": {
      const content = (source as ContentSource).content;
      if (typeof content === "string") return [...intro, text(content)];
      return [
        ...intro,
        ...content.map((inner, k) => {
          const innerParam = `${sourceParam}.content[${k}]`;
          if (inner.type === "text") return text((inner as TextBlock).text);
          if (inner.type === "image") return imagePart(inner as ImageBlock, innerParam);
          return unsupported(inner, innerParam, "a content document takes text and image blocks");
        }),
      ];
    }
    default:
      return refuse(
        `Unsupported document source type "${source.type.slice(0, 100)}" in '${sourceParam}': ` +
          "only base64 PDF, text and content documents can be sent to this model (the gateway " +
          `does not fetch document URLs; file ids ${ANTHROPIC_ONLY})`,
        `${sourceParam}.type`,
      );
  }
}

function searchResultText(block: SearchResultBlock): string {
  return [block.title, block.source, ...block.content.map((inner) => inner.text)].join("\n");
}

/** A block of a user turn (not a tool result) → parts. */
function userParts(block: ContentBlock, param: string, adjusted: Adjusted): Part[] {
  switch (block.type) {
    case "text":
      return [text((block as TextBlock).text)];
    case "image":
      return [imagePart(block as ImageBlock, param)];
    case "document":
      return documentParts(block as DocumentBlock, param, adjusted);
    case "search_result":
      return [text(searchResultText(block as SearchResultBlock))];
    case "tool_use":
    case "thinking":
    case "redacted_thinking":
      return unsupported(block, param, "it belongs in an assistant message");
    default:
      return unsupported(block, param, ANTHROPIC_ONLY);
  }
}

/** A tool result → the `tool` message's text and the media parts that must follow it. */
function toolResult(
  block: ToolResultBlock,
  param: string,
  adjusted: Adjusted,
): { message: ChatMessage; media: Part[] } {
  const texts: string[] = [];
  const media: Part[] = [];
  const content = block.content ?? "";
  if (typeof content === "string") texts.push(content);
  else {
    content.forEach((inner, k) => {
      const innerParam = `${param}.content[${k}]`;
      if (inner.type === "tool_reference") {
        texts.push(`Tool loaded: ${(inner as ToolReferenceBlock).tool_name}`);
        return;
      }
      for (const part of userParts(inner, innerParam, adjusted)) {
        if (part.type === "text") texts.push(part.text as string);
        else media.push(part);
      }
    });
  }
  let result = texts.join("\n");
  if (result === "" && media.length > 0) result = "The result is attached in the next message.";
  if (block.is_error === true) result = result === "" ? "Error" : `Error: ${result}`;
  const intro = media.length > 0 ? [text(`The result of tool call ${block.tool_use_id}:`)] : [];
  return {
    message: { role: "tool", tool_call_id: block.tool_use_id, content: result },
    media: [...intro, ...media],
  };
}

function userMessages(
  content: readonly ContentBlock[],
  param: string,
  adjusted: Adjusted,
): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const media: Part[] = [];
  const parts: Part[] = [];
  content.forEach((block, j) => {
    const blockParam = `${param}.content[${j}]`;
    if (block.type !== "tool_result") {
      parts.push(...userParts(block, blockParam, adjusted));
      return;
    }
    const result = toolResult(block as ToolResultBlock, blockParam, adjusted);
    tools.push(result.message);
    media.push(...result.media);
  });
  const all = [...media, ...parts];
  if (all.length === 0) return tools;
  const only = all.length === 1 ? all[0] : undefined;
  const userContent = only?.type === "text" ? only.text as string : all;
  return [...tools, { role: "user", content: userContent }];
}

function assistantMessage(content: readonly ContentBlock[], param: string): ChatMessage[] {
  let textContent: string | undefined;
  const toolCalls: NonNullable<ChatMessage["tool_calls"]> = [];
  content.forEach((block, j) => {
    const blockParam = `${param}.content[${j}]`;
    switch (block.type) {
      case "text":
        textContent = (textContent ?? "") + (block as TextBlock).text;
        return;
      case "tool_use": {
        const { id, name, input } = block as ToolUseBlock;
        const args = JSON.stringify(input ?? {});
        toolCalls.push({ id, type: "function", function: { name, arguments: args } });
        return;
      }
      case "thinking":
      case "redacted_thinking":
        return;
      case "image":
      case "document":
        return unsupported(block, blockParam, "assistant messages sent to this model take text");
      default:
        return unsupported(block, blockParam, ANTHROPIC_ONLY);
    }
  });
  if (textContent === undefined && toolCalls.length === 0) return [];
  const message: ChatMessage = { role: "assistant", content: textContent ?? null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return [message];
}

/** One Messages entry → zero or more chat messages. */
export function toChatMessages(
  message: MessageParam,
  param: string,
  adjusted: Adjusted,
): ChatMessage[] {
  const { role, content } = message;
  if (role === "system") {
    return [{ role: "system", content: systemText(content, `${param}.content`) }];
  }
  if (typeof content === "string") return [{ role, content }];
  if (role === "user") return userMessages(content, param, adjusted);
  return assistantMessage(content, param);
}
