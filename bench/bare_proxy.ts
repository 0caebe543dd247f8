/**
 * The floor for any Deno gateway: Deno.serve + fetch, forwarding method, headers and body and
 * returning the upstream's response (streams included) untouched.
 *
 *     deno run --allow-net bench/bare_proxy.ts --port 8002 --upstream http://127.0.0.1:8001
 *
 * `--client h1` forwards with the HTTP/1.1 client of `src/http/h1_client.ts` instead of Deno's
 * fetch (to compare their CPU per request).
 */
import { createHttp1Fetch } from "../src/http/h1_client.ts";

const args = Deno.args;
const port = Number(args[args.indexOf("--port") + 1]);
const upstream = args[args.indexOf("--upstream") + 1] ?? "";
const client = args.includes("--client") ? args[args.indexOf("--client") + 1] ?? "" : "fetch";
if (!Number.isInteger(port) || !upstream.startsWith("http") || !["fetch", "h1"].includes(client)) {
  throw new Error("usage: bare_proxy.ts --port N --upstream http://host:port [--client fetch|h1]");
}
const forward: typeof fetch = client === "h1" ? createHttp1Fetch() : fetch;

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete("host");
  return await forward(upstream + url.pathname + url.search, {
    method: request.method,
    headers,
    body: request.body === null ? null : await request.arrayBuffer(),
  });
});
