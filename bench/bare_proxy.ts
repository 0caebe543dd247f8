/**
 * The floor for any Deno gateway: Deno.serve + fetch, forwarding method, headers and body and
 * returning the upstream's response (streams included) untouched.
 *
 *     deno run --allow-net bench/bare_proxy.ts --port 8002 --upstream http://127.0.0.1:8001
 */
const args = Deno.args;
const port = Number(args[args.indexOf("--port") + 1]);
const upstream = args[args.indexOf("--upstream") + 1] ?? "";
if (!Number.isInteger(port) || !upstream.startsWith("http")) {
  throw new Error("usage: bare_proxy.ts --port N --upstream http://host:port");
}

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (request) => {
  const url = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.delete("host");
  return await fetch(upstream + url.pathname + url.search, {
    method: request.method,
    headers,
    body: request.body === null ? null : await request.arrayBuffer(),
  });
});
