/**
 * The request side of `h1_client.ts`: fetch's arguments normalized to an {@linkcode OutgoingRequest},
 * and its HTTP/1.1 bytes.
 */

/** Header `[name, value]` pairs, names lowercased, values as fetch would send them. */
export type HeaderList = [string, string][];

/** A request ready to be written: method, URL, headers and the whole body. */
export interface OutgoingRequest {
  url: URL;
  method: string;
  headers: HeaderList;
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

/** HTTP whitespace, which fetch strips from both ends of a header value. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
/** What a header value may not hold: NUL, CR, LF, or a char past one byte. */
const BAD_VALUE = /[\0\r\n]|[^\0-\xff]/;

function isHttpWhitespace(code: number | undefined): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * A plain `{ name: value }` record as a {@linkcode HeaderList}, checked as fetch checks it
 * (without building a `Headers`): names lowercased (a name given twice in two cases is joined with
 * ", "), values stripped of edge whitespace.
 *
 * @throws {TypeError} for a name that is not an HTTP token or a value with NUL, CR, LF or a char
 *   past one byte.
 */
export function headerListOf(record: Readonly<Record<string, string>>): HeaderList {
  const list: HeaderList = [];
  for (const key in record) {
    let value = String(record[key]);
    if (
      isHttpWhitespace(value.charCodeAt(0)) || isHttpWhitespace(value.charCodeAt(value.length - 1))
    ) {
      value = value.replace(EDGE_WHITESPACE, "");
    }
    if (!TOKEN_REGEXP.test(key)) throw new TypeError(`Invalid header name: "${key}"`);
    if (BAD_VALUE.test(value)) throw new TypeError(`Invalid header value for "${key}"`);
    const name = key.toLowerCase();
    const same = list.find((entry) => entry[0] === name);
    if (same === undefined) list.push([name, value]);
    else same[1] += `, ${value}`;
  }
  return list;
}

function isPlainRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Parsed URLs of recent requests: a gateway calls the same few provider URLs over and over. */
const parsedUrls = new Map<string, URL>();
const MAX_PARSED_URLS = 256;

/** `text` parsed, from {@linkcode parsedUrls} when it was parsed before (never changed after). */
function parseUrl(text: string): URL {
  let url = parsedUrls.get(text);
  if (url === undefined) {
    url = new URL(text);
    if (parsedUrls.size >= MAX_PARSED_URLS) parsedUrls.clear();
    parsedUrls.set(text, url);
  }
  return url;
}

/** Whether `headers` has `name` (lowercase). */
export function hasHeader(headers: HeaderList, name: string): boolean {
  return headers.some((entry) => entry[0] === name);
}

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
  const url = parseUrl(
    request !== undefined ? request.url : typeof input === "string" ? input : (input as URL).href,
  );
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username !== "" || url.password !== "") return undefined;
  if ((init as { client?: unknown } | undefined)?.client !== undefined) return undefined;
  const method = hasOwn(init, "method")
    ? normalizeMethod(init?.method as string)
    : request?.method ?? "GET";
  const given = init?.headers;
  const headers: HeaderList = given !== undefined
    ? isPlainRecord(given) ? headerListOf(given) : [...new Headers(given)]
    : request === undefined
    ? []
    : [...request.headers];
  let body: Uint8Array | null = null;
  if (init !== undefined && "body" in init && init.body !== undefined) {
    if (init.body !== null) {
      if (method === "GET" || method === "HEAD") {
        throw new TypeError("Request with GET/HEAD method cannot have body");
      }
      const extracted = await extractBody(init.body, bufferStreams);
      if (extracted === undefined) return undefined;
      body = extracted.bytes;
      if (extracted.type !== null && !hasHeader(headers, "content-type")) {
        headers.push(["content-type", extracted.type]);
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
