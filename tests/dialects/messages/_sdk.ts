/**
 * The official `@anthropic-ai/sdk` client over an injected fetch (no network): it reads the
 * gateway's Messages answers, streams and errors exactly as it would from a server.
 */
import Anthropic from "@anthropic-ai/sdk";

/** A client whose every request is answered by `answer`. */
export function sdkClient(answer: (request: Request) => Response | Promise<Response>): Anthropic {
  return new Anthropic({
    apiKey: "sk-test",
    baseURL: "http://127.0.0.1:9",
    maxRetries: 0,
    fetch: (input: string | URL | Request, init?: RequestInit) =>
      Promise.resolve(answer(new Request(input, init))),
  });
}

/** A client that reads `sse` as the stream of any request. */
export function sdkStreamClient(sse: string): Anthropic {
  return sdkClient(() =>
    new Response(sse, { headers: { "content-type": "text/event-stream; charset=utf-8" } })
  );
}

/** The JSON body the SDK sends for a call (the call's own answer is a minimal message). */
export async function captureSdkRequest(
  call: (client: Anthropic) => Promise<unknown>,
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> | undefined;
  const client = sdkClient(async (request) => {
    body = await request.json();
    return Response.json({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "m",
      content: [],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    });
  });
  await call(client);
  if (body === undefined) throw new Error("The SDK sent no request");
  return body;
}
