/**
 * HTTP/1.1 response framing, pure and incremental: finding and parsing a response head, and
 * decoding a `Transfer-Encoding: chunked` body (RFC 9112). Used by `h1_client.ts`.
 */

/** A response that breaks HTTP/1.1 framing. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** A parsed response head. Header names are lowercased; values are byte strings. */
export interface ResponseHead {
  /** The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: number;
  readonly status: number;
  readonly statusText: string;
  /** Name, value pairs in arrival order (repeated names repeated). */
  readonly headers: [string, string][];
}

const LF = 10;
const CR = 13;

/**
 * The index just past the empty line that ends a head within `bytes[from, to)`, or -1.
 * Lines may end in CRLF or a bare LF.
 */
export function findHeadEnd(bytes: Uint8Array, from: number, to: number): number {
  let i = bytes.indexOf(LF, from);
  while (i >= 0 && i < to) {
    if (i + 1 < to && bytes[i + 1] === LF) return i + 2;
    if (i + 2 < to && bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
    i = bytes.indexOf(LF, i + 1);
  }
  return -1;
}

/** Bytes as a string of char codes 0–255 (header bytes are byte strings, as in fetch). */
export function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return text;
}

const STATUS_LINE_REGEXP = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/;

/** Parses the head in `bytes[from, to)` (as delimited by {@linkcode findHeadEnd}). */
export function parseHead(bytes: Uint8Array, from: number, to: number): ResponseHead {
  const lines = latin1(bytes.subarray(from, to)).split("\n");
  const statusLine = trimCr(lines[0] ?? "");
  const match = STATUS_LINE_REGEXP.exec(statusLine);
  if (match === null) {
    throw new ProtocolError(`Malformed status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  }
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = trimCr(lines[i] as string);
    if (line === "") continue; // the final empty line(s)
    const colon = line.indexOf(":");
    const first = line.charCodeAt(0);
    if (colon <= 0 || first === 32 || first === 9) {
      throw new ProtocolError(`Malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    headers.push([line.slice(0, colon).toLowerCase(), trimOws(line.slice(colon + 1))]);
  }
  return {
    minor: match[1] === "1" ? 1 : 0,
    status: Number(match[2]),
    statusText: match[3] ?? "",
    headers,
  };
}

function trimCr(line: string): string {
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) {
    end--;
  }
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

// Decoder states.
const SIZE = 0;
const EXTENSION = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER_LINE = 7;
const TRAILER_LF = 8;
const DONE = 9;

/** The longest chunk-size line extension and trailer section accepted. */
const MAX_EXTRA_BYTES = 64 * 1024;

/**
 * An incremental `Transfer-Encoding: chunked` decoder. Feed it bytes with
 * {@linkcode ChunkedDecoder.decode}; it pushes the data it finds (views into the input) and stops
 * right after the last chunk's trailer section.
 */
export class ChunkedDecoder {
  #state = SIZE;
  #size = 0;
  #digits = 0;
  #extra = 0;

  /** Whether the terminating chunk and the trailer section have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Decodes `bytes[from, to)`, pushing data views onto `out`. Returns the index where decoding
   * stopped: `to`, or less once done (the bytes after the body).
   */
  decode(bytes: Uint8Array, from: number, to: number, out: Uint8Array[]): number {
    let i = from;
    while (i < to) {
      const state = this.#state;
      if (state === DATA) {
        const n = Math.min(this.#size, to - i);
        out.push(bytes.subarray(i, i + n));
        i += n;
        this.#size -= n;
        if (this.#size === 0) this.#state = DATA_CR;
        continue;
      }
      if (state === DONE) return i;
      const byte = bytes[i++] as number;
      switch (state) {
        case SIZE: {
          const digit = hexValue(byte);
          if (digit >= 0) {
            if (++this.#digits > 13) throw new ProtocolError("Chunk size too large");
            this.#size = this.#size * 16 + digit;
          } else if (this.#digits === 0) {
            throw new ProtocolError("Malformed chunk size");
          } else if (byte === CR) {
            this.#state = SIZE_LF;
          } else if (byte === LF) {
            this.#endSizeLine();
          } else if (byte === 59 || byte === 32 || byte === 9) { // ';', space, tab
            this.#state = EXTENSION;
          } else {
            throw new ProtocolError("Malformed chunk size");
          }
          break;
        }
        case EXTENSION:
          if (byte === LF) this.#endSizeLine();
          else this.#countExtra();
          break;
        case SIZE_LF:
          if (byte !== LF) throw new ProtocolError("Malformed chunk size line");
          this.#endSizeLine();
          break;
        case DATA_CR:
          if (byte === CR) this.#state = DATA_LF;
          else if (byte === LF) this.#startSize();
          else throw new ProtocolError("Chunk data longer than its size");
          break;
        case DATA_LF:
          if (byte !== LF) throw new ProtocolError("Chunk data longer than its size");
          this.#startSize();
          break;
        case TRAILER_START:
          if (byte === CR) this.#state = TRAILER_LF;
          else if (byte === LF) this.#state = DONE;
          else {
            this.#countExtra();
            this.#state = TRAILER_LINE;
          }
          break;
        case TRAILER_LINE:
          if (byte === LF) this.#state = TRAILER_START;
          else this.#countExtra();
          break;
        case TRAILER_LF:
          if (byte !== LF) throw new ProtocolError("Malformed chunked trailer");
          this.#state = DONE;
          break;
      }
    }
    return i;
  }

  #endSizeLine(): void {
    this.#state = this.#size === 0 ? TRAILER_START : DATA;
  }

  #startSize(): void {
    this.#state = SIZE;
    this.#size = 0;
    this.#digits = 0;
  }

  #countExtra(): void {
    if (++this.#extra > MAX_EXTRA_BYTES) {
      throw new ProtocolError("Chunk extensions or trailers too long");
    }
  }
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}
