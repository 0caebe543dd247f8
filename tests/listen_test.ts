import assert from "node:assert/strict";
import { describeListenFailure } from "../src/listen.ts";

Deno.test("describeListenFailure() names the address, the reason and the setting to change", async (t) => {
  const cases: { name: string; error: unknown; host: string; port: number; expected: string }[] = [
    {
      name: "port in use",
      error: new Deno.errors.AddrInUse("Address already in use (os error 98)"),
      host: "127.0.0.1",
      port: 8000,
      expected: "Cannot listen on 127.0.0.1:8000 (CHOREOAI_HOST=127.0.0.1, CHOREOAI_PORT=8000): " +
        "the address is already in use by another process; stop it, or set CHOREOAI_PORT to a " +
        "free port",
    },
    {
      name: "IPv6 address in brackets",
      error: new Deno.errors.AddrInUse("Address already in use (os error 98)"),
      host: "::1",
      port: 8000,
      expected: "Cannot listen on [::1]:8000 (CHOREOAI_HOST=::1, CHOREOAI_PORT=8000): " +
        "the address is already in use by another process; stop it, or set CHOREOAI_PORT to a " +
        "free port",
    },
    {
      name: "host not on this machine",
      error: new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)"),
      host: "10.9.9.9",
      port: 8000,
      expected: "Cannot listen on 10.9.9.9:8000 (CHOREOAI_HOST=10.9.9.9, CHOREOAI_PORT=8000): " +
        "the address is not one of this machine's; set CHOREOAI_HOST to one of its addresses, " +
        "or 0.0.0.0 for all of them",
    },
    {
      name: "privileged port",
      error: new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
      host: "0.0.0.0",
      port: 80,
      expected: "Cannot listen on 0.0.0.0:80 (CHOREOAI_HOST=0.0.0.0, CHOREOAI_PORT=80): " +
        "ports below 1024 need privileges (root or CAP_NET_BIND_SERVICE); set CHOREOAI_PORT to " +
        "1024 or above",
    },
    {
      name: "anything else: the system's reason, without its errno",
      error: new Error("failed to lookup address information: Name or service not known"),
      host: "nosuch.invalid",
      port: 8000,
      expected: "Cannot listen on nosuch.invalid:8000 (CHOREOAI_HOST=nosuch.invalid, " +
        "CHOREOAI_PORT=8000): failed to lookup address information: Name or service not known; " +
        "check CHOREOAI_HOST and CHOREOAI_PORT",
    },
    {
      name: "errno suffix dropped",
      error: new TypeError("Invalid argument (os error 22)"),
      host: "fe80::1",
      port: 8000,
      expected: "Cannot listen on [fe80::1]:8000 (CHOREOAI_HOST=fe80::1, CHOREOAI_PORT=8000): " +
        "Invalid argument; check CHOREOAI_HOST and CHOREOAI_PORT",
    },
  ];
  for (const { name, error, host, port, expected } of cases) {
    await t.step(name, () => assert.equal(describeListenFailure(error, { host, port }), expected));
  }
});
