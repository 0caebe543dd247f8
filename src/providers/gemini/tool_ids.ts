/**
 * OpenAI tool-call ids for Gemini function calls (FACTS.md §4.2, T24, T34).
 *
 * Gemini function calls usually carry no `id`, so the gateway mints one that is deterministic in
 * (completion id, candidate index, call index): `call_<completion id without "chatcmpl-">_<candidate>_<call>`.
 * The same response always yields the same ids, the stream and non-stream translations agree, and
 * ids are unique across completions because completion ids are. An `id` Gemini sends is not used
 * (the stream translation ignores it too) and is not sent back: Gemini pairs function responses
 * with calls by name and order.
 *
 * Gemini 3 attaches a `thoughtSignature` to function-call parts and rejects the next request when
 * it is not sent back on the same part. OpenAI clients only echo the tool-call id, so the
 * signature rides inside it: `<base>~ts~<base64url(UTF-8 of the signature)>`, no padding.
 * `~` is outside the base64url alphabet, so decoding splits at the last marker unambiguously. An
 * id longer than {@linkcode MAX_TOOL_CALL_ID_LENGTH} would result from an absurdly long
 * signature: the signature is then dropped (Gemini then answers 400 on the next turn, naming the
 * missing signature, rather than the gateway handing out ids that storage may truncate).
 */

/** Separates the base id from the encoded thought signature. */
export const THOUGHT_SIGNATURE_MARKER = "~ts~";

/**
 * The longest id the gateway emits: 8 KiB. Observed signatures are a few hundred to a few
 * thousand base64 characters; OpenAI's SDKs put no limit on ids, but storage layers often do.
 */
export const MAX_TOOL_CALL_ID_LENGTH = 8192;

const BASE64URL_REGEXP = /^[A-Za-z0-9_-]*$/;

/** Where a function call sits in a response. */
export interface ToolCallPosition {
  /** The candidate's `index` (the OpenAI choice index). */
  readonly candidate: number;
  /** The call's index among the candidate's function calls (dense, from 0). */
  readonly call: number;
}

/**
 * Mints the deterministic base id of a call. Pure.
 *
 * @example Usage
 * ```ts
 * import { mintToolCallId } from "./tool_ids.ts";
 * mintToolCallId("chatcmpl-abc", { candidate: 0, call: 1 }); // "call_abc_0_1"
 * ```
 */
export function mintToolCallId(completionId: string, position: ToolCallPosition): string {
  const base = completionId.startsWith("chatcmpl-")
    ? completionId.slice("chatcmpl-".length)
    : completionId;
  return `call_${base}_${position.candidate}_${position.call}`;
}

/**
 * Encodes a base id and an optional thought signature into one OpenAI tool-call id; the
 * signature is dropped when the id would exceed {@linkcode MAX_TOOL_CALL_ID_LENGTH}.
 *
 * @example Usage
 * ```ts
 * import { encodeToolCallId } from "./tool_ids.ts";
 * encodeToolCallId("call_0_abc", "sig"); // "call_0_abc~ts~c2ln"
 * ```
 */
export function encodeToolCallId(base: string, signature?: string | null): string {
  if (signature === undefined || signature === null || signature === "") return base;
  const id = `${base}${THOUGHT_SIGNATURE_MARKER}${toBase64Url(signature)}`;
  return id.length > MAX_TOOL_CALL_ID_LENGTH ? base : id;
}

/**
 * Splits a tool-call id back into its base and thought signature. An id without the marker, or
 * whose encoded part is not valid base64url UTF-8, has no signature.
 *
 * @example Usage
 * ```ts
 * import { decodeToolCallId } from "./tool_ids.ts";
 * decodeToolCallId("call_0_abc~ts~c2ln"); // { base: "call_0_abc", signature: "sig" }
 * ```
 */
export function decodeToolCallId(id: string): { base: string; signature?: string } {
  const at = id.lastIndexOf(THOUGHT_SIGNATURE_MARKER);
  if (at < 0) return { base: id };
  const base = id.slice(0, at);
  const signature = fromBase64Url(id.slice(at + THOUGHT_SIGNATURE_MARKER.length));
  return signature === undefined || signature === "" ? { base } : { base, signature };
}

/**
 * The OpenAI id of one Gemini function call: the minted base with the part's `thoughtSignature`
 * encoded in. Used by the response translation (the stream translation builds the same id).
 *
 * @example Usage
 * ```ts
 * import { toolCallIdFor } from "./tool_ids.ts";
 * toolCallIdFor("chatcmpl-abc", { candidate: 0, call: 0, signature: "sig" }); // "call_abc_0_0~ts~c2ln"
 * ```
 */
export function toolCallIdFor(
  completionId: string,
  call: ToolCallPosition & { readonly signature?: string | null | undefined },
): string {
  return encodeToolCallId(mintToolCallId(completionId, call), call.signature);
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(encoded: string): string | undefined {
  if (!BASE64URL_REGEXP.test(encoded) || encoded.length % 4 === 1) return undefined;
  try {
    const binary = atob(encoded.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
