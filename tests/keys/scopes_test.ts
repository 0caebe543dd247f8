import assert from "node:assert/strict";
import { compileIpScope, isLoopback, resolveClientIp } from "../../src/keys/scopes.ts";

Deno.test("resolveClientIp() believes X-Forwarded-For only from trusted proxies", async (t) => {
  const trusted = compileIpScope(["10.0.0.0/8", "::1"]);
  const cases: [string, string | undefined, string | null, string | undefined][] = [
    ["no proxy header: the peer", "203.0.113.9", null, "203.0.113.9"],
    ["untrusted peer: header ignored", "203.0.113.9", "1.2.3.4", "203.0.113.9"],
    ["trusted peer: rightmost untrusted hop", "10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"],
    [
      "trusted hops skipped from the right",
      "10.0.0.2",
      "1.2.3.4, 198.51.100.7, 10.0.0.5",
      "198.51.100.7",
    ],
    ["a spoofed left part is not believed", "10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"],
    ["all hops trusted: the leftmost", "10.0.0.2", "10.0.0.9, 10.0.0.5", "10.0.0.9"],
    ["IPv6 trusted peer", "::1", "2001:db8::5", "2001:db8::5"],
    ["IPv4-mapped trusted peer", "::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"],
    ["no peer", undefined, "1.2.3.4", undefined],
  ];
  for (const [name, peer, header, expected] of cases) {
    await t.step(name, () => assert.equal(resolveClientIp(peer, header, trusted), expected));
  }
  await t.step("no trusted proxies configured: always the peer", () => {
    assert.equal(resolveClientIp("10.0.0.2", "1.2.3.4", compileIpScope([])), "10.0.0.2");
  });
});

Deno.test("compileIpScope() with IPv4-mapped IPv6 rules and single addresses", async (t) => {
  const cases: [string[], string, boolean][] = [
    [["::ffff:10.0.0.0/104"], "10.9.9.9", true],
    [["::ffff:10.0.0.0/104"], "11.0.0.1", false],
    [["::ffff:192.0.2.1"], "192.0.2.1", true],
    [["2001:db8::1"], "2001:db8::1", true],
    [["2001:db8::1"], "2001:db8::2", false],
    [["0.0.0.0/0"], "8.8.8.8", true],
    [["0.0.0.0/0"], "2001:db8::1", false],
    [["::/0"], "2001:db8::1", true],
    [[], "127.0.0.1", false],
  ];
  for (const [rules, ip, ok] of cases) {
    await t.step(`${rules.join(",") || "(none)"} ∋ ${ip}: ${ok}`, () => {
      assert.equal(compileIpScope(rules)(ip), ok);
    });
  }
  await t.step(
    "null rules allow everything",
    () => assert.equal(compileIpScope(null)("8.8.8.8"), true),
  );
});

Deno.test("isLoopback() is true for 127.0.0.0/8, ::1 and IPv4-mapped 127.x only", async (t) => {
  const cases: [string | undefined, boolean][] = [
    ["127.0.0.1", true],
    ["127.255.3.4", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["10.0.0.5", false],
    ["128.0.0.1", false],
    ["0.0.0.0", false],
    ["::", false],
    ["::2", false],
    ["::ffff:10.0.0.5", false],
    ["fe80::1", false],
    ["localhost", false],
    ["", false],
    [undefined, false],
  ];
  for (const [ip, loopback] of cases) {
    await t.step(String(ip), () => assert.equal(isLoopback(ip), loopback));
  }
});
