/**
 * The request side of `h1_client.ts`: fetch's arguments normalized to an {@linkcode OutgoingRequest},
 * and its HTTP/1.1 bytes.
 */

/** A request ready to be written: method, URL, headers and the whole body. */
export interface OutgoingRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: Uint8Array | null;
  readonly signal: AbortSignal | null;
  readonly redirect: RequestRedirect;
}

const encoder = new TextEncoder();
const TOKEN_REGEXP = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
/** Headers the client writes itself, or that belong to the connection, not the request. */
const SKIPPED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "upgrade",
]);

/** `method` normalized as fetch does; throws a TypeError for an invalid or forbidden one. */
export function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  if (!TOKEN_REGEXP.test(method)) throw new TypeError(`Invalid method: ${method}`);
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`Method is forbidden: ${method}`);
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

/**
 * A request body as bytes with the content type fetch would give it; undefined for a stream
 * when `buffer` is false (the caller then hands the request to another fetch).
 */
async function extractBody(
  body: BodyInit,
  buffer: boolean,
): Promise<{ bytes: Uint8Array; type: string | null } | undefined> {
  if (typeof body === "string") {
    return { bytes: encoder.encode(body), type: "text/plain;charset=UTF-8" };
  }
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body), type: null };
  if (ArrayBuffer.isView(body)) {
    return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), type: null };
  }
  if (body instanceof ReadableStream && !buffer) return undefined;
  const response = new Response(body); // Blob, FormData, URLSearchParams, a stream
  return { bytes: await response.bytes(), type: response.headers.get("content-type") };
}

function hasOwn(init: RequestInit | undefined, key: keyof RequestInit): boolean {
  return init !== undefined && init[key] !== undefined;
}

/**
 * fetch's `(input, init)` as an {@linkcode OutgoingRequest}, reading the body; undefined when
 * the request needs another fetch (a URL that is not http(s) or carries credentials, a
 * `Deno.HttpClient` in `init.client`, a streamed body when `bufferStreams` is false).
 *
 * @throws {TypeError} for an invalid URL, method, header or a body on GET/HEAD, as fetch does.
 */
export async function toOutgoing(
  input: Request | URL | string,
  init: RequestInit | undefined,
  bufferStreams: boolean,
): Promise<OutgoingRequest | undefined> {
  const request = input instanceof Request ? input : undefined;
  const url = new URL(
    request !== undefined ? request.url : typeof input === "string" ? input : (input as URL).href,
  );
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username !== "" || url.password !== "") return undefined;
  if ((init as { client?: unknown } | undefined)?.client !== undefined) return undefined;
  const method = hasOwn(init, "method")
    ? normalizeMethod(init?.method as string)
    : request?.method ?? "GET";
  const headers = hasOwn(init, "headers")
    ? new Headers(init?.headers)
    : request?.headers ?? new Headers();
  let body: Uint8Array | null = null;
  if (init !== undefined && "body" in init && init.body !== undefined) {
    if (init.body !== null) {
      if (method === "GET" || method === "HEAD") {
        throw new TypeError("Request with GET/HEAD method cannot have body");
      }
      const extracted = await extractBody(init.body, bufferStreams);
      if (extracted === undefined) return undefined;
      body = extracted.bytes;
      if (extracted.type !== null && !headers.has("content-type")) {
        headers.set("content-type", extracted.type);
      }
    }
  } else if (request !== undefined && request.body !== null) {
    body = await request.bytes(); // Deno cannot tell a string body from a stream: read both
  }
  return {
    url,
    method,
    headers,
    body,
    signal: init?.signal ?? request?.signal ?? null,
    redirect: init?.redirect ?? request?.redirect ?? "follow",
  };
}

/** Default request headers fetch sends when the caller sets none of its own. */
export interface RequestDefaults {
  readonly userAgent: string;
}

/** The request's head and body as the bytes to write (one array). */
export function encodeRequest(request: OutgoingRequest, defaults: RequestDefaults): Uint8Array {
  const { url, method, body } = request;
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  let accept = false;
  let language = false;
  let agent = false;
  for (const [name, value] of request.headers) {
    if (SKIPPED_HEADERS.has(name)) continue;
    if (name === "accept") accept = true;
    else if (name === "accept-language") language = true;
    else if (name === "user-agent") agent = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!accept) head += "accept: */*\r\n";
  if (!language) head += "accept-language: *\r\n";
  if (!agent) head += `user-agent: ${defaults.userAgent}\r\n`;
  if (body !== null) head += `content-length: ${body.length}\r\n`;
  else if (method === "POST" || method === "PUT" || method === "PATCH") {
    head += "content-length: 0\r\n";
  }
  head += "\r\n";
  const bodyLength = body?.length ?? 0;
  const bytes = new Uint8Array(head.length + bodyLength);
  if (/[\u0080-\uffff]/.test(head)) {
    // Header values are byte strings: one byte per char code, as fetch sends them.
    for (let i = 0; i < head.length; i++) bytes[i] = head.charCodeAt(i);
  } else {
    encoder.encodeInto(head, bytes);
  }
  if (body !== null) bytes.set(body, head.length);
  return bytes;
}
