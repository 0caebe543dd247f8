/**
 * Reading a JSON request body safely: content type, size limit (checked before reading when
 * `Content-Length` is given, and while reading otherwise), a deadline, then JSON.
 */
import { errors } from "../errors.ts";

/** Limits on request bodies. */
export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

const JSON_TYPE_REGEXP = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Whether a `Content-Type` value is JSON (`application/json`, `application/x+json`, params ok). */
export function isJsonContentType(value: string | null): boolean {
  return value !== null && JSON_TYPE_REGEXP.test(value.trim());
}

/**
 * Reads and parses a JSON object body.
 *
 * @throws {GatewayError} 415 for a non-JSON type, 413 past `maxBytes`, 408 past `timeoutMs`,
 *   400 `invalid_json` for bytes that are not a JSON object.
 */
export async function readJsonBody(request: Request, limits: BodyLimits): Promise<unknown> {
  const contentType = request.headers.get("content-type");
  if (!isJsonContentType(contentType)) throw errors.unsupportedMediaType(contentType);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) {
    throw errors.requestTooLarge(limits.maxBytes);
  }
  const bytes = await readLimited(request, limits);
  if (bytes.byteLength === 0) throw errors.invalidJson("Request body is empty: send a JSON object");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw errors.invalidJson("Request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message}` : "";
    throw errors.invalidJson(`Request body is not valid JSON${reason}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw errors.invalidRequest("Request body must be a JSON object");
  }
  return value;
}

async function readLimited(request: Request, limits: BodyLimits): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array();
  const reader = request.body.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, limits.timeoutMs);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (timedOut) throw errors.requestTimeout(limits.timeoutMs);
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) {
        reader.cancel().catch(() => {});
        throw errors.requestTooLarge(limits.maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (timedOut) throw errors.requestTimeout(limits.timeoutMs);
    throw error;
  } finally {
    clearTimeout(timer);
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
