/**
 * A proxy on 127.0.0.1 that records the first line of every request and refuses it (403), for the
 * tests that run a real client (Claude Code, Codex) with every proxy variable pointing at it: what
 * it saw is what the client tried to send anywhere but 127.0.0.1 (NO_PROXY).
 */

/** A running recording proxy. */
export interface RecordingProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, for HTTP_PROXY, HTTPS_PROXY and ALL_PROXY. */
  readonly url: string;
  /** The first line of each request, such as `CONNECT api.example.com:443 HTTP/1.1`. */
  readonly seen: string[];
}

/** Starts the proxy on a free port. */
export function startRecordingProxy(): RecordingProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const handled: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      handled.push((async () => {
        const buffer = new Uint8Array(4096);
        const read = await conn.read(buffer).catch(() => null);
        if (read !== null) {
          seen.push(new TextDecoder().decode(buffer.subarray(0, read)).split("\r\n")[0] ?? "");
        }
        const refusal = "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        await conn.write(new TextEncoder().encode(refusal)).catch(() => 0);
        conn.close();
      })());
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    seen,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(handled);
    },
  };
}

/** Every proxy variable, upper and lower case, pointing at `proxyUrl`; NO_PROXY 127.0.0.1. */
export function proxyEnv(proxyUrl: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]) {
    env[name] = proxyUrl;
    env[name.toLowerCase()] = proxyUrl;
  }
  return { ...env, NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1" };
}
