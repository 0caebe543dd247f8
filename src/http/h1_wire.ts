/**
 * A buffered reader over a connection, and the response reads of `h1_client.ts` built on it:
 * the head, a body of known length, chunked pieces, pieces until the connection closes.
 */
import { findHeadEnd, parseHead, ProtocolError } from "./h1_parse.ts";
import type { ChunkedDecoder, ResponseHead } from "./h1_parse.ts";

/** Where bytes come from: a `Deno.Conn`, or a fake in tests. */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/** The connection ended before the response did. */
export class ConnectionClosed extends Error {
  override name = "ConnectionClosed";
}

/** The largest piece of a streamed body read at once. */
const MAX_PIECE_BYTES = 64 * 1024;

/** A read buffer over a {@linkcode ByteSource}: bytes `buf[start, end)` are unread. */
export class Wire {
  buf: Uint8Array;
  start = 0;
  end = 0;
  /** Bytes read since the last {@linkcode Wire.readAhead}: 0 means no response byte yet. */
  received = 0;
  readonly source: ByteSource;
  #pending: Promise<number | null> | undefined;

  constructor(source: ByteSource, size = 16 * 1024) {
    this.source = source;
    this.buf = new Uint8Array(size);
  }

  /** Unread bytes in the buffer. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Starts the next read into the (empty) buffer while the connection is idle; the next
   * {@linkcode Wire.fill} takes its result. The promise settles when bytes, an EOF or an error
   * arrive — on an idle connection, each means it is no longer usable.
   */
  readAhead(): Promise<number | null> {
    this.start = 0;
    this.end = 0;
    this.received = 0;
    this.#pending = this.source.read(this.buf);
    return this.#pending;
  }

  /** Reads more bytes into the buffer (compacting or growing it); false at the end of input. */
  async fill(): Promise<boolean> {
    let read = this.#pending;
    this.#pending = undefined;
    if (read === undefined) {
      if (this.start === this.end) {
        this.start = 0;
        this.end = 0;
      } else if (this.end === this.buf.length) {
        if (this.start > 0) {
          this.buf.copyWithin(0, this.start, this.end);
        } else {
          const grown = new Uint8Array(this.buf.length * 2);
          grown.set(this.buf);
          this.buf = grown;
        }
        this.end -= this.start;
        this.start = 0;
      }
      read = this.source.read(this.buf.subarray(this.end));
    }
    const n = await read;
    if (n === null) return false;
    this.end += n;
    this.received += n;
    return true;
  }

  /** Moves up to `max` buffered bytes into a new array. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.end - this.start);
    const bytes = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return bytes;
  }
}

/** Reads and parses the next response head; throws {@linkcode ConnectionClosed} at EOF. */
export async function readHead(wire: Wire, maxBytes: number): Promise<ResponseHead> {
  let scanned = 0;
  for (;;) {
    const end = findHeadEnd(wire.buf, wire.start + scanned, wire.end);
    if (end >= 0) {
      const head = parseHead(wire.buf, wire.start, end);
      wire.start = end;
      return head;
    }
    if (wire.buffered > maxBytes) throw new ProtocolError("Response head too large");
    scanned = Math.max(0, wire.buffered - 3);
    if (!await wire.fill()) {
      throw new ConnectionClosed(
        wire.received === 0
          ? "Connection closed before a response arrived"
          : "Connection closed in the middle of a response head",
      );
    }
  }
}

/** Reads exactly `length` body bytes. */
export async function readFixed(wire: Wire, length: number): Promise<Uint8Array> {
  if (wire.buffered >= length) return wire.take(length);
  const body = new Uint8Array(length);
  let filled = wire.buffered;
  body.set(wire.buf.subarray(wire.start, wire.end));
  wire.start = wire.end;
  while (filled < length) {
    const n = await wire.source.read(body.subarray(filled));
    if (n === null) throw new ConnectionClosed("Connection closed before the body ended");
    filled += n;
    wire.received += n;
  }
  return body;
}

/**
 * The next piece of a body of `remaining` bytes (Infinity: until the connection closes), or
 * null when the connection closed (an error for a body of known length).
 */
export async function nextPiece(wire: Wire, remaining: number): Promise<Uint8Array | null> {
  if (wire.buffered > 0) return wire.take(remaining);
  const piece = new Uint8Array(Math.min(remaining, MAX_PIECE_BYTES));
  const n = await wire.source.read(piece);
  if (n === null) {
    if (remaining === Infinity) return null;
    throw new ConnectionClosed("Connection closed before the body ended");
  }
  wire.received += n;
  return n === piece.length ? piece : piece.subarray(0, n);
}

/** Decodes the buffered bytes of a chunked body into one new array (maybe empty). */
export function decodeBuffered(wire: Wire, decoder: ChunkedDecoder): Uint8Array {
  const pieces: Uint8Array[] = [];
  wire.start = decoder.decode(wire.buf, wire.start, wire.end, pieces);
  if (pieces.length === 1) return (pieces[0] as Uint8Array).slice();
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    bytes.set(piece, offset);
    offset += piece.length;
  }
  return bytes;
}

/** The next non-empty piece of a chunked body, or null after its last chunk. */
export async function nextChunk(wire: Wire, decoder: ChunkedDecoder): Promise<Uint8Array | null> {
  for (;;) {
    if (wire.buffered > 0) {
      const bytes = decodeBuffered(wire, decoder);
      if (bytes.length > 0) return bytes;
    }
    if (decoder.done) return null;
    if (!await wire.fill()) throw new ConnectionClosed("Connection closed before the body ended");
  }
}
