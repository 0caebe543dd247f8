/**
 * Embedding vectors as OpenAI sends them for `encoding_format: "base64"`: the vector's values as
 * little-endian float32, in standard base64 (with padding).
 */
import { Buffer } from "node:buffer";

/** Standard base64 with padding, the whole string. */
const BASE64_REGEXP = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Encodes values as little-endian float32, in base64. Values are rounded to float32.
 *
 * @example Usage
 * ```ts
 * import { floatsToBase64 } from "./encoding.ts";
 * floatsToBase64([1, -2, 0.5]); // "AACAPwAAAMAAAAA/"
 * ```
 */
export function floatsToBase64(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString("base64");
}

/**
 * Decodes base64 of little-endian float32 values.
 *
 * @throws {SyntaxError} When the text is not standard base64 or not whole float32 values.
 * @example Usage
 * ```ts
 * import { base64ToFloats } from "./encoding.ts";
 * base64ToFloats("AACAPwAAAMAAAAA/"); // [1, -2, 0.5]
 * ```
 */
export function base64ToFloats(text: string): number[] {
  if (!BASE64_REGEXP.test(text)) {
    throw new SyntaxError("Cannot decode embedding: not standard base64");
  }
  const bytes = Buffer.from(text, "base64");
  if (bytes.length % 4 !== 0) {
    throw new SyntaxError(
      `Cannot decode embedding: ${bytes.length} bytes is not a whole number of float32 values`,
    );
  }
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

/** A vector in the answer's format: the values, or their base64 when `base64` was asked. */
export function formatEmbedding(
  values: readonly number[],
  format: "float" | "base64",
): readonly number[] | string {
  return format === "base64" ? floatsToBase64(values) : values;
}
