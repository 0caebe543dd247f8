/**
 * The official `openai` client over an injected fetch (no network), and the contexts the
 * Responses translations take: the SDK reads the gateway's answers and streams exactly as it
 * would from a server.
 */
import OpenAI from "openai";
import type { ResponsesContext } from "../../../src/dialects/responses/output.ts";
import { parseResponsesRequest } from "../../../src/dialects/responses/schema.ts";

/** A client whose every request is answered by `answer`. */
export function sdkClient(answer: (request: Request) => Response | Promise<Response>): OpenAI {
  return new OpenAI({
    apiKey: "x",
    baseURL: "http://x/v1",
    maxRetries: 0,
    fetch: (input: string | URL | Request, init?: RequestInit) =>
      Promise.resolve(answer(new Request(input, init))),
  });
}

/** A client that reads `sse` as the stream of any request. */
export function sdkStreamClient(sse: string): OpenAI {
  return sdkClient(() =>
    new Response(sse, { headers: { "content-type": "text/event-stream; charset=utf-8" } })
  );
}

/** The JSON body the SDK sends for a call (the call's own answer is `answer`). */
export async function captureSdkRequest(
  call: (client: OpenAI) => Promise<unknown>,
  answer: unknown = {},
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> | undefined;
  const client = sdkClient(async (request) => {
    body = await request.json();
    return Response.json(answer);
  });
  await call(client).catch(() => {});
  if (body === undefined) throw new Error("The SDK sent no request");
  return body;
}

/** A translation context for a request (parsed, so it must be valid) with numbered item ids. */
export function contextFor(request: Record<string, unknown> = {}): ResponsesContext {
  const parsed = parseResponsesRequest({ model: "smart", input: "Hi", ...request });
  if (!parsed.ok) throw parsed.error;
  let n = 0;
  return {
    id: "resp_01",
    createdAt: 1_767_225_600,
    model: "smart",
    request: parsed.request,
    newItemId: (prefix) => `${prefix}_${++n}`,
  };
}
