/**
 * Server-sent events: decoding an upstream body into events, encoding events for clients.
 */
import { createParser } from "eventsource-parser";
import type { GatewayError } from "./errors.ts";

/** One parsed SSE event (`event:` name, if any, and its `data:` payload). */
export interface SseEvent {
  readonly event?: string | undefined;
  readonly data: string;
}

/** A push decoder: bytes in as they arrive, events out through the callback, synchronously. */
export interface SseDecoder {
  /** Decodes one chunk of the body; complete events are delivered before this returns. */
  feed(bytes: Uint8Array): void;
  /** The body ended: a last event without its blank line is still delivered. */
  end(): void;
}

/** Longest event the decoder buffers (a provider streaming one endless line is cut off). */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * Creates a decoder that accepts `\n`, `\r` and `\r\n` framing, multi-line data and comments,
 * as a browser's EventSource does. `onComment` hears keep-alive comments (`: ping`); `onError`
 * is told when an event exceeds {@linkcode MAX_EVENT_CHARS}, and the decoder then drops the rest.
 */
export function createSseDecoder(
  onEvent: (event: SseEvent) => void,
  onError: (message: string) => void,
  onComment: () => void = () => {},
): SseDecoder {
  const text = new TextDecoder();
  let failed = false;
  const parser = createParser({
    onEvent: (message) => onEvent({ event: message.event, data: message.data }),
    onComment,
    onError: (error) => {
      // Unknown fields and bad `retry:` values are ignored, as a browser does; only an event
      // past the size limit ends decoding.
      if (error.type !== "max-buffer-size-exceeded") return;
      failed = true;
      onError(error.message);
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  return {
    feed(bytes) {
      if (!failed) parser.feed(text.decode(bytes, { stream: true }));
    },
    end() {
      // A body that stops right after its last line still delivers that event.
      if (!failed) parser.feed(`${text.decode()}\n\n`);
    },
  };
}

/** The stream terminator OpenAI clients wait for. */
export const SSE_DONE = "data: [DONE]\n\n";

/** Formats one `data:` event. The payload must not contain newlines (JSON never does). */
export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}

/**
 * Formats an event as a provider framed it: its `event:` name when it has one, then its data
 * unchanged (a multi-line payload as several `data:` lines).
 */
export function sseEvent(event: SseEvent): string {
  const data = event.data.includes("\n")
    ? event.data.split("\n").map((line) => `data: ${line}`).join("\n")
    : `data: ${event.data}`;
  return event.event === undefined ? `${data}\n\n` : `event: ${event.event}\n${data}\n\n`;
}

/** The event that ends a failed stream (DESIGN.md): the OpenAI error body as data, no `[DONE]`. */
export function sseError(error: GatewayError): string {
  return sseData(JSON.stringify(error.toJSON()));
}

/** Response headers for an SSE stream (no hop-by-hop headers). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};
