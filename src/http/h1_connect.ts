/**
 * Opening the connections of `h1_client.ts`: TCP (no Nagle delay), then TLS with the URL's host
 * as server name (SNI and certificate check, the default root store plus `caCerts`).
 *
 * `Deno.connect` tries only the first address a name resolves to, where Deno's fetch tries them
 * all; so when the first fails, the name's other addresses (getaddrinfo, as Deno resolves) are
 * tried in turn. One at a time: a first address that swallows packets costs the OS's connect
 * timeout (no "happy eyeballs" race).
 */
import { lookup } from "node:dns/promises";

const IPV4_REGEXP = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** A connection to the URL's origin, given up on (closed if it arrives later) on abort. */
export async function connect(
  url: URL,
  signal: AbortSignal | null,
  caCerts: string[] | undefined,
): Promise<Deno.Conn> {
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const tls = url.protocol === "https:";
  const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
  const connecting: Promise<Deno.Conn> = openTcp(hostname, port).then((
    tcp,
  ): Deno.Conn | Promise<Deno.Conn> =>
    tls ? Deno.startTls(tcp, caCerts === undefined ? { hostname } : { hostname, caCerts }) : tcp
  );
  if (signal === null) return await connecting;
  const aborted = Promise.withResolvers<never>();
  const onAbort = () => aborted.reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([connecting, aborted.promise]);
  } catch (error) {
    connecting.then((conn) => conn.close(), () => {});
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

async function openTcp(hostname: string, port: number): Promise<Deno.TcpConn> {
  try {
    return noDelay(await Deno.connect({ hostname, port }));
  } catch (error) {
    const literal = hostname.includes(":") || IPV4_REGEXP.test(hostname);
    if (literal || error instanceof Deno.errors.NotCapable) throw error;
    let others: string[];
    try {
      others = (await lookup(hostname, { all: true })).slice(1).map((entry) => entry.address);
    } catch {
      throw error;
    }
    for (const address of others) {
      try {
        return noDelay(await Deno.connect({ hostname: address, port }));
      } catch {
        // the next address
      }
    }
    throw error;
  }
}

function noDelay(conn: Deno.TcpConn): Deno.TcpConn {
  conn.setNoDelay(true);
  return conn;
}
