/**
 * A lean HTTP/1.1 client on `Deno.connect` / `Deno.connectTls`, a drop-in for the gateway's
 * `fetch` (`deps.fetch`): fewer layers than Deno's fetch (no Request object, no native HTTP
 * client round trip per call), keep-alive connections per origin, small bodies handed over
 * whole, streamed bodies (SSE) piece by piece as they arrive. About a quarter less CPU per
 * proxied request than Deno's fetch in `bench/bare_proxy.ts` (`bench/h1_compare.ts`).
 *
 * Wiring it in main.ts (Deno's fetch honours HTTP_PROXY / HTTPS_PROXY / ALL_PROXY, this client
 * does not, so keep the global fetch when {@linkcode usesProxyEnvironment} says so):
 *
 *     const upstreamFetch = usesProxyEnvironment(Deno.env.toObject())
 *       ? undefined
 *       : createHttp1Fetch({ fallback: globalThis.fetch, now: () => performance.now() });
 *     // deps.fetch = upstreamFetch ?? globalThis.fetch; at shutdown: await upstreamFetch?.close()
 *
 * Where it differs from Deno's fetch:
 * - HTTP/1.1 only (no HTTP/2 by ALPN), no proxies, no `init.client` (handed to `fallback`).
 * - It sends no `accept-encoding` (Deno's sends `gzip,br`), so answers come uncompressed; one
 *   compressed anyway (gzip, deflate, br) is decoded, and its `content-encoding` and
 *   `content-length` headers are dropped (Deno's fetch keeps them). A request that sets
 *   `accept-encoding` itself gets the body as sent, like fetch.
 * - Bodies up to `wholeBodyBytes` (64 KiB) with a Content-Length are read before the promise
 *   resolves; an abort after that no longer errors them.
 * - A request failing on a reused keep-alive connection before any response byte (the server
 *   closed it meanwhile) is sent once more on a new connection, whatever its method, as
 *   browsers and hyper do.
 * - `response.url` and `response.redirected` are set only after a redirect; `type` is "default".
 * - Streamed request bodies (ReadableStream) go to `fallback`, or are read whole without one.
 */
import { connect } from "./h1_connect.ts";
import { Exchange, respond } from "./h1_exchange.ts";
import { ProtocolError } from "./h1_parse.ts";
import { ConnectionPool, H1Connection } from "./h1_pool.ts";
import {
  encodeRequest,
  type OutgoingRequest,
  type RequestDefaults,
  toOutgoing,
} from "./h1_request.ts";
import { ConnectionClosed, readHead } from "./h1_wire.ts";

/** Options of {@linkcode createHttp1Fetch}. */
export interface Http1FetchOptions {
  /** Takes the requests this client does not handle (streamed request bodies, other schemes). */
  readonly fallback?: typeof fetch;
  /**
   * Idle keep-alive connections kept per origin. Default 1,024: a gateway calls a provider with
   * as many connections as it has calls in flight, and a connection closed after its call costs the
   * next one a new handshake (at 256 concurrent calls, a limit of 64 cost a fifth more CPU).
   */
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
    maxIdlePerOrigin: options.maxIdlePerOrigin ?? 1_024,
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
    let headers = request.headers.slice();
    let { method, body } = request;
    const { status } = response;
    if (
      (status === 303 && method !== "GET" && method !== "HEAD") ||
      ((status === 301 || status === 302) && method === "POST")
    ) {
      method = "GET";
      body = null;
      const dropped = ["content-type", "content-encoding", "content-language"];
      headers = headers.filter(([name]) => !dropped.includes(name));
    }
    if (next.origin !== request.url.origin) {
      headers = headers.filter(([name]) => name !== "authorization");
    }
    request = { ...request, url: next, method, headers, body };
  }
}

function markRedirected(response: Response, url: string): void {
  Object.defineProperty(response, "url", { value: url });
  Object.defineProperty(response, "redirected", { value: true });
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
        if (
          retried || !connection.reused || connection.wire.received > 0 ||
          isAborted(signal) || !isStale(error)
        ) {
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

/** Whether the signal is aborted (a call: TypeScript would keep an earlier check narrowed). */
function isAborted(signal: AbortSignal | null): boolean {
  return signal?.aborted === true;
}

function isStale(error: unknown): boolean {
  return error instanceof ConnectionClosed || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionAborted;
}
