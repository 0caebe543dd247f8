/**
 * A lean HTTP/1.1 client on `Deno.connect` / `Deno.connectTls`, a drop-in for the gateway's
 * `fetch` (`deps.fetch`): fewer layers than Deno's fetch (no Request object, no native HTTP
 * client round trip per call), keep-alive connections per origin, small bodies handed over
 * whole, streamed bodies (SSE) piece by piece as they arrive.
 *
 * Deno's fetch honours HTTP_PROXY / HTTPS_PROXY / ALL_PROXY; this client does not: keep the
 * global fetch when {@linkcode usesProxyEnvironment} is true.
 */
import { type BodyOwner, bodyStream, decodeContent } from "./h1_body.ts";
import { ChunkedDecoder, ProtocolError, type ResponseHead } from "./h1_parse.ts";
import { ConnectionPool, H1Connection } from "./h1_pool.ts";
import {
  encodeRequest,
  type OutgoingRequest,
  type RequestDefaults,
  toOutgoing,
} from "./h1_request.ts";
import {
  ConnectionClosed,
  decodeBuffered,
  nextChunk,
  nextPiece,
  readFixed,
  readHead,
} from "./h1_wire.ts";

/** Options of {@linkcode createHttp1Fetch}. */
export interface Http1FetchOptions {
  /** Takes the requests this client does not handle (streamed request bodies, other schemes). */
  readonly fallback?: typeof fetch;
  /** Idle keep-alive connections kept per origin. Default 64. */
  readonly maxIdlePerOrigin?: number;
  /** An idle connection older than this is closed instead of reused. Default 30,000 ms. */
  readonly idleTimeoutMs?: number;
  /** The clock for idle ages, in ms. Default `performance.now`. */
  readonly now?: () => number;
  /** Bodies with a Content-Length up to this are read whole before fetch resolves. 64 KiB. */
  readonly wholeBodyBytes?: number;
  /** The largest response head. Default 256 KiB. */
  readonly maxHeadBytes?: number;
  /** Extra root certificates (PEM) for https, besides the default store. */
  readonly caCerts?: string[];
  /** The `user-agent` sent when the request has none. Default `Deno/<version>`, as fetch. */
  readonly userAgent?: string;
}

/** A fetch that keeps connections: `close()` closes them all. */
export interface Http1Fetch {
  (input: Request | URL | string, init?: RequestInit): Promise<Response>;
  /** Closes every connection, idle or in use. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Whether Deno's fetch would use a proxy from these environment variables. */
export function usesProxyEnvironment(env: Record<string, string | undefined>): boolean {
  return ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"].some((name) =>
    (env[name] ?? env[name.toLowerCase()] ?? "") !== ""
  );
}

interface Settings {
  readonly pool: ConnectionPool;
  readonly defaults: RequestDefaults;
  readonly wholeBodyBytes: number;
  readonly maxHeadBytes: number;
  readonly caCerts: string[] | undefined;
}

/** Creates an HTTP/1.1 fetch with its own connection pool. */
export function createHttp1Fetch(options: Http1FetchOptions = {}): Http1Fetch {
  const pool = new ConnectionPool({
    maxIdlePerOrigin: options.maxIdlePerOrigin ?? 64,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    now: options.now ?? (() => performance.now()),
  });
  const settings: Settings = {
    pool,
    defaults: { userAgent: options.userAgent ?? `Deno/${Deno.version.deno}` },
    wholeBodyBytes: options.wholeBodyBytes ?? 64 * 1024,
    maxHeadBytes: options.maxHeadBytes ?? 256 * 1024,
    caCerts: options.caCerts,
  };
  const { fallback } = options;
  const http1Fetch = async (input: Request | URL | string, init?: RequestInit) => {
    const request = await toOutgoing(input, init, fallback === undefined);
    if (request === undefined) {
      if (fallback !== undefined) return await fallback(input, init);
      throw new TypeError("Only http(s) URLs without credentials are supported");
    }
    if (request.signal?.aborted === true) throw request.signal.reason;
    return await fetchFollowing(request, settings);
  };
  const close = () => pool.close();
  return Object.assign(http1Fetch, { close, [Symbol.asyncDispose]: close });
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

async function fetchFollowing(request: OutgoingRequest, settings: Settings): Promise<Response> {
  for (let redirects = 0;; redirects++) {
    const response = await exchange(request, settings);
    const location = REDIRECT_STATUSES.has(response.status)
      ? response.headers.get("location")
      : null;
    if (location === null || request.redirect === "manual") {
      if (redirects > 0) markRedirected(response, request.url.href);
      return response;
    }
    await response.body?.cancel();
    if (request.redirect === "error") throw new TypeError("Fetch failed: redirect mode is error");
    if (redirects >= 20) throw new TypeError("Fetch failed: too many redirects");
    const next = new URL(location, request.url);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new TypeError(`Fetch failed: redirect to ${next.protocol} URL`);
    }
    const headers = new Headers(request.headers);
    let { method, body } = request;
    const { status } = response;
    if (
      (status === 303 && method !== "GET" && method !== "HEAD") ||
      ((status === 301 || status === 302) && method === "POST")
    ) {
      method = "GET";
      body = null;
      for (const name of ["content-type", "content-encoding", "content-language"]) {
        headers.delete(name);
      }
    }
    if (next.origin !== request.url.origin) headers.delete("authorization");
    request = { ...request, url: next, method, headers, body };
  }
}

