/**
 * Codex CLI itself (`codex exec`), with a model provider pointed at a real gateway whose model
 * routes to the fake Anthropic, through `/v1/responses` (`wire_api = "responses"`): it completes
 * a prompt and a tool round trip (its `exec_command` tool running `cat note.txt` in the test's
 * working directory), and reaches nothing but the gateway.
 *
 * Codex runs with its home (`CODEX_HOME`) and working directory in the test's temporary
 * directory, the README's config.toml (read from it; retries off; plugins, analytics, web search and
 * sub-agents off: Codex would otherwise fetch plugins from GitHub and send analytics to
 * chatgpt.com, and offer `web_search` and `namespace` tools, which only OpenAI runs), and every
 * proxy variable pointing at a local proxy that records and refuses whatever reaches it (NO_PROXY
 * lets only 127.0.0.1 through): the proxy must see nothing, and the fake Anthropic exactly the
 * requests the test expects. A first run shows that Codex does send a non-local request to that
 * proxy, so that its silence means something. Installed by `tests/_helpers/codex.ts` (outside the
 * checkout); skipped, saying why, when it cannot be installed or run here.
 */
import assert from "node:assert/strict";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { CODEX_VERSION, installCodex } from "../_helpers/codex.ts";
import {
  ANTHROPIC_KEY,
  type MessagesScript,
  startFakeAnthropic,
} from "../_helpers/fake_anthropic.ts";
import {
  anthropicReply,
  type Call,
  type Reply,
  viewOfMessages,
  words,
} from "../_helpers/fake_model.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";
import { proxyEnv, startRecordingProxy } from "../_helpers/recording_proxy.ts";

const CODEX = await installCodex();

/** The routing file's public name Codex asks for, and the Claude model it routes to. */
const PUBLIC_MODEL = "coder";
const CLAUDE_MODEL = "claude-sonnet-4-5";

const MARKER = "<!-- codex-config:";
/** The address the README's config.toml names, replaced by the test gateway's. */
const README_BASE_URL = "http://localhost:8000/v1";

/** The README's config.toml (the first ```toml block after the marker), for `baseUrl`. */
async function codexConfig(baseUrl: string): Promise<string> {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const match = readme.slice(readme.indexOf(MARKER)).match(/```toml\n([\s\S]*?)\n```/);
  const config = match?.[1];
  assert.ok(readme.includes(MARKER) && config !== undefined, "the README lost its config.toml");
  assert.ok(config.includes(README_BASE_URL), `the README's config.toml has no ${README_BASE_URL}`);
  return `${config.replaceAll(README_BASE_URL, baseUrl)}\n`;
}

function reply(text: string, calls: readonly Call[] = []): Reply {
  return {
    reasoning: undefined,
    text,
    calls,
    finish: calls.length > 0 ? "tool_calls" : "stop",
    stopSequence: undefined,
    inputTokens: 30,
    outputTokens: words(text).length + calls.length,
  };
}

/**
 * The fake Anthropic's side: a prompt naming `note.txt` gets a call of Codex's `exec_command`
 * running `cat note.txt`, the tool's result a sentence quoting the result's last line (the
 * command's output), anything else "pong". Only streams are answered (Codex streams).
 */
const script: MessagesScript = (body) => {
  if (body.stream !== true) return Response.json({ error: "expected a stream" }, { status: 400 });
  const view = viewOfMessages(body);
  const [result] = view.toolResults;
  if (result !== undefined) {
    return anthropicReply(body, reply(`The note says: ${result.trim().split("\n").at(-1)}`));
  }
  if (view.lastUserText.includes("note.txt")) {
    const call = { id: "toolu_cat_1", name: "exec_command", args: { cmd: "cat note.txt" } };
    return anthropicReply(body, reply("", [call]));
  }
  return anthropicReply(body, reply("pong"));
};

type Block = { type: string; [key: string]: unknown };
type Turn = { role: string; content: string | Block[] };

function blocks(turn: Turn | undefined): Block[] {
  if (turn === undefined) return [];
  return typeof turn.content === "string" ? [{ type: "text", text: turn.content }] : turn.content;
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return "";
  return value.map((block: Block) => typeof block.text === "string" ? block.text : "").join("\n");
}

/** Runs `codex exec` in `dir`/work with CODEX_HOME `dir`/home; its exit code and last message. */
async function runCodex(binary: string, dir: string, env: Record<string, string>, prompt: string) {
  const lastMessage = `${dir}/tmp/last-message.txt`;
  await Deno.remove(lastMessage).catch(() => {});
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [
      "-c",
      'exec "$0" "$@"',
      binary,
      "exec",
      "--strict-config",
      "--skip-git-repo-check",
      "--ephemeral",
      // The only command is the fake model's `cat note.txt`; Codex's sandbox (bubblewrap) needs
      // user namespaces, which CI containers may not allow.
      "--sandbox",
      "danger-full-access",
      "--output-last-message",
      lastMessage,
      prompt,
    ],
    cwd: `${dir}/work`,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: `${dir}/home`,
      CODEX_HOME: `${dir}/home`,
      TMPDIR: `${dir}/tmp`,
      NO_COLOR: "1",
      ...env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  const transcript = `exit ${code}\nstdout: ${decoder.decode(stdout)}\nstderr: ${
    decoder.decode(stderr)
  }`;
  const last = await Deno.readTextFile(lastMessage).catch(() => undefined);
  return { code, last, transcript };
}

