import assert from "node:assert/strict";
import fc from "fast-check";
import {
  authErrors,
  parseAuthorization,
  parseMessagesCredentials,
} from "../../src/auth/authorization.ts";
import { errorResponse, type GatewayError } from "../../src/errors.ts";

/** RFC 6750 §2.1 b64token, written out independently of the parser. */
const B64TOKEN_REGEXP = /^[A-Za-z0-9\-._~+/]+=*$/;
const B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";

const MISSING_BODY =
  '{"error":{"message":"Missing Authorization header","type":"authentication_error","param":null,"code":"missing_authorization"}}';
const MALFORMED_BODY =
  '{"error":{"message":"Malformed Authorization header","type":"authentication_error","param":null,"code":"malformed_authorization"}}';
const INVALID_KEY_BODY =
  '{"error":{"message":"Invalid API key provided","type":"authentication_error","param":null,"code":"invalid_api_key"}}';

function tokenOf(header: string | null): string {
  const result = parseAuthorization(header);
  assert.ok(result.ok, `expected ${JSON.stringify(header)} to be accepted`);
  return result.token;
}

function errorOf(header: string | null): GatewayError {
  const result = parseAuthorization(header);
  assert.ok(!result.ok, `expected ${JSON.stringify(header)} to be rejected`);
  return result.error;
}

async function assertSeedResponse(error: GatewayError, body: string): Promise<void> {
  const response = errorResponse(error);
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("www-authenticate"), "Bearer");
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(await response.text(), body);
}

Deno.test("parseAuthorization() answers the seed's exact 401 bodies", async (t) => {
  await t.step("no header → missing_authorization", async () => {
    await assertSeedResponse(errorOf(null), MISSING_BODY);
  });
  await t.step("non-Bearer header → malformed_authorization", async () => {
    await assertSeedResponse(errorOf("Basic dXNlcjpwYXNz"), MALFORMED_BODY);
  });
  await t.step("authErrors.invalidKey() → invalid_api_key", async () => {
    await assertSeedResponse(authErrors.invalidKey(), INVALID_KEY_BODY);
  });
});

Deno.test("parseAuthorization() accepts the Bearer scheme in any case", async (t) => {
  for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
    await t.step(scheme, () => {
      assert.equal(tokenOf(`${scheme} sk-test-123`), "sk-test-123");
    });
  }
});

Deno.test("parseAuthorization() accepts one or several spaces after the scheme", async (t) => {
  for (const spaces of [1, 2, 5]) {
    await t.step(`${spaces} space(s)`, () => {
      assert.equal(tokenOf(`Bearer${" ".repeat(spaces)}abc`), "abc");
    });
  }
});

Deno.test("parseAuthorization() rejects a header that is not `Bearer <token>`", async (t) => {
  const cases: [string, string][] = [
    ["empty header", ""],
    ["scheme only", "Bearer"],
    ["scheme and a space, no token", "Bearer "],
    ["scheme and spaces, no token", "Bearer    "],
    ["tab instead of space", "Bearer\tabc"],
    ["no separator", "Bearerabc"],
    ["Basic scheme", "Basic dXNlcjpwYXNz"],
    ["Token scheme", "Token abc"],
    ["token without a scheme", "sk-test-123"],
    ["trailing space", "Bearer abc "],
    ["trailing newline", "Bearer abc\n"],
  ];
  for (const [name, header] of cases) {
    await t.step(name, () => {
      const error = errorOf(header);
      assert.equal(error.status, 401);
      assert.equal(error.code, "malformed_authorization");
      assert.equal(error.headers["www-authenticate"], "Bearer");
    });
  }
});

Deno.test("parseAuthorization() accepts RFC 6750 b64token characters", async (t) => {
  const cases = [
    "abcXYZ0189",
    "-._~+/",
    "sk-choreo-AbC9xYz",
    "dGVzdA==",
    "abc=",
    "a==========",
    B64_CHARS,
  ];
  for (const token of cases) {
    await t.step(token, () => {
      assert.equal(tokenOf(`Bearer ${token}`), token);
    });
  }
});

Deno.test("parseAuthorization() rejects tokens outside the b64token charset", async (t) => {
  const cases: [string, string][] = [
    ["comma", "abc,def"],
    ["double quote", 'abc"def'],
    ["quoted token", '"abc"'],
    ["single quote", "abc'def"],
    ["space inside", "abc def"],
    ["tab inside", "abc\tdef"],
    ["colon", "user:pass"],
    ["semicolon", "abc;def"],
    ["non-ASCII letter", "clé"],
    ["Kelvin sign (case-folds to k)", "\u212Aey"],
    ["emoji", "key🔑"],
    ["NUL", "abc\u0000"],
    ["= in the middle", "ab=cd"],
    ["= only", "=="],
    ["leading =", "=abc"],
  ];
  for (const [name, token] of cases) {
    await t.step(name, () => {
      assert.equal(errorOf(`Bearer ${token}`).code, "malformed_authorization");
    });
  }
});

