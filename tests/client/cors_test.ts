/**
 * The cross-origin path of the TypeScript client in a browser, replayed against the real gateway
 * with `CHOREOAI_CORS_ORIGINS` set: the preflight a browser sends for each of the client's
 * requests (its header list derived from what the client really sets), then the requests
 * themselves with an `Origin`, and the response headers a browser would let the client read.
 */
import assert from "node:assert/strict";
import { ChoreoAI, type FetchLike, RateLimitError } from "../../src/client/mod.ts";
import { makeKey } from "../_helpers/keys.ts";
import { SSE_RESPONSE_HEADERS } from "../_helpers/fake_openai.ts";
import { clientFor, gatewayWithKeys, sseEvent, startServer } from "./_helpers.ts";

const ORIGIN = "https://app.example.com";
const OTHER_ORIGIN = "https://evil.example.com";

/** Response headers a browser always lets a script read (Fetch: CORS-safelisted). */
const SAFELISTED_RESPONSE = new Set([
  "cache-control",
  "content-language",
  "content-length",
  "content-type",
  "expires",
  "last-modified",
  "pragma",
]);

/** The gateway headers a browser client must be able to read. */
const MUST_READ = [
  "x-request-id",
  "retry-after",
  "x-choreoai-provider",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "x-should-retry",
  "x-choreoai-budget-remaining-usd",
  "x-choreoai-cost-usd",
];

/** One request as the client hands it to `fetch`: method, path and header names. */
interface ClientRequest {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly headers: readonly string[];
}

/** Every call a browser app makes, run by `client`. */
async function everyCall(client: ChoreoAI): Promise<void> {
  const messages = [{ role: "user" as const, content: "Hello from a page" }];
  await client.chat.completions.create({ model: "choreoai/echo", messages });
  const stream = await client.chat.completions.create({
    model: "choreoai/echo",
    messages,
    stream: true,
  });
  for await (const _ of stream) { /* read to the end */ }
  await client.models.list();
  await client.models.retrieve("choreoai/echo");
  await client.embeddings.create({ model: "choreoai/echo", input: "text" });
  await client.chat.completions.create(
    { model: "choreoai/echo", messages },
    { headers: { "x-request-id": "trace-from-page" } },
  );
}

/**
 * The requests the client makes, captured on their way to `fetch` (so only the headers the
 * client sets, none the runtime adds), against a tiny server that answers each call.
 */
async function captureClientRequests(): Promise<ClientRequest[]> {
  await using server = startServer((request) => {
    const path = new URL(request.url).pathname;
    if (request.headers.get("accept") === "text/event-stream") {
      return new Response(new Blob([sseEvent({ choices: [] }), sseEvent("[DONE]")]), {
        headers: SSE_RESPONSE_HEADERS,
      });
    }
    if (path === "/v1/models") return Response.json({ object: "list", data: [] });
    return Response.json({ object: "whatever" });
  });
  const captured: ClientRequest[] = [];
  const recorder: FetchLike = (input, init) => {
    const request = new Request(input, init);
    captured.push({
      what: `${request.method} ${new URL(request.url).pathname}`,
      method: request.method,
      path: new URL(request.url).pathname,
      headers: [...request.headers.keys()],
    });
    return fetch(request);
  };
  await everyCall(clientFor(server, { fetch: recorder }));
  return captured;
}

