/**
 * Reading a body with a size limit, shared by every place that reads a whole body into memory:
 * request bodies, non-streamed upstream answers, fetched images.
 */

/** Options of {@linkcode readAtMost}. */
export interface ReadAtMostOptions {
  /** The most bytes kept; one more and the read stops. */
  readonly maxBytes: number;
  /** The error thrown once the body passes `maxBytes`. */
  readonly tooLarge: () => Error;
}

/**
 * Reads a body to its end, piece by piece. As soon as it passes `maxBytes` (whatever a
 * `Content-Length` claimed), the rest is cancelled, unread, and `tooLarge()` is thrown: nothing
 * past the limit is kept in memory.
 *
 * @example Usage
 * ```ts
 * import { readAtMost } from "./bounded_read.ts";
 * const body = ReadableStream.from([new TextEncoder().encode("hello")]);
 * const bytes = await readAtMost(body.getReader(), {
 *   maxBytes: 1024,
 *   tooLarge: () => new RangeError("Cannot read the body: larger than 1024 bytes"),
 * });
 * // bytes.byteLength === 5
 * ```
 */
export async function readAtMost(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  options: ReadAtMostOptions,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > options.maxBytes) {
      await reader.cancel().catch(() => {});
      throw options.tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
