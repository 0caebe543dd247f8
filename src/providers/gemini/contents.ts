/**
 * OpenAI `messages` → Gemini `systemInstruction` + `contents` (FACTS.md §4.1, T5–T7, T10,
 * T21–T25).
 *
 * - `system` and `developer` messages, wherever they are, become `systemInstruction.parts`, all
 *   of them, in order (T5).
 * - `user` / `assistant` / `tool` messages become `contents` with roles `user` / `model` / `user`;
 *   consecutive turns of one role are merged, and a merged user turn starts with its
 *   `functionResponse` parts (T6, T7, T23).
 * - Assistant `tool_calls` become `functionCall{name, args}` parts after the text, `args` parsed
 *   (`""` is `{}`), the `thoughtSignature` decoded from the id put back on the part (T21, T24).
 * - `tool` messages become `functionResponse{name, response: {output}}`, `name` from the
 *   assistant tool call with that `tool_call_id`, `output` the content parsed as JSON, or the text
 *   when it is not JSON (T22).
 * - `image_url` `data:` URLs become `inlineData{mimeType, data}` (T25). http(s) URLs become
 *   `fileData{fileUri, mimeType}`, which Gemini fetches itself (public and signed URLs, Google's
 *   "File input methods" guide; T26), `mimeType` from the URL path's extension; for an extension
 *   that names no image type it is left out, as the Gemini API allows (`FileData.mimeType` is
 *   optional there), and Gemini goes by what it fetches. (With `CHOREOAI_FETCH_IMAGE_URLS=true`
 *   the route has already replaced such URLs with `data:` URLs.) `input_audio` becomes
 *   `inlineData` with `audio/wav` or `audio/mp3`.
 * - Empty text is never sent (Gemini rejects it). The `function` role and content parts other
 *   than text, image_url and input_audio are refused. `name` is dropped (T10).
 */
import { ToolCalls } from "../_tool_calls.ts";
import { mergeTurns } from "../_turns.ts";
import { errors, type GatewayError } from "../../errors.ts";
import type { ChatMessage } from "../../openai/schema.ts";
import { decodeToolCallId } from "./tool_ids.ts";

/** A part of a request content (one data field each). */
export interface GeminiRequestPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { fileUri: string; mimeType?: string };
  functionCall?: { name: string; args: Record<string, unknown> };
  functionResponse?: { name: string; response: { output: unknown } };
  thoughtSignature?: string;
}

/** One turn of `contents`. */
export interface GeminiRequestContent {
  role: "user" | "model";
  parts: GeminiRequestPart[];
}

const DATA_URL_REGEXP = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

/** Matches an http(s) URL. */
export const HTTP_URL_REGEXP = /^https?:\/\//i;

/** Image types by the extension of a URL's path (lower case). */
const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  jpe: "image/jpeg",
  webp: "image/webp",
  bmp: "image/bmp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
};

const EXTENSION_REGEXP = /\.([a-z0-9]+)$/i;

/**
 * The image type an http(s) URL's path names by its extension (`.png`, `.JPG`; the query of a
 * signed URL does not count), or undefined.
 */
export function imageTypeOfUrl(url: URL): string | undefined {
  const extension = EXTENSION_REGEXP.exec(url.pathname)?.[1]?.toLowerCase();
  return extension !== undefined && Object.hasOwn(IMAGE_TYPES, extension)
    ? IMAGE_TYPES[extension]
    : undefined;
}

type Content = ChatMessage["content"];
type Part = Exclude<Content, string | null | undefined>[number];

/**
 * The system text parts and the `contents` of a conversation; throws a 400 `GatewayError` for a
 * message Gemini cannot take.
 */
export function toGeminiContents(
  messages: readonly ChatMessage[],
): { system: { text: string }[]; contents: GeminiRequestContent[] } {
  const system: { text: string }[] = [];
  const turns: GeminiRequestContent[] = [];
  const calls = new ToolCalls();
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textParts(message.content, param));
        return;
      case "user":
        turns.push({ role: "user", parts: userParts(message.content, param) });
        return;
      case "assistant":
        turns.push({ role: "model", parts: modelParts(message, param, calls) });
        return;
      case "tool":
        turns.push({ role: "user", parts: [functionResponse(message, param, calls)] });
        return;
      case "function":
        throw errors.invalidRequest(
          `Unsupported role "function" in ${param} for Gemini models: use tools`,
          `${param}.role`,
        );
    }
  });
  const contents: GeminiRequestContent[] = mergeTurns(
    turns.filter((turn) => turn.parts.length > 0).map((t) => ({ role: t.role, items: t.parts })),
    "user",
    (part) => part.functionResponse !== undefined,
  ).map((turn) => ({ role: turn.role, parts: turn.items }));
  if (contents.length === 0) {
    throw errors.invalidRequest(
      "Cannot send the request to Gemini: no message besides system messages has content",
      "messages",
    );
  }
  return { system, contents };
}

/** Text of a system or tool message: text parts only; empty text is not sent. */
function textParts(content: Content, param: string): { text: string }[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return textPart(content);
  return content.flatMap((part, j) => {
    const partParam = `${param}.content[${j}]`;
    if (part.type !== "text") throw unsupportedPart(part, partParam);
    return textPart(partText(part, partParam));
  });
}

