/**
 * Claude Code itself, in print mode (`claude -p`), against a real gateway whose models route to
 * the fake OpenAI: it completes a prompt and a tool round trip (its built-in Read tool on a file
 * of the test's working directory), authenticating with `x-api-key` (ANTHROPIC_API_KEY) and with
 * Bearer (ANTHROPIC_AUTH_TOKEN), and reaches nothing but the gateway.
 *
 * Claude Code runs with an empty home and config directory, its temporary files and working
 * directory inside the test's temporary directory, non-essential traffic off, and every proxy
 * variable pointing at a local proxy that records and refuses whatever reaches it (NO_PROXY lets
 * only 127.0.0.1 through): the proxy must see nothing, and the fake OpenAI exactly the requests the
 * test expects. A first run shows that Claude Code does send a non-local request to that proxy, so
 * that its silence means something. Installed by `tests/_helpers/claude_code.ts` (outside the
 * checkout); skipped, saying why, when it cannot be installed or run here.
 */
import assert from "node:assert/strict";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { CLAUDE_CODE_VERSION, installClaudeCode } from "../_helpers/claude_code.ts";
import {
  PROVIDER_KEY,
  SSE_RESPONSE_HEADERS,
  sseBody,
  startFakeOpenAI,
  streamChunks,
} from "../_helpers/fake_openai.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { makeKey } from "../_helpers/keys.ts";
import { proxyEnv, startRecordingProxy } from "../_helpers/recording_proxy.ts";

const CLAUDE = await installClaudeCode();

/** What the fake OpenAI was asked, as the gateway sent it. */
type ChatMessage = { role: string; content: unknown; tool_call_id?: string };

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part as { text?: string }).text ?? "").join("\n");
}

/** The chunks of a streamed call of Claude Code's Read tool, its arguments in two pieces. */
function readToolChunks(model: string, path: string): Record<string, unknown>[] {
  const base = { id: "chatcmpl-read", object: "chat.completion.chunk", created: 1, model };
  const chunk = (delta: object, finish: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null,
  });
  const args = JSON.stringify({ file_path: path });
  const half = Math.floor(args.length / 2);
  const call = { index: 0, id: "call_read_1", type: "function" };
  return [
    chunk({
      role: "assistant",
      content: null,
      tool_calls: [{ ...call, function: { name: "Read", arguments: "" } }],
    }, null),
    chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(0, half) } }] }, null),
    chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(half) } }] }, null),
    chunk({}, "tool_calls"),
    { ...base, choices: [], usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 } },
  ];
}

/**
 * The fake OpenAI's side of the conversation: a prompt naming `note.txt` gets a call of Read on
 * `notePath`, the tool's result gets a sentence quoting what the result held, anything else
 * "pong". Only streams are answered (Claude Code streams; a non-stream retry would mean a failed
 * stream).
 */
function scriptFor(notePath: string) {
  return (body: Record<string, unknown>): Response => {
    if (body.stream !== true) {
      return Response.json({ error: { message: "expected a stream" } }, { status: 400 });
    }
    const model = String(body.model);
    const messages = body.messages as ChatMessage[];
    const toolResult = messages.findLast((m) => m.role === "tool");
    const prompt = textOf(messages.findLast((m) => m.role === "user")?.content);
    if (toolResult !== undefined) {
      const words = ["The note says: ", textOf(toolResult.content).trim()];
      return new Response(sseBody(streamChunks(model, words, true)), {
        headers: SSE_RESPONSE_HEADERS,
      });
    }
    if (prompt.includes("note.txt")) {
      return new Response(sseBody(readToolChunks(model, notePath)), {
        headers: SSE_RESPONSE_HEADERS,
      });
    }
    return new Response(sseBody(streamChunks(model, ["po", "ng"], true)), {
      headers: SSE_RESPONSE_HEADERS,
    });
  };
}

/** Claude Code's `--output-format json` result (the fields the test reads). */
interface PrintResult {
  readonly type: string;
  readonly subtype: string;
  readonly is_error: boolean;
  readonly result: string;
  readonly num_turns: number;
  readonly permission_denials: unknown[];
  readonly usage: { input_tokens: number; output_tokens: number };
  readonly api_error_status?: number | null;
}

