/**
 * Key scopes: which models, endpoints and client IPs a key may use. Pure.
 */
import ipaddr from "ipaddr.js";

/** A compiled model scope: exact names and `prefix*` patterns, matched on the name sent. */
export function compileModelScope(patterns: readonly string[] | null): (model: string) => boolean {
  if (patterns === null) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith("*")));
  const prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  return (model) => exact.has(model) || prefixes.some((prefix) => model.startsWith(prefix));
}

/** A compiled endpoint scope: exact paths. */
export function compileEndpointScope(paths: readonly string[] | null): (path: string) => boolean {
  if (paths === null) return () => true;
  const allowed = new Set(paths.map((p) => (p.length > 1 ? p.replace(/\/+$/, "") : p)));
  return (path) => allowed.has(path);
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Whether a rule is an IPv4 or IPv6 address or CIDR (`10.0.0.0/8`, `2001:db8::/32`). */
export function isIpOrCidr(value: string): boolean {
  try {
    if (value.includes("/")) ipaddr.parseCIDR(value);
    else ipaddr.parse(value);
    return true;
  } catch {
    return false;
  }
}

/** Parses an address, turning an IPv4-mapped IPv6 address into its IPv4 form. */
export function parseIp(value: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = value.replace(/^\[|\]$/g, "");
  if (!ipaddr.isValid(bare)) return undefined;
  return ipaddr.process(bare);
}

/** Whether an address is loopback: 127.0.0.0/8, `::1`, or IPv4-mapped `::ffff:127.x.x.x`. */
export function isLoopback(ip: string | undefined): boolean {
  const address = ip === undefined ? undefined : parseIp(ip);
  return address?.range() === "loopback";
}

function parseRange(rule: string): Range {
  if (!rule.includes("/")) {
    const address = ipaddr.parse(rule);
    const mapped = address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress();
    if (mapped) return [(address as ipaddr.IPv6).toIPv4Address(), 32];
    return [address, address.kind() === "ipv4" ? 32 : 128];
  }
  const [address, bits] = ipaddr.parseCIDR(rule);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

/** A compiled IP allowlist: IPv4 and IPv6 CIDRs; IPv4-mapped IPv6 matches IPv4 rules. */
export function compileIpScope(
  rules: readonly string[] | null,
): (ip: string | undefined) => boolean {
  if (rules === null) return () => true;
  const ranges = rules.map(parseRange);
  return (ip) => {
    const address = ip === undefined ? undefined : parseIp(ip);
    if (address === undefined) return false;
    return ranges.some(([base, bits]) =>
      base.kind() === address.kind() && address.match(base as never, bits)
    );
  };
}

/**
 * The client's address: the socket peer, or, when the peer is a trusted proxy, the first address
 * of `X-Forwarded-For` read from the right that is not itself a trusted proxy.
 */
export function resolveClientIp(
  peer: string | undefined,
  forwardedFor: string | null,
  trusted: (ip: string | undefined) => boolean,
): string | undefined {
  if (peer === undefined || forwardedFor === null || !trusted(peer)) return peer;
  const hops = forwardedFor.split(",").map((hop) => hop.trim()).filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (!trusted(hop)) return hop;
  }
  return hops[0] ?? peer;
}
