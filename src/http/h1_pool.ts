/**
 * Keep-alive connections of `h1_client.ts`, per origin. An idle connection keeps one read
 * pending (unref'd, so it holds no process open): bytes, an EOF or an error arriving while it is
 * idle mean the server closed it or broke the protocol, and it is dropped at once. When it is
 * taken again, that read becomes the first read of the next response.
 */
import { Wire } from "./h1_wire.ts";

/** A connection and its read buffer. */
export class H1Connection {
  readonly conn: Deno.Conn;
  readonly wire: Wire;
  readonly origin: string;
  /** Taken from the pool (it served a response before). */
  reused = false;
  idle = false;
  idleSince = 0;
  closed = false;
  /** The pending read of an idle connection. */
  idleRead: Promise<unknown> | undefined;

  constructor(conn: Deno.Conn, origin: string) {
    this.conn = conn;
    this.origin = origin;
    this.wire = new Wire(conn);
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) {
      written += await this.conn.write(written === 0 ? bytes : bytes.subarray(written));
    }
  }

  /** Closes the socket (pending reads and writes fail). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by the runtime
    }
  }
}

/** Limits of a {@linkcode ConnectionPool}. */
export interface PoolOptions {
  /** The most idle connections kept per origin. */
  readonly maxIdlePerOrigin: number;
  /** How long a connection may stay idle before it is closed instead of reused. */
  readonly idleTimeoutMs: number;
  /** The clock, in milliseconds. */
  readonly now: () => number;
}

/** Idle connections per origin, newest last; every open connection is tracked for close(). */
export class ConnectionPool {
  readonly #idle = new Map<string, H1Connection[]>();
  readonly #open = new Set<H1Connection>();
  readonly #options: PoolOptions;
  #closed = false;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Tracks a new connection; false (and it is closed) when the pool is closed. */
  add(connection: H1Connection): boolean {
    if (this.#closed) {
      connection.close();
      return false;
    }
    this.#open.add(connection);
    return true;
  }

  /** The newest idle connection to `origin` that is still usable, taken out of the pool. */
  take(origin: string): H1Connection | undefined {
    const list = this.#idle.get(origin);
    if (list === undefined) return undefined;
    const now = this.#options.now();
    for (let connection = list.pop(); connection !== undefined; connection = list.pop()) {
      connection.idle = false;
      if (now - connection.idleSince > this.#options.idleTimeoutMs) {
        this.discard(connection);
        continue;
      }
      connection.reused = true;
      connection.conn.ref();
      return connection;
    }
    return undefined;
  }

  /** Returns a connection whose response was read to its end, to be reused. */
  put(connection: H1Connection): void {
    const { maxIdlePerOrigin, idleTimeoutMs } = this.#options;
    if (this.#closed || connection.closed || connection.wire.buffered > 0) {
      this.discard(connection);
      return;
    }
    let list = this.#idle.get(connection.origin);
    if (list === undefined) this.#idle.set(connection.origin, list = []);
    const now = this.#options.now();
    while (list.length > 0 && now - (list[0] as H1Connection).idleSince > idleTimeoutMs) {
      const oldest = list.shift() as H1Connection;
      oldest.idle = false;
      this.discard(oldest);
    }
    if (list.length >= maxIdlePerOrigin) {
      this.discard(connection);
      return;
    }
    connection.idle = true;
    connection.idleSince = now;
    connection.conn.unref();
    const onSettled = () => {
      if (!connection.idle) return;
      connection.idle = false;
      const index = list.indexOf(connection);
      if (index >= 0) list.splice(index, 1);
      this.discard(connection);
    };
    connection.idleRead = connection.wire.readAhead().then(onSettled, onSettled);
    list.push(connection);
  }

  /** Closes a connection for good. */
  discard(connection: H1Connection): void {
    connection.close();
    this.#open.delete(connection);
  }

  /** Closes every connection, idle or in use, and waits for their pending reads to settle. */
  async close(): Promise<void> {
    this.#closed = true;
    const reads: Promise<unknown>[] = [];
    for (const connection of this.#open) {
      connection.idle = false;
      connection.close();
      if (connection.idleRead !== undefined) reads.push(connection.idleRead);
    }
    this.#open.clear();
    this.#idle.clear();
    await Promise.allSettled(reads);
  }
}
