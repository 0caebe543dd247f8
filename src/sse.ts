/**
 * Server-sent events: decoding an upstream body into events, encoding events for clients.
 */
import { EventSourceParserStream } from "eventsource-parser/stream";
import type { GatewayError } from "./errors.ts";

/** One parsed SSE event (`event:` name, if any, and its `data:` payload). */
export interface SseEvent {
  readonly event?: string | undefined;
  readonly data: string;
}

/** Bytes → SSE events; accepts `\n`, `\r` and `\r\n` framing. */
export function decodeSse(body: ReadableStream<Uint8Array>): ReadableStream<SseEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream());
}

const encoder = new TextEncoder();

/** Encodes one `data:` event. The payload must not contain newlines (JSON never does). */
export function encodeSseData(data: string): Uint8Array {
  return encoder.encode(`data: ${data}\n\n`);
}

/** The stream terminator OpenAI clients wait for. */
export const SSE_DONE: Uint8Array = encodeSseData("[DONE]");

/** The event that ends a failed stream (DESIGN.md): the OpenAI error body as data, no `[DONE]`. */
export function encodeSseError(error: GatewayError): Uint8Array {
  return encodeSseData(JSON.stringify(error.toJSON()));
}

/** Response headers for an SSE stream (no hop-by-hop headers). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};
