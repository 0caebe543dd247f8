/**
 * One request/response exchange of `h1_client.ts` on one connection: the abort hook, the
 * connection's fate (reused or closed), and the Response built from a head just read.
 */
import { type BodyOwner, bodyStream, decodeContent } from "./h1_body.ts";
import { ChunkedDecoder, ProtocolError, type ResponseHead } from "./h1_parse.ts";
import type { ConnectionPool, H1Connection } from "./h1_pool.ts";
import { hasHeader, type OutgoingRequest } from "./h1_request.ts";
import { decodeBuffered, nextChunk, nextPiece, readFixed } from "./h1_wire.ts";

/** One request and response on one connection: the abort hook and the connection's fate. */
export class Exchange implements BodyOwner {
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

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** The Response for a head just read: framing per RFC 9112 §6.3. */
export async function respond(
  current: Exchange,
  request: OutgoingRequest,
  head: ResponseHead,
  settings: { readonly pool: ConnectionPool; readonly wholeBodyBytes: number },
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
  if (body !== null && encoding !== undefined && !hasHeader(request.headers, "accept-encoding")) {
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
