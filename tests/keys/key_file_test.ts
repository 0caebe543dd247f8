import assert from "node:assert/strict";
import { KeyFileError, keyRole, parseKeyFile, serializeKeyFile } from "../../src/keys/key_file.ts";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;

/** A complete, valid entry (DESIGN.md's example). */
function fullEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "key_7Hq2xM9aLp",
    name: "ci",
    digest: DIGEST_A,
    hint: "sk-choreo-AbC…9xYz",
    created_at: "2026-11-25T10:00:00Z",
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    models: ["gpt-4o", "claude-*"],
    endpoints: ["/v1/chat/completions"],
    ips: ["10.0.0.0/8", "2001:db8::/32"],
    rpm: 60,
    tpm: 100000,
    metadata: {},
    ...overrides,
  };
}

/** Only the required fields. */
function minimalEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "key_Second0001",
    name: "batch",
    digest: DIGEST_B,
    hint: "sk-choreo-XyZ…1234",
    created_at: "2026-11-25T11:00:00+02:00",
    ...overrides,
  };
}

function fileText(keys: unknown[]): string {
  return JSON.stringify({ version: 1, keys });
}

function parseError(text: string): KeyFileError {
  try {
    parseKeyFile(text);
  } catch (error) {
    assert.ok(error instanceof KeyFileError, `expected a KeyFileError, got ${error}`);
    return error;
  }
  assert.fail("expected the key list to be refused");
}

Deno.test("parseKeyFile() accepts DESIGN.md's example and keeps every field", () => {
  const file = parseKeyFile(fileText([fullEntry()]));
  assert.equal(file.version, 1);
  assert.deepEqual(file.keys, [fullEntry()]);
});

Deno.test("parseKeyFile() fills in the defaults of optional fields", () => {
  const file = parseKeyFile(fileText([minimalEntry()]));
  assert.deepEqual(file.keys[0], {
    ...minimalEntry(),
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    models: null,
    endpoints: null,
    ips: null,
    rpm: null,
    tpm: null,
    metadata: {},
  });
});

Deno.test("parseKeyFile() accepts an empty list", () => {
  assert.deepEqual(parseKeyFile('{"version":1,"keys":[]}'), { version: 1, keys: [] });
});

Deno.test("serializeKeyFile() output parses back to the same list", () => {
  const file = parseKeyFile(fileText([fullEntry(), minimalEntry()]));
  const text = serializeKeyFile(file);
  assert.ok(text.endsWith("\n"));
  assert.deepEqual(parseKeyFile(text), file);
});

Deno.test("parseKeyFile() and serializeKeyFile() keep role as written; absent is client", async (t) => {
  const cases: [label: string, role: unknown, stored: string | undefined, read: string][] = [
    ["absent (a file from before roles)", undefined, undefined, "client"],
    ["client", "client", "client", "client"],
    ["admin", "admin", "admin", "admin"],
  ];
  for (const [label, role, stored, read] of cases) {
    await t.step(label, () => {
      const entry = role === undefined ? minimalEntry() : minimalEntry({ role });
      const [key] = parseKeyFile(fileText([entry])).keys;
      assert.ok(key !== undefined);
      assert.equal(key.role, stored);
      assert.equal("role" in key, stored !== undefined, "no role field is added");
      assert.equal(keyRole(key), read);
      const text = serializeKeyFile({ version: 1, keys: [key] });
      const written = JSON.parse(text).keys[0];
      assert.equal(written.role, stored);
      assert.equal("role" in written, stored !== undefined, "no role field is written");
      assert.deepEqual(parseKeyFile(text).keys, [key]);
    });
  }
});

Deno.test("parseKeyFile() names the entry and the field of every bad field", async (t) => {
  const cases: [field: string, value: unknown][] = [
    ["id", "7Hq2xM9aLp"],
    ["id", "key_a"],
    ["name", ""],
    ["name", 42],
    ["digest", "sha256:abc"],
    ["digest", `sha256:${"A".repeat(64)}`],
    ["digest", `md5:${"a".repeat(32)}`],
    ["hint", "sk-choreo-0VMxxuxYGesrPzNYfhYeKNcRMAJBsIoMp0UKT7e"],
    ["created_at", "yesterday"],
    ["created_at", "2026-11-25"],
    ["expires_at", "2026-13-01T00:00:00Z"],
    ["revoked_at", 1764064800],
    ["rotated_from", "old-key"],
    ["models", "gpt-4o"],
    ["models", [""]],
    ["endpoints", ["v1/chat/completions"]],
    ["ips", ["10.0.0.0/33"]],
    ["ips", ["not-an-ip"]],
    ["rpm", 0],
    ["rpm", 1.5],
    ["tpm", -1],
    ["tpm", "100"],
    ["metadata", []],
    ["role", "root"],
    ["role", "Admin"],
    ["role", null],
  ];
  for (const [field, value] of cases) {
    await t.step(`${field} = ${JSON.stringify(value)}`, () => {
      const error = parseError(fileText([fullEntry(), minimalEntry({ [field]: value })]));
      assert.match(error.message, /keys\[1\]/, error.message);
      assert.ok(error.message.includes(field), error.message);
      if (field !== "id") assert.ok(error.message.includes("key_Second0001"), error.message);
    });
  }
});

