/**
 * `choreoai keys …`: the real process (`deno run main.ts keys …`) for what a user sees, and
 * `runKeysCommand` in process, with a fixed clock, for the exact times and every usage error.
 */
import assert from "node:assert/strict";
import type { CliIo } from "../../src/cli/io.ts";
import { runKeysCommand } from "../../src/cli/keys/mod.ts";
import { digestKey, hasValidChecksum } from "../../src/keys/generate.ts";
import { type KeyRecord, parseKeyFile } from "../../src/keys/key_file.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];
const KEY_LINE_REGEXP = /^sk-choreo-[0-9A-Za-z]{39}\n$/;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a spawned `deno` needs to find its cache, and nothing else of the test's environment. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function spawnMain(
  args: readonly string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<Result> {
  const child = new Deno.Command("deno", {
    args: ["run", ...PERMISSIONS, MAIN, ...args],
    clearEnv: true,
    env: { ...baseEnv(), ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** A temp dir holding `keys.json` and `u.db`, and a runner with the matching environment. */
interface Sandbox {
  readonly dir: string;
  readonly file: string;
  readonly db: string;
  keys(args: readonly string[], stdin?: string): Promise<Result>;
  read(): Promise<readonly KeyRecord[]>;
}

async function withSandbox(fn: (sandbox: Sandbox) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai_keys_" });
  const file = `${dir}/keys.json`;
  const db = `${dir}/u.db`;
  try {
    await fn({
      dir,
      file,
      db,
      keys: (args, stdin) =>
        spawnMain(["keys", ...args], { CHOREOAI_KEYS_FILE: file, CHOREOAI_DB: db }, stdin),
      read: async () => parseKeyFile(await Deno.readTextFile(file)).keys,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function assertExit(result: Result, code: number, label = ""): void {
  assert.equal(
    result.code,
    code,
    `${label} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
  );
}

function assertNear(time: string | null, expected: number, label: string): void {
  assert.ok(time !== null, `${label} is null`);
  const delta = Math.abs(Date.parse(time) - expected);
  assert.ok(delta < 10_000, `${label} ${time} is ${delta} ms from ${new Date(expected)}`);
}

function byId(keys: readonly KeyRecord[], id: string): KeyRecord {
  const key = keys.find((k) => k.id === id);
  assert.ok(key !== undefined, `no key ${id}`);
  return key;
}

// ---------------------------------------------------------------------------------------------
// The real process

Deno.test("keys create prints the key alone, once, and stores only its digest", async () => {
  await withSandbox(async (box) => {
    const [plain, asJson] = await Promise.all([
      box.keys(["create", "--name", "ci"]),
      box.keys([
        "create",
        "--name",
        "batch",
        "--expires-in",
        "30d",
        "--models",
        "gpt-4o, claude-*",
        "--endpoints",
        "/v1/chat/completions",
        "--ips",
        "10.0.0.0/8,2001:db8::/32",
        "--rpm",
        "60",
        "--tpm",
        "100000",
        "--json",
      ]),
    ]);
    assertExit(plain, 0, "create");
    assertExit(asJson, 0, "create --json");

    assert.match(plain.stdout, KEY_LINE_REGEXP);
    const key = plain.stdout.trim();
    assert.ok(hasValidChecksum(key));
    assert.match(plain.stderr, /cannot be shown again/);
    assert.ok(!plain.stderr.includes(key), "stderr must not repeat the key");

    const created = JSON.parse(asJson.stdout);
    assert.deepEqual(Object.keys(created), ["id", "name", "key", "expires_at"]);
    assert.equal(created.name, "batch");
    assert.match(created.key, /^sk-choreo-[0-9A-Za-z]{39}$/);
    assertNear(created.expires_at, Date.now() + 30 * DAY, "expires_at");

    const { mode } = await Deno.stat(box.file);
    assert.equal((mode ?? 0) & 0o777, 0o600);
    const text = await Deno.readTextFile(box.file);
    assert.ok(!text.includes(key) && !text.includes(created.key), "the file holds a key");
    const stored = await box.read();
    assert.equal(stored.length, 2);
    const ci = stored.find((k) => k.name === "ci");
    assert.ok(ci !== undefined);
    assert.match(plain.stderr, new RegExp(ci.id));
    assert.equal(ci.digest, digestKey(key));
    assert.equal(ci.expires_at, null);
    assert.match(ci.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assertNear(ci.created_at, Date.now(), "created_at");
    assert.deepEqual(byId(stored, created.id), {
      ...byId(stored, created.id),
      digest: digestKey(created.key),
      models: ["gpt-4o", "claude-*"],
      endpoints: ["/v1/chat/completions"],
      ips: ["10.0.0.0/8", "2001:db8::/32"],
      rpm: 60,
      tpm: 100000,
      expires_at: created.expires_at,
    });
    assert.deepEqual(await Array.fromAsync(Deno.readDir(box.dir), (e) => e.name), ["keys.json"]);
  });
});

Deno.test("keys add registers a key read from stdin, and refuses bad ones", async () => {
  await withSandbox(async (box) => {
    const long = "team-provided-secret-0123456789abcdefghij";
    const short = "short-secret-123";
    const [added, addedShort, empty, spaces, badChecksum, tooLong, onArgv] = await Promise.all([
      box.keys(["add", "--name", "legacy"], `${long}\n`),
      box.keys(["add", "--name", "tiny", "--expires-in", "1h", "--json"], short),
      box.keys(["add", "--name", "empty"], "\n"),
      box.keys(["add", "--name", "spaces"], "has spaces in it and is long enough\n"),
      box.keys(["add", "--name", "typo"], `sk-choreo-${"a".repeat(39)}\n`),
      box.keys(["add", "--name", "huge"], "a".repeat(513)),
      box.keys(["add", "--name", "argv", long]),
    ]);
    assertExit(added, 0, "add");
    assert.match(added.stdout, /^key_[0-9A-Za-z]{10}\n$/);
    assert.ok(!added.stderr.includes("warning"), added.stderr);

    assertExit(addedShort, 0, "add short");
    const shortJson = JSON.parse(addedShort.stdout);
    assert.deepEqual(Object.keys(shortJson), ["id", "name", "expires_at"]);
    assert.equal(shortJson.name, "tiny");
    assertNear(shortJson.expires_at, Date.now() + HOUR, "expires_at");
    assert.match(addedShort.stderr, /warning: .*16 characters/);

    assertExit(empty, 1, "empty");
    assert.match(empty.stderr, /No key on stdin/);
    assertExit(spaces, 1, "spaces");
    assert.match(spaces.stderr, /RFC 6750.*never authenticate.*whitespace/s);
    assertExit(badChecksum, 1, "bad checksum");
    assert.match(badChecksum.stderr, /checksum/);
    assertExit(tooLong, 1, "too long");
    assert.match(tooLong.stderr, /513 bytes/);
    assertExit(onArgv, 2, "key on argv");
    assert.match(onArgv.stderr, /stdin/);

    for (const result of [added, addedShort, empty, spaces, badChecksum, tooLong, onArgv]) {
      assert.ok(!result.stdout.includes(long) && !result.stderr.includes(long), "key echoed");
      assert.ok(!result.stderr.includes(short), "key echoed");
    }

    const addedId = added.stdout.trim();
    const duplicate = await box.keys(["add", "--name", "again"], long);
    assertExit(duplicate, 1, "duplicate");
    assert.match(duplicate.stderr, new RegExp(`already in the list as ${addedId}`));

    const stored = await box.read();
    assert.deepEqual(stored.map((k) => k.name).sort(), ["legacy", "tiny"]);
    assert.equal(byId(stored, addedId).digest, digestKey(long));
    assert.equal(byId(stored, shortJson.id).digest, digestKey(short));
  });
});

Deno.test("keys list, show, revoke and rotate", async () => {
  await withSandbox(async (box) => {
    const created = await Promise.all([
      box.keys(["create", "--name", "alpha", "--models", "gpt-4o", "--rpm", "5", "--json"]),
      box.keys(["create", "--name", "beta", "--expires-in", "1d", "--json"]),
      box.keys(["create", "--name", "gamma", "--json"]),
    ]);
    created.forEach((result) => assertExit(result, 0, "create"));
    const [alpha, beta, gamma] = created.map((result) => JSON.parse(result.stdout));

    const [rotatedAlpha, rotatedBeta, revokedGamma] = await Promise.all([
      box.keys(["rotate", alpha.id, "--json"]),
      box.keys(["rotate", beta.id, "--grace", "0"]),
      box.keys(["revoke", gamma.id]),
    ]);
    assertExit(rotatedAlpha, 0, "rotate alpha");
    assertExit(rotatedBeta, 0, "rotate beta");
    assertExit(revokedGamma, 0, "revoke gamma");
    const alpha2 = JSON.parse(rotatedAlpha.stdout);
    assert.deepEqual(Object.keys(alpha2), ["id", "name", "key", "expires_at", "rotated_from"]);
    assert.equal(alpha2.rotated_from, alpha.id);
    assert.equal(alpha2.expires_at, null);
    assert.match(rotatedBeta.stdout, KEY_LINE_REGEXP);
    assert.match(rotatedBeta.stderr, /revoked/);
    assert.equal(revokedGamma.stdout, "");
    assert.match(revokedGamma.stderr, new RegExp(`Revoked key ${gamma.id}`));

    const [list, table, show, unknown, rotateRevoked, revokeAgain, rotateAgain] = await Promise
      .all([
        box.keys(["list", "--json"]),
        box.keys(["list"]),
        box.keys(["show", alpha.id, "--json"]),
        box.keys(["show", "key_Unknown000"]),
        box.keys(["rotate", gamma.id]),
        box.keys(["revoke", gamma.id]),
        box.keys(["rotate", alpha.id]),
      ]);
    assertExit(list, 0, "list --json");
    const views = JSON.parse(list.stdout);
    assert.equal(views.length, 5);
    for (const view of views) {
      assert.ok(!("digest" in view), "list --json shows a digest");
      assert.equal(view.last_used_at, null);
      assert.equal(view.requests, 0);
    }
    const status = Object.fromEntries(views.map((v: { id: string; status: string }) => [
      v.id,
      v.status,
    ]));
    const beta2 = views.find((v: { rotated_from: string | null }) => v.rotated_from === beta.id);
    assert.deepEqual(status, {
      [alpha.id]: "rotating",
      [beta.id]: "revoked",
      [gamma.id]: "revoked",
      [alpha2.id]: "active",
      [beta2.id]: "active",
    });
    const stored = await box.read();
    assertNear(byId(stored, alpha.id).expires_at, Date.now() + DAY, "alpha's grace");
    assertNear(beta2.expires_at, Date.now() + DAY, "beta's successor keeps its 1d lifetime");
    assert.deepEqual(
      { ...byId(stored, alpha2.id), id: "", digest: "", hint: "", created_at: "" },
      {
        ...byId(stored, alpha.id),
        id: "",
        digest: "",
        hint: "",
        created_at: "",
        expires_at: null,
        rotated_from: alpha.id,
      },
    );

    assertExit(table, 0, "list");
    assert.match(
      table.stdout,
      /^ID +NAME +ROLE +HINT +STATUS +CREATED +EXPIRES +LAST USED +REQUESTS +SPENT\/BUDGET +RESETS\n/,
    );
    assert.equal(table.stdout.trim().split("\n").length, 6);
    assert.match(
      table.stdout,
      new RegExp(`${alpha.id} +alpha +client +sk-choreo-\\w{3}…\\w{4} +rotating`),
    );

    assertExit(show, 0, "show");
    assert.deepEqual(JSON.parse(show.stdout), views.find((v: { id: string }) => v.id === alpha.id));
    assertExit(unknown, 1, "show unknown");
    assert.match(unknown.stderr, /key_Unknown000/);
    assertExit(rotateRevoked, 1, "rotate revoked");
    assert.match(rotateRevoked.stderr, /revoked/);
    assertExit(revokeAgain, 0, "revoke again");
    assert.match(revokeAgain.stderr, /already revoked/);
    assertExit(rotateAgain, 1, "rotate a rotating key");
    assert.match(rotateAgain.stderr, new RegExp(`already rotated to ${alpha2.id}`));

    const everything = [...created, rotatedAlpha, rotatedBeta, list, table, show].map((r) =>
      r.stdout + r.stderr
    ).join("");
    for (const record of stored) assert.ok(!everything.includes(record.digest), "digest shown");
    for (const key of [alpha.key, beta.key, gamma.key, alpha2.key]) {
      assert.equal(everything.split(key).length, 2, "a key is printed more than once");
    }
  });
});

Deno.test("keys exits 2 on usage errors and 1 when it cannot work", async () => {
  await withSandbox(async (box) => {
    const env = { CHOREOAI_KEYS_FILE: box.file, CHOREOAI_DB: box.db };
    const [
      help,
      unknownFlag,
      bothExpiries,
      badGrace,
      unknownCommand,
      noEnv,
      missingFile,
      missingDir,
    ] = await Promise.all([
      box.keys(["--help"]),
      box.keys(["create", "--name", "x", "--bogus"]),
      box.keys(["create", "--name", "x", "--expires-in", "1d", "--expires-at", "2099-01-01"]),
      box.keys(["rotate", "key_Whatever00", "--grace", "1w"]),
      box.keys(["frobnicate"]),
      spawnMain(["keys", "list"], { CHOREOAI_DB: box.db }),
      box.keys(["list"]),
      spawnMain(["keys", "create", "--name", "x"], {
        ...env,
        CHOREOAI_KEYS_FILE: `${box.dir}/a/k`,
      }),
    ]);
    assertExit(help, 0, "--help");
    assert.match(help.stdout, /create[\s\S]*add[\s\S]*list[\s\S]*show[\s\S]*revoke[\s\S]*rotate/);
    assertExit(unknownFlag, 2, "unknown flag");
    assert.match(unknownFlag.stderr, /--bogus/);
    assertExit(bothExpiries, 2, "both expiries");
    assert.match(bothExpiries.stderr, /--expires-in and --expires-at/);
    assertExit(badGrace, 2, "bad grace");
    assert.match(badGrace.stderr, /--grace/);
    assertExit(unknownCommand, 2, "unknown command");
    assert.match(unknownCommand.stderr, /frobnicate/);
    assertExit(noEnv, 1, "no CHOREOAI_KEYS_FILE");
    assert.match(noEnv.stderr, /CHOREOAI_KEYS_FILE is not set/);
    assertExit(missingFile, 1, "missing file");
    assert.ok(missingFile.stderr.includes(box.file), missingFile.stderr);
    assertExit(missingDir, 1, "missing directory");
    assert.ok(missingDir.stderr.includes(`${box.dir}/a`), missingDir.stderr);
    assert.equal(missingDir.stdout, "", "no key may be printed when it was not stored");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(box.dir)), []);
  });
});

Deno.test("concurrent keys create processes all land in the file", async () => {
  await withSandbox(async (box) => {
    const results = await Promise.all(
      ["w", "x", "y", "z"].map((name) => box.keys(["create", "--name", name])),
    );
    results.forEach((result) => assertExit(result, 0, "create"));
    const stored = await box.read();
    assert.deepEqual(stored.map((k) => k.name).sort(), ["w", "x", "y", "z"]);
    assert.deepEqual(
      stored.map((k) => k.digest).sort(),
      results.map((r) => digestKey(r.stdout.trim())).sort(),
    );
    assert.deepEqual(await Array.fromAsync(Deno.readDir(box.dir), (e) => e.name), ["keys.json"]);
  });
});

// ---------------------------------------------------------------------------------------------
// In process, with a fixed clock

const NOW = Date.parse("2026-11-25T10:00:00.250Z");

interface FakeIo {
  readonly io: CliIo;
  readonly out: string[];
  readonly err: string[];
}

function fakeIo(
  keysFile: string | undefined,
  options: { now?: number; stdin?: string; db?: string } = {},
): FakeIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      keysFile,
      dbPath: options.db ?? "/nonexistent/choreoai-test.db",
      now: () => options.now ?? NOW,
      randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
      readStdin: () => Promise.resolve(options.stdin ?? ""),
      stdout: (text) => void out.push(text),
      stderr: (text) => void err.push(text),
    },
  };
}

async function run(
  args: string[],
  file: string | undefined,
  options: { now?: number; stdin?: string } = {},
): Promise<Result> {
  const fake = fakeIo(file, options);
  const code = await runKeysCommand(args, fake.io);
  return { code, stdout: fake.out.join(""), stderr: fake.err.join("") };
}

async function withTempFile(fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai_keys_" });
  try {
    await fn(`${dir}/keys.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runKeysCommand() names the flag of every invalid value (exit 2)", async (t) => {
  await withTempFile(async (file) => {
    const cases: [args: string[], pattern: RegExp][] = [
      [["create"], /--name is required/],
      [["create", "--name", "  "], /--name must not be empty/],
      [["create", "--name", "a\u0007b"], /--name.*control/],
      [["create", "--name", "x".repeat(201)], /--name.*200/],
      [["create", "--name", "x", "--expires-in", "30"], /--expires-in/],
      [["create", "--name", "x", "--expires-in", "0d"], /--expires-in/],
      [["create", "--name", "x", "--expires-in", "1.5h"], /--expires-in/],
      [["create", "--name", "x", "--expires-in", "-1d"], /--expires-in/],
      [["create", "--name", "x", "--expires-in", "99999999d"], /--expires-in/],
      [["create", "--name", "x", "--expires-at", "tomorrow"], /--expires-at/],
      [["create", "--name", "x", "--expires-at", "2026-11-25T10:00:00Z"], /--expires-at.*future/],
      [["create", "--name", "x", "--expires-at", "2026-02-30"], /--expires-at/],
      [["create", "--name", "x", "--models", ""], /--models/],
      [["create", "--name", "x", "--models", " , "], /--models/],
      [["create", "--name", "x", "--models", "gpt 4o"], /--models/],
      [["create", "--name", "x", "--models", "gpt-*o"], /--models/],
      [["create", "--name", "x", "--endpoints", "v1/chat/completions"], /--endpoints/],
      [["create", "--name", "x", "--endpoints", "/v1/chat?x=1"], /--endpoints/],
      [
        ["create", "--name", "x", "--endpoints", "/v1/chat/completion"],
        /not an endpoint of the gateway/,
      ],
      [["create", "--name", "x", "--endpoints", "/metrics"], /only admin keys.*--admin/],
      [["create", "--name", "x", "--endpoints", "/v1/models,/admin"], /only admin keys.*\/admin/],
      [["create", "--name", "x", "--admin=yes"], /--admin/],
      [["create", "--name", "x", "--ips", "10.0.0.0/33"], /--ips/],
      [["create", "--name", "x", "--ips", "localhost"], /--ips/],
      [["create", "--name", "x", "--rpm", "0"], /--rpm/],
      [["create", "--name", "x", "--rpm", "1e3"], /--rpm/],
      [["create", "--name", "x", "--tpm", "-5"], /--tpm/],
      [["create", "--name", "x", "--tpm", "99999999999999999999"], /--tpm/],
      [["create", "--name", "x", "--json=yes"], /--json/],
      [["create", "--name", "x", "extra"], /takes no arguments/],
      [["add", "--name", "x", "--rpm", "many"], /--rpm/],
      [["list", "--all"], /--all/],
      [["show"], /needs a key id/],
      [["show", "key_One0000001", "key_Two0000002"], /one key id/],
      [["show", "not-an-id"], /not a key id/],
      [["revoke"], /needs a key id/],
      [["rotate", "key_One0000001", "--grace", "soon"], /--grace/],
      [["rotate", "key_One0000001", "--grace", "9999999d"], /--grace/],
      [[], /a command is needed/],
      [["delete", "key_One0000001"], /unknown command "delete"/],
      [["help", "nope"], /keys help/],
    ];
    for (const [args, pattern] of cases) {
      await t.step(args.join(" ") || "(nothing)", async () => {
        const result = await run(args, file);
        assertExit(result, 2, args.join(" "));
        assert.match(result.stderr, pattern);
        assert.match(result.stderr, /--help for usage/);
        assert.equal(result.stdout, "");
      });
    }
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  });
});

Deno.test("runKeysCommand() never echoes a key passed where an id or value belongs", async () => {
  const key = "sk-choreo-0VMxxuxYGesrPzNYfhYeKNcRMAJBsIoMp0UKT7e";
  for (
    const args of [
      ["show", key],
      ["revoke", key],
      [key],
      ["create", "--name", "x", key],
      ["create", "--name", "x", "--rpm", key],
      ["add", "--name", "x", key],
    ]
  ) {
    const result = await run(args, "/nonexistent/keys.json");
    assertExit(result, 2, args.join(" "));
    assert.ok(!result.stderr.includes(key), result.stderr);
  }
});

Deno.test("runKeysCommand() prints help for every command (exit 0)", async (t) => {
  for (
    const args of [
      ["--help"],
      ["-h"],
      ["help"],
      ["help", "rotate"],
      ["create", "--help"],
      [
        "add",
        "-h",
      ],
      ["list", "--help"],
      ["show", "--help"],
      ["revoke", "--help"],
      ["rotate", "--help"],
    ]
  ) {
    await t.step(args.join(" "), async () => {
      const result = await run(args, undefined);
      assertExit(result, 0, args.join(" "));
      assert.match(result.stdout, /^Usage: /m);
    });
  }
});

Deno.test("runKeysCommand() derives every time from the clock", async (t) => {
  await withTempFile(async (file) => {
    const created = await run(["create", "--name", "a", "--expires-in", "30d", "--json"], file);
    assertExit(created, 0, "create");
    const a = JSON.parse(created.stdout);
    await t.step("created_at is now in whole seconds; expires_at adds the duration", async () => {
      assert.equal(a.expires_at, "2026-12-25T10:00:00Z");
      assert.equal(
        byId(parseKeyFile(await Deno.readTextFile(file)).keys, a.id).created_at,
        "2026-11-25T10:00:00Z",
      );
    });
    await t.step("--expires-at is stored in UTC", async () => {
      const result = await run(
        ["create", "--name", "b", "--expires-at", "2027-01-01T02:30:00+02:00", "--json"],
        file,
      );
      assertExit(result, 0, "create");
      assert.equal(JSON.parse(result.stdout).expires_at, "2027-01-01T00:30:00Z");
      const dateOnly = await run(
        ["create", "--name", "c", "--expires-at", "2027-01-01", "--json"],
        file,
      );
      assert.equal(JSON.parse(dateOnly.stdout).expires_at, "2027-01-01T00:00:00Z");
    });
    await t.step(
      "rotate: the new key gets the old key's lifetime, the old one the grace",
      async () => {
        const later = NOW + 10 * DAY;
        const rotated = await run(["rotate", a.id, "--grace", "2h", "--json"], file, {
          now: later,
        });
        assertExit(rotated, 0, "rotate");
        const next = JSON.parse(rotated.stdout);
        assert.equal(next.expires_at, "2027-01-04T10:00:00Z"); // 30 days from the rotation
        const keys = parseKeyFile(await Deno.readTextFile(file)).keys;
        assert.equal(byId(keys, a.id).expires_at, "2026-12-05T12:00:00Z");
        assert.equal(byId(keys, a.id).revoked_at, null);
        assert.equal(byId(keys, next.id).created_at, "2026-12-05T10:00:00Z");
        assert.match(rotated.stderr, /keeps working until 2026-12-05T12:00:00Z/);
      },
    );
    await t.step("rotate: the grace never outlasts the old key's own expiry", async () => {
      const b = JSON.parse(
        (await run(["create", "--name", "d", "--expires-in", "1h", "--json"], file)).stdout,
      );
      const rotated = await run(["rotate", b.id, "--json"], file, { now: NOW + 30 * 60_000 });
      assertExit(rotated, 0, "rotate");
      const keys = parseKeyFile(await Deno.readTextFile(file)).keys;
      assert.equal(byId(keys, b.id).expires_at, "2026-11-25T11:00:00Z");
      assert.equal(JSON.parse(rotated.stdout).expires_at, "2026-11-25T11:30:00Z");
    });
    await t.step("rotate --grace 0 revokes now; a revoked key is not rotated again", async () => {
      const c = JSON.parse((await run(["create", "--name", "e", "--json"], file)).stdout);
      const rotated = await run(["rotate", c.id, "--grace", "0"], file);
      assertExit(rotated, 0, "rotate");
      const keys = parseKeyFile(await Deno.readTextFile(file)).keys;
      assert.equal(byId(keys, c.id).revoked_at, "2026-11-25T10:00:00Z");
      assert.equal(byId(keys, c.id).expires_at, null);
      const again = await run(["rotate", c.id], file);
      assertExit(again, 1, "rotate revoked");
    });
    await t.step("an expired key is not rotated", async () => {
      const result = await run(["rotate", a.id], file, { now: NOW + 11 * DAY });
      assertExit(result, 1, "rotate expired");
      assert.match(result.stderr, /expired at 2026-12-05T12:00:00Z/);
    });
    await t.step("revoking twice changes nothing the second time", async () => {
      const d = JSON.parse((await run(["create", "--name", "f", "--json"], file)).stdout);
      assertExit(await run(["revoke", d.id], file), 0, "revoke");
      const before = await Deno.readTextFile(file);
      const again = await run(["revoke", d.id], file, { now: NOW + HOUR });
      assertExit(again, 0, "revoke again");
      assert.match(again.stderr, /already revoked at 2026-11-25T10:00:00Z/);
      assert.equal(await Deno.readTextFile(file), before);
    });
  });
});

Deno.test("runKeysCommand() lists keys as a table and as JSON", async () => {
  await withTempFile(async (file) => {
    const text = JSON.stringify({
      version: 1,
      keys: [
        {
          id: "key_Alpha00001",
          name: "ci\u001b[31m",
          digest: `sha256:${"a".repeat(64)}`,
          hint: "sk-choreo-AbC…9xYz",
          created_at: "2026-11-01T00:00:00Z",
          expires_at: "2026-11-26T00:00:00Z",
          metadata: { team: "infra" },
        },
        {
          id: "key_Beta000002",
          name: "next",
          digest: `sha256:${"b".repeat(64)}`,
          hint: "sk-choreo-DeF…1234",
          created_at: "2026-11-25T09:00:00.500+01:00",
          rotated_from: "key_Alpha00001",
          models: ["gpt-4o"],
          role: "admin",
        },
      ],
    });
    await Deno.writeTextFile(file, text);
    const table = await run(["list"], file);
    assertExit(table, 0, "list");
    assert.equal(
      table.stdout,
      [
        "ID              NAME     ROLE    HINT                STATUS    CREATED                   EXPIRES               LAST USED  REQUESTS  SPENT/BUDGET  RESETS",
        "key_Alpha00001  ci?[31m  client  sk-choreo-AbC…9xYz  rotating  2026-11-01T00:00:00Z      2026-11-26T00:00:00Z  never      0         -             -",
        "key_Beta000002  next     admin   sk-choreo-DeF…1234  active    2026-11-25T08:00:00.500Z  never                 never      0         -             -",
        "",
      ].join("\n"),
    );
    const list = await run(["list", "--json"], file);
    const views = JSON.parse(list.stdout);
    assert.equal(views[0].role, "client", "a key without a role is a client key");
    assert.deepEqual(views[1], {
      id: "key_Beta000002",
      name: "next",
      role: "admin",
      hint: "sk-choreo-DeF…1234",
      created_at: "2026-11-25T09:00:00.500+01:00",
      expires_at: null,
      revoked_at: null,
      rotated_from: "key_Alpha00001",
      models: ["gpt-4o"],
      endpoints: null,
      ips: null,
      rpm: null,
      tpm: null,
      metadata: {},
      status: "active",
      last_used_at: null,
      requests: 0,
      budget_status: null,
    });
    const show = await run(["show", "key_Alpha00001"], file);
    assert.match(show.stdout, /^status: +rotating$/m);
    assert.match(show.stdout, /^role: +client$/m);
    assert.match(show.stdout, /^metadata: +\{"team":"infra"\}$/m);
    assert.ok(!show.stdout.includes("\u001b"), "control characters reach the terminal");
    assert.equal(await Deno.readTextFile(file), text, "reading changed the file");
  });
});

Deno.test("runKeysCommand() list of an empty file says so on stderr", async () => {
  await withTempFile(async (file) => {
    await Deno.writeTextFile(file, '{"version":1,"keys":[]}');
    const table = await run(["list"], file);
    assertExit(table, 0, "list");
    assert.equal(table.stdout, "");
    assert.match(table.stderr, /No keys/);
    assert.equal((await run(["list", "--json"], file)).stdout, "[]\n");
  });
});

Deno.test("runKeysCommand() refuses a broken key list, naming it (exit 1)", async () => {
  await withTempFile(async (file) => {
    await Deno.writeTextFile(file, '{"version":1,"keys":[{"id":"key_Broken0001"}]}');
    for (const args of [["list"], ["create", "--name", "x"], ["revoke", "key_Broken0001"]]) {
      const result = await run(args, file, { stdin: "whatever-key-that-is-long-enough-123" });
      assertExit(result, 1, args.join(" "));
      assert.ok(result.stderr.includes(file), result.stderr);
      assert.match(result.stderr, /key_Broken0001/);
      assert.equal(result.stdout, "");
    }
  });
});

Deno.test("runKeysCommand() takes the Messages endpoints as endpoint scopes", async () => {
  await withTempFile(async (file) => {
    const result = await run([
      "create",
      "--name",
      "claude-code",
      "--endpoints",
      "/v1/messages,/v1/messages/count_tokens",
      "--json",
    ], file);
    assertExit(result, 0, "create");
    const stored = JSON.parse(await Deno.readTextFile(file));
    assert.deepEqual(stored.keys[0].endpoints, ["/v1/messages", "/v1/messages/count_tokens"]);
  });
});

Deno.test("runKeysCommand() takes /v1/responses as an endpoint scope (it covers the response paths)", async () => {
  await withTempFile(async (file) => {
    const result = await run([
      "create",
      "--name",
      "codex",
      "--endpoints",
      "/v1/responses",
      "--json",
    ], file);
    assertExit(result, 0, "create");
    const stored = JSON.parse(await Deno.readTextFile(file));
    assert.deepEqual(stored.keys[0].endpoints, ["/v1/responses"]);
    const refused = await run(["create", "--name", "x", "--endpoints", "/v1/responses/x"], file);
    assertExit(refused, 2, "a response path is not a scope");
  });
});

Deno.test("runKeysCommand() creates admin keys, shows their role and keeps it on rotation", async (t) => {
  await withTempFile(async (file) => {
    const created = {
      prometheus: await run(["create", "--name", "prometheus", "--admin", "--json"], file),
      ops: await run([
        "create",
        "--name",
        "ops",
        "--admin",
        "--models",
        "choreoai/*",
        "--endpoints",
        "/metrics,/admin",
        "--json",
      ], file),
      app: await run(["create", "--name", "app", "--json"], file),
      legacy: await run(["add", "--name", "legacy", "--admin", "--json"], file, {
        stdin: "team-provided-admin-secret-0123456789",
      }),
    };
    for (const [name, result] of Object.entries(created)) assertExit(result, 0, name);
    const id = (name: keyof typeof created) => JSON.parse(created[name].stdout).id as string;

    await t.step(
      "the file says role admin for admin keys, and nothing for client keys",
      async () => {
        const stored = JSON.parse(await Deno.readTextFile(file)).keys as Record<string, unknown>[];
        const roles = Object.fromEntries(stored.map((k) => [k.name, k.role ?? "(absent)"]));
        assert.deepEqual(roles, {
          prometheus: "admin",
          ops: "admin",
          app: "(absent)",
          legacy: "admin",
        });
        const ops = byId(
          parseKeyFile(JSON.stringify({ version: 1, keys: stored })).keys,
          id("ops"),
        );
        assert.deepEqual(ops.models, ["choreoai/*"]);
        assert.deepEqual(ops.endpoints, ["/metrics", "/admin"]);
      },
    );
    await t.step("stderr says when a key is an admin key", () => {
      assert.match(created.prometheus.stderr, /^Created admin key key_/);
      assert.match(created.legacy.stderr, /^Added admin key key_/);
      assert.match(created.app.stderr, /^Created key key_/);
    });
    await t.step("list shows the role as a column and in --json; show has it too", async () => {
      const table = await run(["list"], file);
      assertExit(table, 0, "list");
      assert.match(table.stdout, new RegExp(`^${id("prometheus")} +prometheus +admin +sk-`, "m"));
      assert.match(table.stdout, new RegExp(`^${id("app")} +app +client +sk-`, "m"));
      const views = JSON.parse((await run(["list", "--json"], file)).stdout);
      assert.deepEqual(
        views.map((v: { name: string; role: string }) => [v.name, v.role]),
        [["prometheus", "admin"], ["ops", "admin"], ["app", "client"], ["legacy", "admin"]],
      );
      const show = await run(["show", id("ops")], file);
      assert.match(show.stdout, /^role: +admin$/m);
    });
    await t.step("rotate keeps the role of admin and client keys", async () => {
      for (const [name, role] of [["prometheus", "admin"], ["app", undefined]] as const) {
        const rotated = await run(["rotate", id(name), "--json"], file);
        assertExit(rotated, 0, `rotate ${name}`);
        const next = JSON.parse(rotated.stdout).id;
        const stored = JSON.parse(await Deno.readTextFile(file)).keys as Record<string, unknown>[];
        assert.equal(stored.find((k) => k.id === next)?.role, role, name);
      }
    });
  });
});
