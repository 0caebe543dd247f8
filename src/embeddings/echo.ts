/**
 * Embeddings of the built-in `choreoai/echo` model: one deterministic unit vector per input,
 * derived from SHA-256 of the input, so tests and benchmarks get stable answers with no provider.
 * Pure.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { errors, type GatewayError } from "../errors.ts";
import { formatEmbedding } from "./encoding.ts";
import {
  embeddingInputs,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  estimateEmbeddingTokens,
} from "./schema.ts";

/** Vector length when the request sets no `dimensions`. */
export const ECHO_DEFAULT_DIMENSIONS = 16;
/** The longest vector the echo model makes. */
export const ECHO_MAX_DIMENSIONS = 4096;

/** Floats per SHA-256 block: 32 bytes, 4 per float. */
const FLOATS_PER_BLOCK = 8;

/** The seed of one input; texts and token arrays are told apart, so "1" and [1] differ. */
function seedOf(input: string | readonly number[]): Buffer {
  const key = typeof input === "string" ? `text:${input}` : `tokens:${input.join(",")}`;
  return createHash("sha256").update(key, "utf8").digest();
}

/**
 * A unit-length vector of `dimensions` values: block `i` is SHA-256(seed ‖ uint32 i), read as 8
 * uint32 mapped to [-1, 1), then the whole vector is normalised and rounded to float32 (so the
 * float and base64 answers hold the same numbers).
 */
function vectorOf(input: string | readonly number[], dimensions: number): number[] {
  const seed = seedOf(input);
  const values: number[] = [];
  const counter = Buffer.alloc(4);
  for (let block = 0; values.length < dimensions; block++) {
    counter.writeUInt32BE(block);
    const digest = createHash("sha256").update(seed).update(counter).digest();
    for (let i = 0; i < FLOATS_PER_BLOCK && values.length < dimensions; i++) {
      values.push(digest.readUInt32BE(i * 4) / 2 ** 31 - 1);
    }
  }
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
  return values.map((value) => Math.fround(norm === 0 ? 0 : value / norm));
}

/**
 * The echo model's answer: one vector per text or token array, `dimensions` long (default
 * {@linkcode ECHO_DEFAULT_DIMENSIONS}), usage from the token estimate, `encoding_format` applied.
 * A 400 naming `dimensions` above {@linkcode ECHO_MAX_DIMENSIONS}.
 *
 * @example Usage
 * ```ts
 * import { echoEmbeddings } from "./echo.ts";
 * const answer = echoEmbeddings({ model: "choreoai/echo", input: ["a", "b"] }, "choreoai/echo");
 * // answer.data.length === 2, each embedding 16 floats of unit length
 * ```
 */
export function echoEmbeddings(
  request: EmbeddingsRequest,
  model: string,
): EmbeddingsResponse | GatewayError {
  const dimensions = request.dimensions ?? ECHO_DEFAULT_DIMENSIONS;
  if (dimensions > ECHO_MAX_DIMENSIONS) {
    return errors.invalidRequest(
      `Invalid value for 'dimensions': the echo model makes at most ${ECHO_MAX_DIMENSIONS} ` +
        `dimensions, got ${dimensions}`,
      "dimensions",
    );
  }
  const format = request.encoding_format ?? "float";
  const tokens = estimateEmbeddingTokens(request);
  return {
    object: "list",
    data: embeddingInputs(request).map((input, index) => ({
      object: "embedding",
      index,
      embedding: formatEmbedding(vectorOf(input, dimensions), format),
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