function userParts(content: Content, param: string): GeminiRequestPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return textPart(content);
  return content.flatMap((part, j): GeminiRequestPart[] => {
    const partParam = `${param}.content[${j}]`;
    if (part.type === "text") return textPart(partText(part, partParam));
    if (part.type === "image_url") return [imagePart(part, partParam)];
    if (part.type === "input_audio") return [audioPart(part, partParam)];
    throw unsupportedPart(part, partParam);
  });
}

function modelParts(
  message: ChatMessage,
  param: string,
  calls: ToolCalls,
): GeminiRequestPart[] {
  const parts: GeminiRequestPart[] = [];
  const { content } = message;
  if (typeof content === "string") parts.push(...textPart(content));
  else if (content !== null && content !== undefined) {
    content.forEach((part, j) => {
      const partParam = `${param}.content[${j}]`;
      if (part.type === "text") parts.push(...textPart(partText(part, partParam)));
      else if (part.type === "refusal" && typeof part.refusal === "string") {
        parts.push(...textPart(part.refusal));
      } else throw unsupportedPart(part, partParam);
    });
  }
  (message.tool_calls ?? []).forEach((call, j) => {
    const callParam = `${param}.tool_calls[${j}]`;
    if (call.type !== "function") {
      throw errors.invalidRequest(
        `Unsupported tool call type "${
          call.type.slice(0, 100)
        }" for Gemini models: only "function"`,
        `${callParam}.type`,
      );
    }
    calls.add(call.id, call.function.name);
    const part: GeminiRequestPart = {
      functionCall: {
        name: call.function.name,
        args: parseArguments(call.function.arguments, `${callParam}.function.arguments`),
      },
    };
    const { signature } = decodeToolCallId(call.id);
    if (signature !== undefined) part.thoughtSignature = signature;
    parts.push(part);
  });
  return parts;
}

function functionResponse(
  message: ChatMessage,
  param: string,
  calls: ToolCalls,
): GeminiRequestPart {
  const name = calls.answeredBy(message, param);
  const { content } = message;
  const text = typeof content === "string"
    ? content
    : textParts(content, param).map((part) => part.text).join("");
  return { functionResponse: { name, response: { output: parseOutput(text) } } };
}

/** A tool's output: its JSON value when the text is JSON, else the text. */
function parseOutput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Arguments JSON string → args object; empty means no arguments. */
function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return throwInvalid(`Invalid value for '${param}': must be a JSON string`, param);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return throwInvalid(`Invalid value for '${param}': must be a JSON object`, param);
  }
  return value as Record<string, unknown>;
}

function imagePart(part: Part, param: string): GeminiRequestPart {
  const url = imageUrlOf(part);
  const imageParam = `${param}.image_url`;
  if (url === undefined) {
    return throwInvalid(`Invalid value for '${imageParam}.url': must be a string`, imageParam);
  }
  const data = DATA_URL_REGEXP.exec(url);
  if (data !== null) {
    const mimeType = (data[1] ?? "").toLowerCase();
    if (!mimeType.startsWith("image/")) {
      return throwInvalid(
        `Unsupported image type "${mimeType.slice(0, 100)}" in '${imageParam}' for Gemini ` +
          "models: use an image/* data URL",
        imageParam,
      );
    }
    const isBase64 = (data[2] ?? "").toLowerCase().split(";").includes("base64");
    const payload = data[3] ?? "";
    if (!isBase64 || payload === "") {
      return throwInvalid(
        `Invalid value for '${imageParam}': a data URL must hold base64 data`,
        imageParam,
      );
    }
    return { inlineData: { mimeType, data: payload } };
  }
  if (HTTP_URL_REGEXP.test(url) && URL.canParse(url)) {
    const mimeType = imageTypeOfUrl(new URL(url));
    return { fileData: mimeType === undefined ? { fileUri: url } : { fileUri: url, mimeType } };
  }
  return throwInvalid(
    `Invalid value for '${imageParam}': must be a data: URL or an http(s) URL`,
    imageParam,
  );
}

function audioPart(part: Part, param: string): GeminiRequestPart {
  const audio = part.input_audio;
  const audioParam = `${param}.input_audio`;
  if (
    typeof audio !== "object" || audio === null || !("data" in audio) ||
    typeof audio.data !== "string" || audio.data === "" || !("format" in audio) ||
    (audio.format !== "wav" && audio.format !== "mp3")
  ) {
    return throwInvalid(
      `Invalid value for '${audioParam}': must be {data: <base64>, format: "wav" | "mp3"}`,
      audioParam,
    );
  }
  return { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } };
}

/** The URL of an `image_url` part, whether given as a string or as `{url}`. */
export function imageUrlOf(part: Part): string | undefined {
  const imageUrl = part.image_url;
  if (typeof imageUrl === "string") return imageUrl;
  if (typeof imageUrl === "object" && imageUrl !== null && "url" in imageUrl) {
    return typeof imageUrl.url === "string" ? imageUrl.url : undefined;
  }
  return undefined;
}

function partText(part: Part, param: string): string {
  if (typeof part.text !== "string") {
    return throwInvalid(`Invalid value for '${param}.text': must be a string`, `${param}.text`);
  }
  return part.text;
}

/** A text part, or none for empty text (Gemini rejects empty text parameters). */
function textPart(text: string): { text: string }[] {
  return text === "" ? [] : [{ text }];
}

function unsupportedPart(part: Part, param: string): GatewayError {
  return errors.invalidRequest(
    `Unsupported content part type "${part.type.slice(0, 100)}" in '${param}' for Gemini models`,
    `${param}.type`,
  );
}

function throwInvalid(message: string, param: string): never {
  throw errors.invalidRequest(message, param);
}
