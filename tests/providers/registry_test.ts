import assert from "node:assert/strict";
import { adapterFor, type ProviderKind } from "../../src/providers/registry.ts";

Deno.test("adapterFor() names a declared provider in its adapter and its error messages", async (t) => {
  const cases: [ProviderKind, Record<string, unknown>][] = [
    ["openai-compatible", { error: { message: "overloaded", type: "server_error" } }],
    ["azure", { error: { code: "500", message: "overloaded" } }],
    ["anthropic", { type: "error", error: { type: "api_error", message: "overloaded" } }],
    ["gemini", { error: { code: 500, message: "overloaded", status: "INTERNAL" } }],
  ];
  for (const [kind, body] of cases) {
    await t.step(kind, () => {
      const adapter = adapterFor(kind, "team-eu");
      assert.equal(adapter.name, "team-eu");
      const error = adapter.fromError(500, body, new Headers());
      assert.equal(error.status, 502);
      assert.match(error.message, /^team-eu: /, error.message);
      assert.match(error.message, /overloaded/);
      const denied = adapter.fromError(401, body, new Headers());
      assert.match(denied.message, /The team-eu provider rejected the gateway's credentials/);
    });
  }
  await t.step("a built-in name gets the built-in adapter", () => {
    assert.equal(adapterFor("anthropic", "anthropic").name, "anthropic");
    assert.equal(adapterFor("openai-compatible", "openai").name, "openai");
  });
});
