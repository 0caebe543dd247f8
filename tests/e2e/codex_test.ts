/**
 * Codex CLI itself (`codex exec`), with a model provider pointed at a real gateway whose model
 * routes to the fake Anthropic, through `/v1/responses` (`wire_api = "responses"`): it completes
 * a prompt and a tool round trip (its `exec_command` tool running `cat note.txt` in the test's
 * working directory), runs a call of one of its sub-agent tools (sent as a `namespace` tool, and
 * dispatched by Codex only when the call names its namespace), does the same with a reasoning
 * model on an OpenAI-compatible server (its reasoning shown by Codex), and reaches nothing but the
 * gateway.
 *
 * Codex runs with its home (`CODEX_HOME`) and working directory in the test's temporary
 * directory, with the README's config.toml (read from it): retries off; plugins, analytics and web
 * search off (Codex would otherwise fetch plugins from GitHub, send analytics to chatgpt.com, and
 * offer a `web_search` tool, which only OpenAI runs); sub-agents left on. Every proxy
 * variable points at a local proxy that records and refuses whatever reaches it (NO_PROXY lets
 * only 127.0.0.1 through): the proxy must see nothing, and the fakes exactly the requests the
 * test expects. A first run shows that Codex does send a non-local request to that proxy, so that
 * its silence means something. Installed by `tests/_helpers/codex.ts` (outside the checkout);
 * skipped, saying why, when it cannot be installed or run here.
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
  openAIAnswer,
  type Reply,
  type View,
  viewOfChat,
  viewOfMessages,
  words,
} from "../_helpers/fake_model.ts";
import { type ChatScript, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";
import { proxyEnv, startRecordingProxy } from "../_helpers/recording_proxy.ts";

const CODEX = await installCodex();

/** The routing file's public name Codex asks for, and the Claude model it routes to. */
const PUBLIC_MODEL = "coder";
const CLAUDE_MODEL = "claude-sonnet-4-5";
/** A public name routed to an OpenAI-compatible server whose model reasons. */
const REASONING_MODEL = "thinker";

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

/** What the model says to Codex, whatever the provider (see {@linkcode codexReply}). */
function reply(view: View, text: string, calls: readonly Call[] = []): Reply {
  return {
    reasoning: view.reasoning ? "Codex can read the note." : undefined,
    text,
    calls,
    finish: calls.length > 0 ? "tool_calls" : "stop",
    stopSequence: undefined,
    inputTokens: 30,
    outputTokens: words(text).length + calls.length,
  };
}

/** The agent id the model asks Codex's sub-agent tool `close_agent` to close: there is none. */
const NO_AGENT = "no-such-agent";

/**
 * The model's side: a prompt naming `note.txt` gets a call of Codex's `exec_command` running
 * `cat note.txt`, one saying "close agent" a call of its sub-agent tool `close_agent` (in its
 * `multi_agent_v1` namespace), the tool's result a sentence quoting the result's last line (the
 * command's output), anything else "pong"; asked to reason, it reasons first.
 */
function codexReply(view: View, callId: string): Reply {
  const [result] = view.toolResults;
  if (result !== undefined) {
    return reply(view, `The note says: ${result.trim().split("\n").at(-1)}`);
  }
  if (view.lastUserText.includes("note.txt")) {
    return reply(view, "", [{ id: callId, name: "exec_command", args: { cmd: "cat note.txt" } }]);
  }
  if (view.lastUserText.includes("close agent")) {
    return reply(view, "", [{ id: callId, name: "close_agent", args: { target: NO_AGENT } }]);
  }
  return reply(view, "pong");
}

/** The fake Anthropic's script: only streams are answered (Codex streams). */
const anthropicScript: MessagesScript = (body) => {
  if (body.stream !== true) return Response.json({ error: "expected a stream" }, { status: 400 });
  return anthropicReply(body, codexReply(viewOfMessages(body), "toolu_cat_1"));
};

/** The fake OpenAI-compatible server's script (it shows its reasoning as `reasoning_content`). */
const compatibleScript: ChatScript = (body) => {
  if (body.stream !== true) return Response.json({ error: "expected a stream" }, { status: 400 });
  return openAIAnswer(body, codexReply(viewOfChat(body), "call_cat_1"), { compatible: true });
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
async function runCodex(
  binary: string,
  dir: string,
  env: Record<string, string>,
  prompt: string,
  args: readonly string[] = [],
) {
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
      ...args,
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
  const out = decoder.decode(stdout);
  const transcript = `exit ${code}\nstdout: ${out}\nstderr: ${decoder.decode(stderr)}`;
  const last = await Deno.readTextFile(lastMessage).catch(() => undefined);
  // With --json, stdout is Codex's events, one JSON object a line.
  const events = out.split("\n").filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { type: string; item?: { type: string; text?: string } });
  return { code, last, transcript, events };
}

