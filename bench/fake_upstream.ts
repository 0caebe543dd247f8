/**
 * A fast fake OpenAI upstream for the benchmark.
 *
 *     deno run --allow-net bench/fake_upstream.ts --port 8001 [--delay-ms 0]
 *
 * `POST /v1/chat/completions` answers a fixed `chat.completion` (precomputed bytes), or, when
 * the body asks for `"stream": true`, an SSE stream of about 20 chunk events and `data: [DONE]`,
 * each event its own write, `--delay-ms` apart (0: as fast as possible); a streamed request
 * for the paced model (`PACED_MODEL`) gets 20 content events `PACED_DELAY_MS` apart instead,
 * as the nginx upstream does. Any key is accepted.
 * `GET /health` answers 200 so the runner can tell it is up. Everything is precomputed so that
 * the upstream costs as little CPU per request as Deno.serve allows.
 */
import { completionJson, PACED_DELAY_MS, PACED_MODEL, streamEvents } from "./fixtures.ts";

const encoder = new TextEncoder();
const COMPLETION = encoder.encode(completionJson());
const EVENTS = streamEvents().map((event) => encoder.encode(event));
const PACED_EVENTS = streamEvents(true).map((event) => encoder.encode(event));
const STREAM_FLAG = /"stream"\s*:\s*true/;
const PACED_FLAG = `"${PACED_MODEL}"`;
const JSON_HEADERS = { "content-type": "application/json", "x-request-id": "req_fake" };
const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-request-id": "req_fake",
};

function option(name: string, fallback: number): number {
  const index = Deno.args.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(Deno.args[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} needs a whole number`);
  return value;
}

/** The SSE body: one event per pull, `delayMs` between events. */
function eventStream(events: readonly Uint8Array[], delayMs: number): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (delayMs > 0 && next > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const event = events[next++];
      if (event !== undefined) controller.enqueue(event);
      if (next >= events.length) controller.close();
    },
  }, { highWaterMark: 0 });
}

/** The fake upstream's request handler. */
export function createFakeUpstream(delayMs: number): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "POST" && path === "/v1/chat/completions") {
      const body = await request.text();
      if (STREAM_FLAG.test(body)) {
        const stream = body.includes(PACED_FLAG)
          ? eventStream(PACED_EVENTS, PACED_DELAY_MS)
          : eventStream(EVENTS, delayMs);
        return new Response(stream, { headers: SSE_HEADERS });
      }
      return new Response(COMPLETION, { headers: JSON_HEADERS });
    }
    if (path === "/health") return new Response("ok");
    return new Response('{"error":{"message":"not found","type":"invalid_request_error"}}', {
      status: 404,
      headers: JSON_HEADERS,
    });
  };
}

if (import.meta.main) {
  const port = option("--port", 0);
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: () => {},
  }, createFakeUpstream(option("--delay-ms", 0)));
}
