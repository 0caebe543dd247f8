/**
 * Why the gateway could not open its listening socket, said for the operator who set
 * `CHOREOAI_HOST` and `CHOREOAI_PORT`.
 */

/** The address the gateway tried to listen on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function reasonOf(error: unknown, port: number): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return "the address is already in use by another process; stop it, or set CHOREOAI_PORT " +
      "to a free port";
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return "the address is not one of this machine's; set CHOREOAI_HOST to one of its " +
      "addresses, or 0.0.0.0 for all of them";
  }
  if (error instanceof Deno.errors.PermissionDenied && port < 1024) {
    return "ports below 1024 need privileges (root or CAP_NET_BIND_SERVICE); set CHOREOAI_PORT " +
      "to 1024 or above";
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${message.replace(/ \(os error \d+\)$/, "")}; check CHOREOAI_HOST and CHOREOAI_PORT`;
}

/**
 * One plain sentence for a failure to listen: the address, why, and which setting to change.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeListenFailure } from "./listen.ts";
 *
 * const error = new Deno.errors.AddrInUse("Address already in use (os error 98)");
 * assert.match(describeListenFailure(error, { host: "127.0.0.1", port: 8000 }), /127\.0\.0\.1:8000/);
 * ```
 */
export function describeListenFailure(error: unknown, address: ListenAddress): string {
  return `Cannot listen on ${formatAddress(address)} (CHOREOAI_HOST=${address.host}, ` +
    `CHOREOAI_PORT=${address.port}): ${reasonOf(error, address.port)}`;
}