interface RunOptions {
  readonly baseUrl: string;
  /** ANTHROPIC_API_KEY (sent as `x-api-key`) or ANTHROPIC_AUTH_TOKEN (sent as Bearer). */
  readonly auth: "ANTHROPIC_API_KEY" | "ANTHROPIC_AUTH_TOKEN";
  readonly key: string;
  readonly model: string;
  readonly prompt: string;
  readonly args?: readonly string[];
}

/** Runs `claude -p` in `dir`/work with its home in `dir`/home; its exit code and output. */
async function runClaude(binary: string, dir: string, proxy: string, options: RunOptions) {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: `${dir}/home`,
    CLAUDE_CONFIG_DIR: `${dir}/home/.claude`,
    TMPDIR: `${dir}/tmp`,
    NO_COLOR: "1",
    ANTHROPIC_BASE_URL: options.baseUrl,
    [options.auth]: options.key,
    ANTHROPIC_MODEL: options.model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: options.model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: options.model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: options.model,
    CLAUDE_CODE_SUBAGENT_MODEL: options.model,
    // Its default for a model it does not know is 32,000; gpt-4o takes at most 16,384.
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: "16384",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    DISABLE_BUG_COMMAND: "1",
    ...proxyEnv(proxy),
  };
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: [
      "-c",
      'exec "$0" "$@"',
      binary,
      "-p",
      options.prompt,
      "--output-format",
      "json",
      ...(options.args ?? []),
    ],
    cwd: `${dir}/work`,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  const out = decoder.decode(stdout);
  const transcript = `exit ${code}\nstdout: ${out}\nstderr: ${decoder.decode(stderr)}`;
  let result: PrintResult | undefined;
  try {
    result = JSON.parse(out);
  } catch {
    result = undefined;
  }
  return { code, result, transcript };
}

const NAME = `Claude Code ${CLAUDE_CODE_VERSION} (claude -p) completes a prompt and a tool round ` +
  "trip through the gateway to OpenAI, with x-api-key and Bearer, and reaches nothing else";