/** The preflight a browser sends before `request` (all of the client's headers listed). */
function preflightFor(gatewayUrl: string, request: ClientRequest, origin: string): Request {
  return new Request(`${gatewayUrl}${request.path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": request.method,
      "access-control-request-headers": [...request.headers].sort().join(","),
    },
  });
}

/** Whether a browser's CORS-preflight check passes for `request` (Fetch standard, 4.8). */
function preflightAllows(response: Response, request: ClientRequest): string[] {
  const problems: string[] = [];
  if (response.status < 200 || response.status > 299) problems.push(`status ${response.status}`);
  if (response.headers.get("access-control-allow-origin") !== ORIGIN) {
    problems.push(`allow-origin ${response.headers.get("access-control-allow-origin")}`);
  }
  const list = (name: string) =>
    (response.headers.get(name) ?? "").split(",").map((item) => item.trim().toLowerCase())
      .filter((item) => item !== "");
  const methods = list("access-control-allow-methods");
  if (!methods.includes(request.method.toLowerCase()) && request.method !== "GET") {
    problems.push(`method ${request.method} not in ${methods.join()}`);
  }
  const allowed = list("access-control-allow-headers");
  for (const header of request.headers) {
    // `*` covers every header but Authorization, which must be named.
    const covered = allowed.includes(header) ||
      (allowed.includes("*") && header !== "authorization");
    if (!covered) problems.push(`header ${header} not in ${allowed.join()}`);
  }
  return problems;
}

/** A fetch that adds `Origin` as a browser does, and keeps each response's headers. */
function browserFetch(origin: string): { fetch: FetchLike; responses: Headers[] } {
  const responses: Headers[] = [];
  return {
    responses,
    async fetch(input, init) {
      const request = new Request(input, init);
      request.headers.set("origin", origin);
      const response = await fetch(request);
      responses.push(response.headers);
      return response;
    },
  };
}

/** The response headers a browser script may read, given the CORS headers. */
function readable(headers: Headers): Set<string> {
  const exposed = (headers.get("access-control-expose-headers") ?? "").split(",")
    .map((name) => name.trim().toLowerCase());
  return new Set(
    [...headers.keys()].filter((name) =>
      SAFELISTED_RESPONSE.has(name) || exposed.includes(name) || exposed.includes("*")
    ),
  );
}

Deno.test("CORS: a browser's preflight and requests for the client's calls", async (t) => {
  const captured = await captureClientRequests();
  assert.ok(captured.length >= 6, `captured ${captured.length} requests`);
  const allHeaders = new Set(captured.flatMap((request) => request.headers));
  for (const expected of ["authorization", "accept", "content-type", "x-request-id"]) {
    assert.ok(allHeaders.has(expected), `the client sets ${expected}: ${[...allHeaders]}`);
  }

  const key = makeKey({ rpm: 1_000, tpm: 1_000_000 });
  await using gateway = gatewayWithKeys([key.record], {
    CHOREOAI_CORS_ORIGINS: "https://app.example.com",
  });

  await t.step("each preflight allows the origin, method and every header", async () => {
    for (const request of captured) {
      const response = await fetch(preflightFor(gateway.url, request, ORIGIN));
      await response.body?.cancel();
      assert.deepEqual(preflightAllows(response, request), [], request.what);
      assert.match(response.headers.get("vary") ?? "", /origin/i);
    }
  });

  await t.step("the requests get Allow-Origin and expose what the client reads", async () => {
    const browser = browserFetch(ORIGIN);
    const client = new ChoreoAI({
      apiKey: key.token,
      baseURL: `${gateway.url}/v1`,
      fetch: browser.fetch,
    });
    await everyCall(client);
    assert.equal(browser.responses.length, captured.length);
    for (const headers of browser.responses) {
      assert.equal(headers.get("access-control-allow-origin"), ORIGIN);
      const exposed = (headers.get("access-control-expose-headers") ?? "").split(",")
        .map((name) => name.trim().toLowerCase());
      for (const name of MUST_READ) assert.ok(exposed.includes(name), `${name} not exposed`);
      const visible = readable(headers);
      for (const name of headers.keys()) {
        if (
          name === "x-request-id" || name.startsWith("x-ratelimit-") ||
          name === "x-choreoai-provider"
        ) {
          assert.ok(visible.has(name), `a browser could not read ${name}`);
        }
      }
      assert.ok(visible.has("x-request-id"));
    }
    const chat = browser.responses[0];
    assert.ok(chat !== undefined);
    assert.equal(chat.get("x-choreoai-provider"), "choreoai");
    assert.ok(readable(chat).has("x-ratelimit-remaining-requests"));
  });

  await t.step("a refusal is readable too: 429 with Retry-After", async () => {
    const limited = makeKey({ rpm: 1 });
    await using limitedGateway = gatewayWithKeys([limited.record], {
      CHOREOAI_CORS_ORIGINS: "https://app.example.com",
    });
    const browser = browserFetch(ORIGIN);
    const client = new ChoreoAI({
      apiKey: limited.token,
      baseURL: `${limitedGateway.url}/v1`,
      fetch: browser.fetch,
      maxRetries: 0,
    });
    const chat = () =>
      client.chat.completions.create({
        model: "choreoai/echo",
        messages: [{ role: "user", content: "Hi" }],
      });
    await chat();
    await assert.rejects(chat(), RateLimitError);
    const refused = browser.responses[1];
    assert.ok(refused !== undefined);
    assert.equal(refused.get("access-control-allow-origin"), ORIGIN);
    assert.ok(Number(refused.get("retry-after")) >= 1);
    assert.ok(readable(refused).has("retry-after"));
    assert.ok(readable(refused).has("x-ratelimit-reset-requests"));
  });

  await t.step("another origin gets no CORS headers, on the preflight or the request", async () => {
    const request = captured[0];
    assert.ok(request !== undefined);
    const preflight = await fetch(preflightFor(gateway.url, request, OTHER_ORIGIN));
    await preflight.body?.cancel();
    assert.notDeepEqual(preflightAllows(preflight, request), []);
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    assert.equal(preflight.headers.get("access-control-allow-headers"), null);

    const browser = browserFetch(OTHER_ORIGIN);
    const client = new ChoreoAI({
      apiKey: key.token,
      baseURL: `${gateway.url}/v1`,
      fetch: browser.fetch,
    });
    await client.models.list();
    const headers = browser.responses[0];
    assert.ok(headers !== undefined);
    for (const name of headers.keys()) {
      assert.ok(!name.startsWith("access-control-"), `${name} sent to another origin`);
    }
  });
});