Deno.test("parseAuthorization() limits tokens to 512 bytes", async (t) => {
  await t.step("512 bytes accepted", () => {
    const token = "a".repeat(511) + "=";
    assert.equal(tokenOf(`Bearer ${token}`), token);
  });
  await t.step("513 bytes rejected", () => {
    assert.equal(errorOf(`Bearer ${"a".repeat(513)}`).code, "malformed_authorization");
  });
  await t.step("513 bytes counting trailing = rejected", () => {
    assert.equal(errorOf(`Bearer ${"a".repeat(512)}=`).code, "malformed_authorization");
  });
  await t.step("100 kB rejected", () => {
    assert.equal(errorOf(`Bearer ${"A".repeat(100_000)}`).code, "malformed_authorization");
  });
});

Deno.test("parseAuthorization() rejects two Authorization headers joined by the runtime", () => {
  const joined = new Headers([
    ["authorization", "Bearer a"],
    ["authorization", "Bearer b"],
  ]).get("authorization");
  assert.equal(joined, "Bearer a, Bearer b");
  assert.equal(errorOf(joined).code, "malformed_authorization");
});

Deno.test("parseAuthorization() never throws and returns a valid token or a 401", () => {
  const anyText = fc.oneof(
    // Any code point, lone surrogates included (cheaper to build than unit: "binary").
    fc.string({
      unit: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
    }),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: fc.constantFrom(...B64_CHARS, "=", " ", "\t", ",", '"', "é", "\u212A") }),
  );
  const header = fc.oneof(
    anyText,
    fc.tuple(fc.constantFrom("Bearer ", "bearer  ", "BEARER", "Basic ", ""), anyText).map(
      ([prefix, rest]) => prefix + rest,
    ),
  );
  fc.assert(
    fc.property(fc.option(header, { nil: null }), (value) => {
      const result = parseAuthorization(value);
      if (value === null) {
        assert.ok(!result.ok);
        assert.equal(result.error.code, "missing_authorization");
      } else if (result.ok) {
        assert.match(result.token, B64TOKEN_REGEXP);
        assert.ok(new TextEncoder().encode(result.token).byteLength <= 512);
        assert.ok(value.endsWith(result.token));
        assert.match(value.slice(0, value.length - result.token.length), /^bearer +$/i);
      } else {
        assert.equal(result.error.status, 401);
        assert.equal(result.error.type, "authentication_error");
        assert.equal(result.error.code, "malformed_authorization");
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("parseAuthorization() round-trips any valid b64token with any-case scheme", () => {
  const token = fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...B64_CHARS), minLength: 1, maxLength: 512 }),
      fc.nat({ max: 8 }),
    )
    .map(([body, pad]) => body + "=".repeat(pad))
    .filter((value) => value.length <= 512);
  const scheme = fc
    .array(fc.boolean(), { minLength: 6, maxLength: 6 })
    .map((upper) =>
      [..."bearer"].map((c, i) => (upper[i] === true ? c.toUpperCase() : c)).join("")
    );
  fc.assert(
    fc.property(scheme, fc.integer({ min: 1, max: 5 }), token, (s, spaces, value) => {
      const result = parseAuthorization(`${s}${" ".repeat(spaces)}${value}`);
      assert.deepEqual(result, { ok: true, token: value });
    }),
    { numRuns: 1000 },
  );
});

Deno.test("parseMessagesCredentials() reads Bearer first, else x-api-key", async (t) => {
  const cases: [string, string | null, string | null, string | undefined, string | undefined][] = [
    // name, authorization, x-api-key, token, or the error message
    ["Bearer alone", "Bearer sk-a", null, "sk-a", undefined],
    ["x-api-key alone", null, "sk-b", "sk-b", undefined],
    ["x-api-key with surrounding spaces", null, "  sk-b ", "sk-b", undefined],
    ["both: Authorization wins", "Bearer sk-a", "sk-b", "sk-a", undefined],
    [
      "both, Authorization malformed: not rescued by x-api-key",
      "Basic sk-a",
      "sk-b",
      undefined,
      "Malformed Authorization header",
    ],
    ["neither: the seed's missing header", null, null, undefined, "Missing Authorization header"],
    ["x-api-key with a space inside", null, "sk b", undefined, "Malformed x-api-key header"],
    ["x-api-key empty", null, "", undefined, "Malformed x-api-key header"],
    ["x-api-key too long", null, "k".repeat(513), undefined, "Malformed x-api-key header"],
    ["x-api-key of 512 bytes", null, "k".repeat(512), "k".repeat(512), undefined],
  ];
  for (const [name, authorization, apiKey, token, message] of cases) {
    await t.step(name, () => {
      const result = parseMessagesCredentials(authorization, apiKey);
      if (token !== undefined) {
        assert.deepEqual(result, { ok: true, token });
        return;
      }
      assert.ok(!result.ok);
      assert.equal(result.error.message, message);
      assert.equal(result.error.status, 401);
      assert.equal(result.error.headers["www-authenticate"], "Bearer");
    });
  }
});
