/**
 * Response bodies of `h1_client.ts` that are not read whole up front: a ReadableStream that reads
 * from the socket on pull, gives the connection back once the body ends, and closes it when the
 * stream is cancelled, errors, or is dropped unread (garbage collected).
 */

/** Where a streamed body's pieces come from. */
export interface PieceSource {
  /** The next piece, or null at the end of the body. */
  next(): Promise<Uint8Array | null>;
  /** Whether the body has ended (checked after each piece, so the end needs no extra read). */
  ended(): boolean;
}

/** What owns a streamed body's connection. */
export interface BodyOwner {
  /** The stream's controller, for an abort to error it. */
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The body ended (reuse the connection when allowed) or was cancelled (close it). */
  finish(complete: boolean): void;
  /** Closes the connection and turns a read failure into the error the stream reports. */
  fail(error: unknown): unknown;
}

/** Closes connections of bodies nobody read to the end or cancelled. */
const unread = new FinalizationRegistry<() => void>((close) => close());

/**
 * A body stream: `first` (when not empty) and then the source's pieces. `onLost` runs if the
 * stream is garbage collected before it ended.
 */
export function bodyStream(
  owner: BodyOwner,
  first: Uint8Array | undefined,
  options: { source: PieceSource; onLost: () => void },
): ReadableStream<Uint8Array> {
  const { source } = options;
  const token = {};
  const end = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    unread.unregister(token);
    owner.finish(true);
    controller.close();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      owner.controller = controller;
      if (first !== undefined && first.length > 0) controller.enqueue(first);
    },
    async pull(controller) {
      try {
        const piece = await source.next();
        if (piece === null) return end(controller);
        controller.enqueue(piece);
        if (source.ended()) end(controller);
      } catch (error) {
        unread.unregister(token);
        controller.error(owner.fail(error));
      }
    },
    cancel() {
      unread.unregister(token);
      owner.finish(false);
    },
  }, { highWaterMark: 0 });
  unread.register(stream, options.onLost, token);
  return stream;
}

const DECODERS: Readonly<Record<string, CompressionFormat>> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
  br: "brotli" as CompressionFormat,
};

/**
 * The body decoded per its `Content-Encoding` (gzip, deflate, br), for a client that did not ask
 * for an encoding itself (a server may compress unasked); undefined for an encoding it does not
 * know, which passes through untouched. The caller drops `content-encoding` and
 * `content-length`, which no longer describe the body.
 */
export function decodeContent(
  body: ReadableStream<Uint8Array> | Uint8Array,
  encoding: string,
): ReadableStream<Uint8Array> | undefined {
  const format = DECODERS[encoding.trim().toLowerCase()];
  if (format === undefined) return undefined;
  const stream = body instanceof Uint8Array ? new Blob([body as BlobPart]).stream() : body;
  return stream.pipeThrough(
    new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
  );
}