function markRedirected(response: Response, url: string): void {
  Object.defineProperty(response, "url", { value: url });
  Object.defineProperty(response, "redirected", { value: true });
}

/** One request and response on one connection: the abort hook and the connection's fate. */
class Exchange implements BodyOwner {
  connection: H1Connection | undefined;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly #pool: ConnectionPool;
  readonly #signal: AbortSignal | null;
  readonly #url: string;
  #done = false;
  /** Whether the response allows reusing the connection once its body is read. */
  reusable = true;

  constructor(pool: ConnectionPool, signal: AbortSignal | null, url: string) {
    this.#pool = pool;
    this.#signal = signal;
    this.#url = url;
    signal?.addEventListener("abort", this);
  }

  /** The abort: the socket is closed (never reused) and a streamed body errors. */
  handleEvent(): void {
    if (this.connection !== undefined) this.#pool.discard(this.connection);
    this.controller?.error(this.#signal?.reason);
  }

  finish(complete: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#signal?.removeEventListener("abort", this);
    const connection = this.connection;
    if (connection === undefined) return;
    if (complete && this.reusable && connection.wire.buffered === 0) this.#pool.put(connection);
    else this.#pool.discard(connection);
  }

  fail(error: unknown): unknown {
    this.finish(false);
    return this.explain(error, "error reading a body from connection");
  }

  /** What fetch rejects with: the abort reason, or a TypeError with the cause. */
  explain(error: unknown, what = `error sending request for url (${this.#url})`): unknown {
    if (this.#signal?.aborted === true) return this.#signal.reason;
    const message = error instanceof Error ? error.message : String(error);
    return new TypeError(`${what}: ${message}`, { cause: error });
  }
}

async function exchange(request: OutgoingRequest, settings: Settings): Promise<Response> {
  const { url, signal } = request;
  const origin = `${url.protocol}//${url.host}`;
  const bytes = encodeRequest(request, settings.defaults);
  const current = new Exchange(settings.pool, signal, url.href);
  let connection = settings.pool.take(origin);
  let retried = false;
  try {
    for (;;) {
      if (connection === undefined) {
        connection = new H1Connection(await connect(url, signal, settings.caCerts), origin);
        if (!settings.pool.add(connection)) throw new TypeError("The client is closed");
      }
      current.connection = connection;
      if (signal?.aborted === true) throw signal.reason;
      try {
        await connection.write(bytes);
        let head = await readHead(connection.wire, settings.maxHeadBytes);
        while (head.status < 200) {
          if (head.status === 101) throw new ProtocolError("Unexpected 101 Switching Protocols");
          head = await readHead(connection.wire, settings.maxHeadBytes);
        }
        return await respond(current, request, head, settings);
      } catch (error) {
        // A reused connection the server closed meanwhile: one retry on a new one (as browsers).
        if (retried || !connection.reused || connection.wire.received > 0 || !isStale(error)) {
          throw error;
        }
        retried = true;
        settings.pool.discard(connection);
        connection = undefined;
      }
    }
  } catch (error) {
    current.finish(false);
    throw current.explain(error);
  }
}

function isStale(error: unknown): boolean {
  return error instanceof ConnectionClosed || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionAborted;
}

async function connect(url: URL, signal: AbortSignal | null, caCerts: string[] | undefined) {
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const tls = url.protocol === "https:";
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  const connecting: Promise<Deno.Conn> = tls
    ? Deno.connectTls(caCerts === undefined ? { hostname, port } : { hostname, port, caCerts })
    : Deno.connect({ hostname, port }).then((conn) => (conn.setNoDelay(true), conn));
  if (signal === null) return await connecting;
  const aborted = Promise.withResolvers<never>();
  const onAbort = () => aborted.reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([connecting, aborted.promise]);
  } catch (error) {
    connecting.then((conn) => conn.close(), () => {});
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** The Response for a head just read: framing per RFC 9112 §6.3. */
async function respond(
  current: Exchange,
  request: OutgoingRequest,
  head: ResponseHead,
  settings: Settings,
): Promise<Response> {
  const { status } = head;
  if (status > 599) throw new ProtocolError(`Invalid status ${status}`);
  let length = -1;
  let chunked = false;
  let reusable = head.minor === 1;
  let encoding: string | undefined;
  for (const [name, value] of head.headers) {
    if (name === "content-length") length = contentLength(value, length);
    else if (name === "content-encoding") encoding = value;
    else if (name === "transfer-encoding") {
      if (!/(?:^|,)\s*chunked\s*$/i.test(value)) {
        throw new ProtocolError(`Unsupported transfer-encoding: ${value}`);
      }
      chunked = true;
    } else if (name === "connection" && /(?:^|,)\s*close\s*(?:,|$)/i.test(value)) {
      reusable = false;
    }
  }
  if (chunked && length >= 0) reusable = false; // both framings: do not trust the connection
  current.reusable = reusable;
  const connection = current.connection as H1Connection;
  const { wire } = connection;
  let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
  if (request.method === "HEAD" || status === 204 || status === 304) {
    current.finish(true);
  } else if (chunked) {
    const decoder = new ChunkedDecoder();
    const first = decodeBuffered(wire, decoder);
    if (decoder.done) {
      current.finish(true);
      body = first;
    } else {
      const source = { next: () => nextChunk(wire, decoder), ended: () => decoder.done };
      body = stream(current, first, source, settings.pool);
    }
  } else if (length >= 0 && length <= settings.wholeBodyBytes) {
    body = await readFixed(wire, length);
    current.finish(true);
  } else if (length >= 0) {
    let remaining = length;
    const next = async () => {
      const piece = await nextPiece(wire, remaining);
      remaining -= (piece as Uint8Array).length;
      return piece;
    };
    body = stream(current, undefined, { next, ended: () => remaining === 0 }, settings.pool);
  } else {
    current.reusable = false; // the body ends when the connection does
    const next = () => nextPiece(wire, Infinity);
    body = stream(current, undefined, { next, ended: () => false }, settings.pool);
  }
  let headers = head.headers;
  if (body !== null && encoding !== undefined && !request.headers.has("accept-encoding")) {
    const decoded = decodeContent(body, encoding);
    if (decoded !== undefined) {
      body = decoded;
      headers = headers.filter(([name]) =>
        name !== "content-encoding" && name !== "content-length"
      );
    }
  }
  const init = { status, statusText: head.statusText, headers };
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body as BodyInit | null, init);
}

function stream(
  current: Exchange,
  first: Uint8Array | undefined,
  source: { next(): Promise<Uint8Array | null>; ended(): boolean },
  pool: ConnectionPool,
): ReadableStream<Uint8Array> {
  return bodyStream(current, first, { source, onLost: lostHandler(pool, current.connection) });
}

/** Closes the connection of a body dropped unread; holds no reference to the stream. */
function lostHandler(pool: ConnectionPool, connection: H1Connection | undefined): () => void {
  return () => {
    if (connection !== undefined) pool.discard(connection);
  };
}

function contentLength(value: string, previous: number): number {
  let length = previous;
  for (const part of value.split(",")) {
    const text = part.trim();
    if (!/^\d{1,15}$/.test(text)) throw new ProtocolError(`Invalid content-length: ${value}`);
    const n = Number(text);
    if (length >= 0 && n !== length) throw new ProtocolError("Conflicting content-length values");
    length = n;
  }
  return length;
}