const NAME = `Codex ${CODEX_VERSION} (codex exec) completes a prompt and a tool round trip ` +
  "through /v1/responses to Anthropic, and reaches nothing else";

Deno.test({
  name: "binary" in CODEX ? NAME : `${NAME} (SKIPPED: ${CODEX.skipped})`,
  ignore: !("binary" in CODEX),
  async fn(t) {
    if (!("binary" in CODEX)) return;
    const binary = CODEX.binary;
    const dir = await Deno.makeTempDir({ prefix: "choreoai-codex-" });
    try {
      for (const sub of ["home", "work", "tmp"]) await Deno.mkdir(`${dir}/${sub}`);
      const secret = `note-${crypto.randomUUID()}`;
      await Deno.writeTextFile(`${dir}/work/note.txt`, `${secret}\n`);

      await using anthropic = startFakeAnthropic(script);
      const key = makeKey({ models: [PUBLIC_MODEL] });
      await using gateway = startGateway({
        env: { ANTHROPIC_API_KEY: ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropic.baseUrl },
        routingFile: {
          models: { [PUBLIC_MODEL]: { targets: [{ provider: "anthropic", model: CLAUDE_MODEL }] } },
        },
        verifier: createKeyListVerifier(() => compileKeyIndex({ version: 1, keys: [key.record] })),
      });
      await using proxy = startRecordingProxy();
      const env = { CHOREOAI_API_KEY: key.token, ...proxyEnv(proxy.url) };
      const run = (prompt: string) => runCodex(binary, dir, env, prompt);
      const configPath = `${dir}/home/config.toml`;

      await t.step("the proxy does see a request that is not for 127.0.0.1", async () => {
        await Deno.writeTextFile(configPath, await codexConfig("http://gateway.invalid/v1"));
        const { code, transcript } = await run("Say pong.");
        assert.notEqual(code, 0, transcript);
        assert.deepEqual(proxy.seen, ["POST http://gateway.invalid/v1/responses HTTP/1.1"]);
        assert.equal(anthropic.requests.length, 0);
        proxy.seen.length = 0;
      });

      await Deno.writeTextFile(configPath, await codexConfig(`${gateway.url}/v1`));

      await t.step("a prompt", async () => {
        const { code, last, transcript } = await run("Say pong.");
        assert.equal(code, 0, transcript);
        assert.equal(last, "pong", transcript);
        assert.deepEqual(proxy.seen, []);
        assert.equal(anthropic.requests.length, 1, transcript);
        const [request] = anthropic.requests;
        assert.equal(request?.path, "/v1/messages");
        assert.equal(request?.headers.get("x-api-key"), ANTHROPIC_KEY);
        assert.equal(request?.body?.model, CLAUDE_MODEL);
        assert.equal(request?.body?.stream, true);
        // Codex's instructions come as developer messages: Anthropic's system.
        assert.match(textOf(request?.body?.system), /Codex/);
        const turns = request?.body?.messages as Turn[];
        assert.match(textOf(blocks(turns.at(-1))), /Say pong\./);
        const tools = request?.body?.tools as { name: string }[];
        assert.ok(tools.some((tool) => tool.name === "exec_command"), "exec_command is offered");
        const served = gateway.logs.filter((line) => line.path === "/v1/responses");
        assert.deepEqual(
          served.map((line) => [line.status, line.provider, line.upstream_model, line.model]),
          [[200, "anthropic", CLAUDE_MODEL, PUBLIC_MODEL]],
        );
      });

      await t.step("a tool round trip: exec_command runs cat note.txt", async () => {
        const before = anthropic.requests.length;
        const { code, last, transcript } = await run("What does note.txt say?");
        assert.equal(code, 0, transcript);
        assert.equal(last, `The note says: ${secret}`, transcript);
        assert.deepEqual(proxy.seen, []);
        const requests = anthropic.requests.slice(before);
        assert.equal(requests.length, 2, transcript);
        // Codex sends `store: false` and replays the call and its output as input items.
        const turns = requests[1]?.body?.messages as Turn[];
        const call = blocks(turns.at(-2)).find((block) => block.type === "tool_use");
        assert.deepEqual(
          [call?.id, call?.name, call?.input],
          ["toolu_cat_1", "exec_command", { cmd: "cat note.txt" }],
        );
        const result = blocks(turns.at(-1)).find((block) => block.type === "tool_result");
        assert.equal(result?.tool_use_id, "toolu_cat_1");
        assert.ok(textOf(result?.content).includes(secret), JSON.stringify(result));
      });

      await t.step("a wrong key is refused by the gateway, and nothing goes upstream", async () => {
        const before = anthropic.requests.length;
        const { code, last, transcript } = await runCodex(binary, dir, {
          ...env,
          CHOREOAI_API_KEY: "sk-choreo-not-a-key-of-the-list-0000",
        }, "Say pong.");
        assert.notEqual(code, 0, transcript);
        assert.equal(last ?? "", "", transcript);
        assert.match(transcript, /unexpected status 401 Unauthorized: Invalid API key provided/);
        assert.equal(anthropic.requests.length, before);
        assert.deepEqual(proxy.seen, []);
        // request_max_retries = 0: Codex asked once.
        const refused = gateway.logs.filter((line) => line.path === "/v1/responses");
        assert.deepEqual(refused.map((line) => line.status).slice(-1), [401]);
        assert.equal(refused.filter((line) => line.status === 401).length, 1);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