Deno.test({
  name: "binary" in CLAUDE ? NAME : `${NAME} (SKIPPED: ${CLAUDE.skipped})`,
  ignore: !("binary" in CLAUDE),
  async fn(t) {
    if (!("binary" in CLAUDE)) return;
    const binary = CLAUDE.binary;
    const dir = await Deno.makeTempDir({ prefix: "choreoai-claude-code-" });
    try {
      for (const sub of ["home", "work", "tmp"]) await Deno.mkdir(`${dir}/${sub}`);
      const secret = `note-${crypto.randomUUID()}`;
      const notePath = `${dir}/work/note.txt`;
      await Deno.writeTextFile(notePath, `${secret}\n`);

      await using openai = startFakeOpenAI({ onChat: scriptFor(notePath) });
      const key = makeKey({ models: ["coder", "openai/gpt-4o"] });
      await using gateway = startGateway({
        env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: openai.baseUrl },
        routingFile: { models: { coder: { targets: [{ provider: "openai", model: "gpt-4o" }] } } },
        verifier: createKeyListVerifier(() => compileKeyIndex({ version: 1, keys: [key.record] })),
      });
      await using proxy = startRecordingProxy();
      const run = (options: Omit<RunOptions, "baseUrl"> & { baseUrl?: string }) =>
        runClaude(binary, dir, proxy.url, { baseUrl: gateway.url, ...options });

      await t.step("the proxy does see a request that is not for 127.0.0.1", async () => {
        const { code, transcript } = await run({
          baseUrl: "http://gateway.invalid",
          auth: "ANTHROPIC_API_KEY",
          key: key.token,
          model: "coder",
          prompt: "Say pong.",
        });
        assert.notEqual(code, 0, transcript);
        assert.ok(
          proxy.seen.some((line) => line.startsWith("POST http://gateway.invalid/v1/messages")),
          `the proxy saw ${JSON.stringify(proxy.seen)}`,
        );
        assert.equal(openai.requests.length, 0);
        proxy.seen.length = 0;
      });

      await t.step("a prompt, with the key as x-api-key (ANTHROPIC_API_KEY)", async () => {
        const { code, result, transcript } = await run({
          auth: "ANTHROPIC_API_KEY",
          key: key.token,
          model: "openai/gpt-4o",
          prompt: "Say pong.",
        });
        assert.equal(code, 0, transcript);
        assert.equal(result?.is_error, false, transcript);
        assert.equal(result?.result, "pong", transcript);
        assert.equal(result?.usage.output_tokens, 2, transcript);
        assert.deepEqual(proxy.seen, []);
        assert.equal(openai.requests.length, 1);
        const [request] = openai.requests;
        assert.equal(request?.path, "/v1/chat/completions");
        assert.equal(request?.headers.get("authorization"), `Bearer ${PROVIDER_KEY}`);
        assert.equal(request?.headers.get("x-api-key"), null);
        assert.equal(request?.body?.model, "gpt-4o");
        assert.equal(request?.body?.stream, true);
        assert.equal(request?.body?.max_completion_tokens, 16_384);
        // Claude Code asks for effort "high"; gpt-4o takes no reasoning_effort (OpenAI: 400).
        assert.equal(request?.body?.reasoning_effort, undefined);
        const messages = request?.body?.messages as ChatMessage[];
        assert.equal(messages[0]?.role, "system");
        assert.ok(textOf(messages.findLast((m) => m.role === "user")?.content).includes("pong"));
        const tools = request?.body?.tools as { function: { name: string } }[];
        assert.ok(tools.some((tool) => tool.function.name === "Read"), "Read is offered");
      });

      await t.step("a tool round trip, with the key as Bearer (ANTHROPIC_AUTH_TOKEN)", async () => {
        const before = openai.requests.length;
        const { code, result, transcript } = await run({
          auth: "ANTHROPIC_AUTH_TOKEN",
          key: key.token,
          model: "coder",
          prompt: "What does note.txt say?",
          args: ["--allowedTools", "Read"],
        });
        assert.equal(code, 0, transcript);
        assert.equal(result?.is_error, false, transcript);
        assert.equal(result?.num_turns, 2, transcript);
        assert.deepEqual(result?.permission_denials, [], transcript);
        assert.match(result?.result ?? "", new RegExp(`^The note says: .*${secret}`), transcript);
        assert.deepEqual(proxy.seen, []);
        const requests = openai.requests.slice(before);
        assert.equal(requests.length, 2, transcript);
        for (const request of requests) {
          assert.equal(request.body?.model, "gpt-4o");
          assert.equal(request.body?.stream, true);
        }
        const messages = requests[1]?.body?.messages as ChatMessage[];
        const call = messages.findLast((m) => m.role === "assistant") as
          | { tool_calls?: { id: string; function: { name: string; arguments: string } }[] }
          | undefined;
        assert.equal(call?.tool_calls?.[0]?.id, "call_read_1");
        assert.equal(call?.tool_calls?.[0]?.function.name, "Read");
        assert.deepEqual(JSON.parse(call?.tool_calls?.[0]?.function.arguments ?? "null"), {
          file_path: notePath,
        });
        const toolResult = messages.findLast((m) => m.role === "tool");
        assert.equal(toolResult?.tool_call_id, "call_read_1");
        assert.ok(textOf(toolResult?.content).includes(secret), JSON.stringify(toolResult));
        const served = gateway.logs.filter((line) => line.path === "/v1/messages");
        assert.deepEqual(
          served.map((line) => [line.status, line.provider, line.upstream_model, line.model]),
          [
            [200, "openai", "gpt-4o", "openai/gpt-4o"],
            [200, "openai", "gpt-4o", "coder"],
            [200, "openai", "gpt-4o", "coder"],
          ],
        );
      });

      await t.step("a wrong key is refused by the gateway, and nothing goes upstream", async () => {
        const before = openai.requests.length;
        const { code, result, transcript } = await run({
          auth: "ANTHROPIC_API_KEY",
          key: "sk-choreo-not-a-key-of-the-list-0000",
          model: "coder",
          prompt: "Say pong.",
        });
        assert.notEqual(code, 0, transcript);
        assert.equal(result?.is_error, true, transcript);
        assert.equal(result?.api_error_status, 401, transcript);
        assert.match(result?.result ?? "", /Invalid API key provided/, transcript);
        assert.equal(openai.requests.length, before);
        assert.deepEqual(proxy.seen, []);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