const NAME = `Codex ${CODEX_VERSION} (codex exec) completes a prompt, a tool round trip and ` +
  "a sub-agent tool call through /v1/responses to Anthropic, reasons on an OpenAI-compatible " +
  "server, and reaches nothing else";

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

      await using anthropic = startFakeAnthropic(anthropicScript);
      await using compatible = startFakeOpenAI({ onChat: compatibleScript });
      const key = makeKey({ models: [PUBLIC_MODEL, REASONING_MODEL] });
      await using gateway = startGateway({
        env: {
          ANTHROPIC_API_KEY: ANTHROPIC_KEY,
          ANTHROPIC_BASE_URL: anthropic.baseUrl,
          LOCAL_KEY: PROVIDER_KEY,
        },
        routingFile: {
          providers: {
            local: {
              kind: "openai-compatible",
              base_url: compatible.baseUrl,
              api_key_env: "LOCAL_KEY",
            },
          },
          models: {
            [PUBLIC_MODEL]: { targets: [{ provider: "anthropic", model: CLAUDE_MODEL }] },
            [REASONING_MODEL]: { targets: [{ provider: "local", model: "qwen3" }] },
          },
        },
        verifier: createKeyListVerifier(() => compileKeyIndex({ version: 1, keys: [key.record] })),
      });
      await using proxy = startRecordingProxy();
      const env = { CHOREOAI_API_KEY: key.token, ...proxyEnv(proxy.url) };
      const run = (prompt: string) => runCodex(binary, dir, env, prompt);
      const prompt = "What does note.txt say?";
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
        // Its sub-agent tools come as a namespace tool, sent as plain tools.
        assert.ok(tools.some((tool) => tool.name === "spawn_agent"), "spawn_agent is offered");
        const served = gateway.logs.filter((line) => line.path === "/v1/responses");
        assert.deepEqual(
          served.map((line) => [line.status, line.provider, line.upstream_model, line.model]),
          [[200, "anthropic", CLAUDE_MODEL, PUBLIC_MODEL]],
        );
      });

      await t.step("a tool round trip: exec_command runs cat note.txt", async () => {
        const before = anthropic.requests.length;
        const { code, last, transcript } = await run(prompt);
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

      await t.step("a sub-agent tool (in a namespace): Codex runs close_agent", async () => {
        const before = anthropic.requests.length;
        const { code, transcript } = await run("Please close agent now.");
        assert.equal(code, 0, transcript);
        assert.deepEqual(proxy.seen, []);
        const requests = anthropic.requests.slice(before);
        assert.equal(requests.length, 2, transcript);
        const turns = requests[1]?.body?.messages as Turn[];
        const call = blocks(turns.at(-2)).find((block) => block.type === "tool_use");
        assert.deepEqual([call?.name, call?.input], ["close_agent", { target: NO_AGENT }]);
        const result = blocks(turns.at(-1)).find((block) => block.type === "tool_result");
        // Codex ran its own close_agent (which finds no such agent): a call without the
        // namespace would get "unsupported call: close_agent".
        const output = textOf(result?.content);
        assert.match(output, new RegExp(`invalid agent id ${NO_AGENT}`), output);
        assert.doesNotMatch(output, /unsupported call/);
      });

      await t.step(
        "a reasoning model (OpenAI-compatible): Codex shows the reasoning, the round trip goes on",
        async () => {
          const before = anthropic.requests.length;
          const { code, last, events, transcript } = await runCodex(binary, dir, env, prompt, [
            "--json",
            "--model",
            REASONING_MODEL,
            "--config",
            'model_reasoning_effort="high"',
          ]);
          assert.equal(code, 0, transcript);
          assert.equal(last, `The note says: ${secret}`, transcript);
          const reasoning = events.filter((event) => event.item?.type === "reasoning");
          assert.deepEqual(reasoning.map((event) => event.item?.text), [
            "Codex can read the note.",
            "Codex can read the note.",
          ]);
          assert.deepEqual(proxy.seen, []);
          assert.equal(anthropic.requests.length, before);
          const requests = compatible.requests;
          assert.equal(requests.length, 2, transcript);
          for (const request of requests) assert.equal(request.body?.reasoning_effort, "high");
          // Reasoning items given back (no encrypted content) mean nothing to another provider.
          const messages = requests[1]?.body?.messages as {
            role: string;
            content: unknown;
            tool_calls?: { id: string }[];
          }[];
          assert.deepEqual(messages.slice(-2).map((m) => [m.role, m.tool_calls?.[0]?.id]), [
            ["assistant", "call_cat_1"],
            ["tool", undefined],
          ]);
          assert.ok(textOf(messages.at(-1)?.content).includes(secret));
        },
      );

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
