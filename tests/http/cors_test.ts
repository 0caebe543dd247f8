import assert from "node:assert/strict";
import {
  addCorsHeaders,
  createCorsPolicy,
  isPreflight,
  preflightResponse,
} from "../../src/http/cors.ts";

const URL_ = "http://gateway.test/v1/chat/completions";

Deno.test("createCorsPolicy() allows only the configured origins", async (t) => {
  const cases: [string, string[], string | null, string | null][] = [
    ["no origins configured", [], "https://app.example.com", null],
    ["no origins configured, * not implied", [], "null", null],
    [
      "a listed origin",
      ["https://app.example.com"],
      "https://app.example.com",
      "https://app.example.com",
    ],
    ["an unlisted origin", ["https://app.example.com"], "https://evil.example.com", null],
    ["a subdomain is another origin", ["https://example.com"], "https://app.example.com", null],
    ["the scheme matters", ["https://app.example.com"], "http://app.example.com", null],
    ["the port matters", ["http://localhost:3000"], "http://localhost:5173", null],
    [
      "a suffix is another origin",
      ["https://app.example.com"],
      "https://app.example.com.evil.test",
      null,
    ],
    [
      "one of several",
      ["https://a.example.com", "http://localhost:3000"],
      "http://localhost:3000",
      "http://localhost:3000",
    ],
    [
      "configured with a trailing slash",
      ["https://app.example.com/"],
      "https://app.example.com",
      "https://app.example.com",
    ],
    [
      "host case ignored",
      ["https://App.Example.com"],
      "https://app.example.com",
      "https://app.example.com",
    ],
    ["* allows any origin", ["*"], "https://anything.example", "*"],
    ["* allows the opaque null origin", ["*"], "null", "*"],
    ["no Origin header", ["*"], null, null],
    ["no Origin header, listed origins", ["https://app.example.com"], null, null],
  ];
  for (const [name, origins, origin, expected] of cases) {
    await t.step(name, () => {
      assert.equal(createCorsPolicy(origins).allowOrigin(origin), expected);
    });
  }
});

Deno.test("isPreflight() recognises a CORS preflight", async (t) => {
  const cases: [string, string, Record<string, string>, boolean][] = [
    [
      "OPTIONS with Origin and Access-Control-Request-Method",
      "OPTIONS",
      { origin: "https://app.example.com", "access-control-request-method": "POST" },
      true,
    ],
    [
      "OPTIONS without Access-Control-Request-Method",
      "OPTIONS",
      { origin: "https://a.test" },
      false,
    ],
    ["OPTIONS without Origin", "OPTIONS", { "access-control-request-method": "POST" }, false],
    [
      "POST with both headers",
      "POST",
      { origin: "https://a.test", "access-control-request-method": "POST" },
      false,
    ],
  ];
  for (const [name, method, headers, expected] of cases) {
    await t.step(name, () => {
      assert.equal(isPreflight(new Request(URL_, { method, headers })), expected);
    });
  }
});

Deno.test("preflightResponse() answers 204 with the allowed methods and headers", async (t) => {
  await t.step("echoes the requested headers", async () => {
    const request = new Request(URL_, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, x-stainless-os",
      },
    });
    const response = preflightResponse(request, "https://app.example.com");
    assert.equal(response.status, 204);
    assert.equal(await response.text(), "");
    assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
    const methods = (response.headers.get("access-control-allow-methods") ?? "").split(/,\s*/);
    assert.ok(methods.includes("POST") && methods.includes("GET"), methods.join());
    assert.equal(
      response.headers.get("access-control-allow-headers"),
      "authorization, content-type, x-stainless-os",
    );
    assert.ok(Number(response.headers.get("access-control-max-age")) > 0);
    assert.match(response.headers.get("vary") ?? "", /\borigin\b/i);
  });
  await t.step("allows authorization and content-type when none are requested", () => {
    const request = new Request(URL_, {
      method: "OPTIONS",
      headers: { origin: "https://a.test", "access-control-request-method": "POST" },
    });
    const allowed = (preflightResponse(request, "*").headers.get("access-control-allow-headers") ??
      "").split(/,\s*/).map((h) => h.toLowerCase());
    assert.ok(allowed.includes("authorization"), allowed.join());
    assert.ok(allowed.includes("content-type"), allowed.join());
  });
});

Deno.test("addCorsHeaders() exposes the gateway's headers to the browser", () => {
  const headers = new Headers({ "content-type": "application/json", vary: "accept-encoding" });
  addCorsHeaders(headers, "https://app.example.com");
  assert.equal(headers.get("access-control-allow-origin"), "https://app.example.com");
  const exposed = (headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
  for (
    const name of [
      "x-request-id",
      "x-choreoai-provider",
      "retry-after",
      "x-ratelimit-limit-requests",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-requests",
      "x-ratelimit-limit-tokens",
      "x-ratelimit-remaining-tokens",
      "x-ratelimit-reset-tokens",
      "x-should-retry",
      "x-choreoai-budget-remaining-usd",
      "x-choreoai-cost-usd",
    ]
  ) {
    assert.ok(exposed.includes(name), `${name} not in ${exposed.join()}`);
  }
  assert.equal(headers.get("vary"), "accept-encoding, origin");
  assert.equal(headers.get("content-type"), "application/json");
});
