/** A port on 127.0.0.1 that was free a moment ago, for a server a test starts as a process. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