Deno.test("parseKeyFile() names a missing required field", async (t) => {
  for (const field of ["id", "name", "digest", "hint", "created_at"]) {
    await t.step(field, () => {
      const entry = minimalEntry();
      delete entry[field];
      const error = parseError(fileText([entry]));
      assert.match(error.message, /keys\[0\]/);
      assert.ok(error.message.includes(field), error.message);
    });
  }
});

Deno.test("parseKeyFile() refuses an unknown field, naming it", () => {
  const error = parseError(fileText([minimalEntry({ owner: "me" })]));
  assert.match(error.message, /keys\[0\] \(key_Second0001\)/);
  assert.match(error.message, /owner/);
});

Deno.test("parseKeyFile() refuses a plaintext key, without echoing it", async (t) => {
  const secret = "sk-choreo-0VMxxuxYGesrPzNYfhYeKNcRMAJBsIoMp0UKT7e";
  for (const field of ["key", "api_key", "token", "secret", "plaintext"]) {
    await t.step(field, () => {
      const error = parseError(fileText([fullEntry(), minimalEntry({ [field]: secret })]));
      assert.match(error.message, /keys\[1\] \(key_Second0001\)/);
      assert.ok(error.message.includes(`"${field}"`), error.message);
      assert.ok(!error.message.includes(secret), "the key must not be echoed");
    });
  }
});

Deno.test("parseKeyFile() refuses two entries with the same id or digest", async (t) => {
  await t.step("same id", () => {
    const error = parseError(fileText([fullEntry(), minimalEntry({ id: "key_7Hq2xM9aLp" })]));
    assert.match(error.message, /keys\[0\].*keys\[1\]/);
    assert.match(error.message, /key_7Hq2xM9aLp/);
  });
  await t.step("same digest", () => {
    const error = parseError(fileText([fullEntry(), minimalEntry({ digest: DIGEST_A })]));
    assert.match(error.message, /keys\[0\] \(key_7Hq2xM9aLp\).*keys\[1\] \(key_Second0001\)/);
    assert.match(error.message, /digest/);
  });
});

Deno.test("parseKeyFile() refuses a file that is not a version 1 key list", async (t) => {
  const cases: [label: string, text: string, pattern: RegExp][] = [
    ["not JSON", "{version: 1", /not valid JSON/],
    ["version 2", '{"version":2,"keys":[]}', /version/],
    ["no version", '{"keys":[]}', /version/],
    ["keys not an array", '{"version":1,"keys":{}}', /keys/],
    ["an array", "[]", /Key list is invalid/],
    ["an unknown top-level field", '{"version":1,"keys":[],"extra":1}', /extra|unrecognized/i],
    ["an entry that is not an object", '{"version":1,"keys":["sk-x"]}', /keys\[0\]/],
  ];
  for (const [label, text, pattern] of cases) {
    await t.step(label, () => {
      assert.match(parseError(text).message, pattern);
    });
  }
});

Deno.test("parseKeyFile() keeps a budget as written; absent is none of its own", async (t) => {
  await t.step("a key with a budget", () => {
    const file = parseKeyFile(fileText([fullEntry({ budget: { usd: 100, period: "month" } })]));
    assert.deepEqual(file.keys[0]?.budget, { usd: 100, period: "month" });
    assert.match(serializeKeyFile(file), /"budget": \{\n\s+"usd": 100,\n\s+"period": "month"/);
  });
  await t.step("a key without", () => {
    const file = parseKeyFile(fileText([minimalEntry()]));
    assert.equal(file.keys[0]?.budget, undefined);
    assert.ok(!serializeKeyFile(file).includes("budget"), "no budget is written for it");
  });
  const cases: [string, unknown, RegExp][] = [
    ["zero dollars", { usd: 0, period: "day" }, /budget\.usd must be more than 0/],
    ["a string amount", { usd: "100", period: "day" }, /budget\.usd must be a number/],
    ["an unknown period", { usd: 5, period: "week" }, /budget\.period must be "day", "month"/],
    ["no period", { usd: 5 }, /budget\.period/],
    [
      "an unknown field",
      { usd: 5, period: "day", hard: true },
      /budget has unknown field\(s\) hard/,
    ],
    ["null", null, /budget/],
  ];
  for (const [name, budget, pattern] of cases) {
    await t.step(name, () => {
      const error = parseError(fileText([fullEntry({ budget })]));
      assert.match(error.message, /keys\[0\] \(key_7Hq2xM9aLp\)/);
      assert.match(error.message, pattern);
    });
  }
});
