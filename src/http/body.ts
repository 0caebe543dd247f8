/**
 * Reading a JSON request body safely: content type, size limit (checked before reading when
 * `Content-Length` is given, and while reading otherwise), a deadline, then JSON.
 */
import type { Deadlines } from "../deadlines.ts";
import { errors } from "../errors.ts";
import { readAtMost } from "./bounded_read.ts";

/** Limits on request bodies. */
export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly deadlines: Deadlines;
  /**
   * The request came over HTTP (Deno.serve), whose framing delivers no byte past a declared
   * `Content-Length`: such a body within the limit is read whole, natively. A request built in
   * code may declare any length, so its body is always counted piece by piece.
   */
  readonly framed?: boolean | undefined;
}

const JSON_TYPE_REGEXP = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** Not streaming, so one decoder serves every request; `fatal`: bad UTF-8 is an error. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

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
  const length = declared === null ? NaN : Number(declared);
  if (length > limits.maxBytes) throw errors.requestTooLarge(limits.maxBytes);
  const whole = limits.framed === true && Number.isSafeInteger(length);
  const bytes = await readLimited(request, limits, whole);
  if (bytes.byteLength === 0) throw errors.invalidJson("Request body is empty: send a JSON object");
  let text: string;
  try {
    text = UTF8.decode(bytes);
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

/**
 * Reads the body within the deadline: `whole` (a framed body of declared length within the
 * limit) in one native read, else piece by piece, stopping as soon as it passes the limit
 * (whatever its `Content-Length` claimed).
 */
async function readLimited(
  request: Request,
  limits: BodyLimits,
  whole: boolean,
): Promise<Uint8Array> {
  // `request.body` is not touched on the whole path: asking for it makes Deno build a stream.
  if (!whole && request.body === null) return new Uint8Array();
  const timedOut = Promise.withResolvers<never>();
  const deadline = limits.deadlines.start(
    limits.timeoutMs,
    () => timedOut.reject(errors.requestTimeout(limits.timeoutMs)),
  );
  // On a timeout the whole read cannot be cancelled (the body is locked to it): the answer
  // (408) ends the exchange, and Deno drops the connection with the body unread.
  const reader = whole ? undefined : request.body?.getReader();
  // arrayBuffer(), not bytes(): Deno serves it from the request natively, where bytes() goes
  // through a stream (about 7 µs a request more).
  const read = reader === undefined
    ? request.arrayBuffer().then((buffer) => new Uint8Array(buffer))
    : readAtMost(reader, {
      maxBytes: limits.maxBytes,
      tooLarge: () => errors.requestTooLarge(limits.maxBytes),
    });
  try {
    return await Promise.race([read, timedOut.promise]).catch((error) => {
      reader?.cancel().catch(() => {});
      throw error;
    });
  } finally {
    deadline.cancel();
    timedOut.promise.catch(() => {});
    read.catch(() => {});
  }
}
