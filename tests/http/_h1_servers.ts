/**
 * Test servers for the HTTP/1.1 client: a raw `Deno.listen` server whose handler writes exact
 * bytes (odd framings, closes, stalls), and a `Deno.serve` server that counts connections.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One accepted connection: read requests, write raw bytes, watch for the peer leaving. */
export class RawConn {
  readonly conn: Deno.Conn;
  #buffer = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Reads one request (head and Content-Length body); null when the client closed. */
  async readRequest(): Promise<{ head: string; body: string } | null> {
    for (;;) {
      const text = decoder.decode(this.#buffer);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = text.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? "0");
        const headBytes = encoder.encode(text.slice(0, end + 4)).length;
        if (this.#buffer.length >= headBytes + length) {
          const body = decoder.decode(this.#buffer.subarray(headBytes, headBytes + length));
          this.#buffer = this.#buffer.slice(headBytes + length);
          return { head, body };
        }
      }
      if (!await this.#more()) return null;
    }
  }

  async #more(): Promise<boolean> {
    const piece = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.conn.read(piece);
    } catch {
      return false;
    }
    if (n === null) return false;
    const joined = new Uint8Array(this.#buffer.length + n);
    joined.set(this.#buffer);
    joined.set(piece.subarray(0, n), this.#buffer.length);
    this.#buffer = joined;
    return true;
  }

  /** Writes text (as bytes 0–255 when `latin1`) or bytes. */
  async write(data: string | Uint8Array): Promise<void> {
    let bytes = typeof data === "string" ? encoder.encode(data) : data;
    while (bytes.length > 0) bytes = bytes.subarray(await this.conn.write(bytes));
  }

  /** Resolves once the client has closed its side (EOF or reset). */
  async closedByPeer(): Promise<void> {
    while (await this.#more()) { /* discard */ }
  }
}

/** A raw TCP server on 127.0.0.1; `handle` runs for each accepted connection. */
export interface RawServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  accepted(): number;
}

/** Starts a {@linkcode RawServer}; each connection is closed when its handler returns. */
export function rawServer(handle: (conn: RawConn, index: number) => Promise<void>): RawServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const handlers: Promise<void>[] = [];
  let accepted = 0;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      (conn as Deno.TcpConn).setNoDelay(true);
      const raw = new RawConn(conn);
      handlers.push(
        handle(raw, accepted++).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* closed by the handler */ }
        }),
      );
    }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accepted: () => accepted,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      await Promise.all(handlers);
    },
  };
}

/** A `Deno.serve` server on 127.0.0.1 that counts the connections requests came on. */
export interface CountingServer extends AsyncDisposable {
  readonly url: string;
  /** Distinct client ports seen: the number of connections used. */
  connections(): number;
}

/** Starts a {@linkcode CountingServer}. */
export function countingServer(
  handler: (request: Request) => Response | Promise<Response>,
): CountingServer {
  const ports = new Set<number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request, info) => {
    ports.add(info.remoteAddr.port);
    return handler(request);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    connections: () => ports.size,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A head of a response: status line, headers, and the empty line. */
export function head(status: string, headers: Record<string, string> | [string, string][]): string {
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  return `HTTP/1.1 ${status}\r\n${pairs.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
}

/** One chunk of a chunked body. */
export function chunk(text: string): string {
  return `${encoder.encode(text).length.toString(16)}\r\n${text}\r\n`;
}
