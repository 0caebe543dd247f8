/**
 * What the README claims is what the gateway does: the opening names every provider it serves, and
 * each row of the authentication error table is sent to a real gateway with a real key list, whose
 * status, code and message must be the row's.
 */
import assert from "node:assert/strict";
import { VARIABLE_NAMES } from "../../src/config.ts";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { openKeyStore } from "../../src/keys/store.ts";
import { createLogger } from "../../src/log.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

const README = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

Deno.test("the README's opening says the gateway serves every provider it routes to", () => {
  const intro = README.slice(0, README.indexOf("\n## "));
  const serves = intro.replaceAll("\n", " ").split(/(?<=\.)\s/).filter((s) =>
    /\b(it|version|ChoreoAI) serves\b/.test(s)
  );
  assert.ok(serves.length > 0, "the opening says what the gateway serves");
  for (const sentence of serves) {
    for (const provider of ["OpenAI", "Anthropic", "Gemini", "Azure OpenAI", "OpenAI-compatible"]) {
      assert.ok(sentence.includes(provider), `"${sentence}" leaves out ${provider}`);
    }
  }
});

interface Row {
  readonly case: string;
  readonly code: string;
  readonly message: string;
}

/** The rows of the first table in the README's "## Errors" section. */
function authErrorRows(): Row[] {
  const start = README.indexOf("\n## Errors");
  assert.ok(start >= 0, "README has no Errors section");
  const section = README.slice(start, README.indexOf("\n## ", start + 1));
  const lines = section.split("\n").filter((line) => line.startsWith("|"));
  return lines.slice(2).map((line) => {
    const [kase = "", code = "", message = ""] = line.split("|").slice(1, -1).map((cell) =>
      cell.trim().replace(/^`|`$/g, "")
    );
    return { case: kase, code, message };
  });
}

Deno.test("the README's authentication error table is what the gateway answers", async (t) => {
  const expired = makeKey({ expires_at: "2020-01-01T00:00:00Z" });
  const revoked = makeKey({ revoked_at: "2020-01-01T00:00:00Z" });
  const dir = await Deno.makeTempDir({ prefix: "choreoai-readme-errors-" });
  const file = `${dir}/keys.json`;
  await Deno.writeTextFile(file, keyFileText([expired.record, revoked.record]));
  const store = await openKeyStore(file, createLogger(() => {}, Date.now));
  try {
    await using gateway = startGateway({
      verifier: createKeyListVerifier(() => store.current()),
    });
    const send = async (authorization: string | undefined) => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (authorization !== undefined) headers.authorization = authorization;
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          model: "choreoai/echo",
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      return { status: response.status, body: await response.json() };
    };
    // Each case a row may name, and the Authorization header that produces it.
    const cases: [RegExp, string | undefined][] = [
      [/^no `Authorization` header/, undefined],
      [/not `Bearer <token>`/, "Basic dXNlcjpwYXNz"],
      [/a token over 512 bytes/, `Bearer ${"a".repeat(513)}`],
      [/outside RFC 6750's characters/, "Bearer not{a}token"],
      [/unknown/, `Bearer ${makeKey().token}`],
      [/revoked/, `Bearer ${revoked.token}`],
      [/expired/, `Bearer ${expired.token}`],
    ];
    const rows = authErrorRows();
    assert.ok(rows.length >= 3, "the table has a row per kind of 401");
    const covered = new Set<RegExp>();
    for (const row of rows) {
      const matching = cases.filter(([pattern]) => pattern.test(row.case));
      assert.ok(matching.length > 0, `no request known for the row "${row.case}"`);
      for (const [pattern, authorization] of matching) {
        covered.add(pattern);
        await t.step(`${row.case}: ${pattern.source}`, async () => {
          const { status, body } = await send(authorization);
          assert.equal(status, 401);
          assert.equal(body.error.code, row.code);
          assert.equal(body.error.message, row.message);
        });
      }
    }
    assert.equal(covered.size, cases.length, "every kind of 401 has a row in the table");
  } finally {
    store[Symbol.dispose]();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Shell command lines of the README's bash blocks, and its inline code spans. */
function commandsAndSpans(): { commands: string[]; spans: string[] } {
  const commands = [...README.matchAll(/```bash\n([\s\S]*?)\n```/g)]
    .flatMap((m) => (m[1] ?? "").replaceAll("\\\n", " ").split("\n"))
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
  const prose = README.replaceAll(/```[\s\S]*?```/g, "");
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? "");
  return { commands, spans };
}

Deno.test("every command in the README runs with only Node.js and npm, as the set-up says", async (t) => {
  const { commands, spans } = commandsAndSpans();
  const deno = /(^|[|;&]\s*|^(\w+=\S+\s+)+)deno\s/;
  await t.step("no shell command calls a bare deno", () => {
    const bare = commands.filter((line) => deno.test(line));
    assert.deepEqual(bare, []);
  });
  await t.step("no inline command calls a bare deno", () => {
    assert.deepEqual(spans.filter((span) => /^deno\s/.test(span)), []);
  });
  await t.step("every npx names the Deno version CI installs", async () => {
    const ci = await Deno.readTextFile(new URL("../../.ci/run", import.meta.url));
    const version = ci.match(/^DENO_VERSION=(\S+)$/m)?.[1];
    const launcher = await Deno.readTextFile(new URL("../../bin/choreoai", import.meta.url));
    assert.equal(launcher.match(/^DENO_VERSION=(\S+)$/m)?.[1], version);
    const named = [...README.matchAll(/npx -y deno@(\S+?)[\s`]/g)].map((m) => m[1]);
    assert.ok(named.length > 0);
    for (const found of named) assert.equal(found, version);
  });
  await t.step("bin/choreoai, which the commands use, is an executable file", async () => {
    assert.ok(commands.some((line) => /(^|\s)bin\/choreoai\s/.test(line)));
    const info = await Deno.stat(new URL("../../bin/choreoai", import.meta.url));
    assert.ok(info.isFile && (info.mode ?? 0) & 0o111, "bin/choreoai is executable");
  });
});

Deno.test("the README's configuration table names every CHOREOAI_ variable", () => {
  const start = README.indexOf("\n## Configuration");
  assert.ok(start >= 0, "README has no Configuration section");
  const table = README.slice(start, README.indexOf("\n## ", start + 1))
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) => line.split("|")[1] ?? "")
    .join(" ");
  for (const name of VARIABLE_NAMES.filter((name) => name.startsWith("CHOREOAI_"))) {
    assert.ok(table.includes(`\`${name}\``), `${name} is missing from the configuration table`);
  }
});
