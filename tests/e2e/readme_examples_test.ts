/**
 * Every client example of the README's "Calling it" section runs against a real gateway, so the
 * README cannot drift from the product. Each code block is taken from the README as written; only
 * `http://localhost:8000` is pointed at the test's gateway. Examples whose runtime is missing here
 * (curl, Python's `requests` or `openai`) are reported as ignored, saying why; `.ci/run` installs
 * them. The pre-1.0 OpenAI Python client cannot be installed any more, so the exact HTTP request it
 * sends is replayed instead.
 */
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "../_helpers/gateway.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = await Deno.readTextFile(`${ROOT}README.md`);

/** The code blocks under each `###` heading of the "Calling it" section. */
function examples(): Map<string, { lang: string; code: string }[]> {
  const start = README.indexOf("## Calling it");
  const end = README.indexOf("\n## ", start + 1);
  const section = README.slice(start, end);
  const found = new Map<string, { lang: string; code: string }[]>();
  for (const part of section.split("\n### ").slice(1)) {
    const heading = part.slice(0, part.indexOf("\n")).trim();
    const blocks = [...part.matchAll(/```(\w+)\n([\s\S]*?)\n```/g)].map((m) => ({
      lang: m[1] ?? "",
      code: m[2] ?? "",
    }));
    found.set(heading, blocks);
  }
  return found;
}

const EXAMPLES = examples();

function example(heading: string): string {
  const blocks = EXAMPLES.get(heading);
  assert.ok(blocks !== undefined && blocks.length > 0, `README has no "${heading}" example`);
  return blocks[0]?.code ?? "";
}

async function available(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

const HAS_CURL = await available("curl", ["--version"]);
const HAS_PYTHON = await available("python3", ["--version"]);
const HAS_REQUESTS = HAS_PYTHON && await available("python3", ["-c", "import requests"]);
const HAS_OPENAI_PY = HAS_PYTHON && await available("python3", ["-c", "import openai"]);

/**
 * Runs a command with only the variables it needs; fails the test on a non-zero exit. Python
 * writes no `__pycache__` (the ChoreoAI client is imported from the checkout).
 */
async function runExample(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
): Promise<string> {
  const keep: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME", "VIRTUAL_ENV"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: { ...keep, NO_COLOR: "1", PYTHONDONTWRITEBYTECODE: "1", ...env },
    clearEnv: true,
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
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${command} failed:\n${out}\n${new TextDecoder().decode(stderr)}`);
  return out;
}

function pointAt(code: string, gateway: TestGateway): string {
  return code.replaceAll("http://localhost:8000", gateway.url);
}

Deno.test({
  name: `README cURL example${HAS_CURL ? "" : " (SKIPPED: needs curl)"}`,
  ignore: !HAS_CURL,
  async fn() {
    await using gateway = startGateway();
    const out = await runExample("bash", ["-c", pointAt(example("cURL"), gateway)]);
    const body = JSON.parse(out);
    assert.equal(body.object, "chat.completion");
    assert.equal(body.choices[0].message.content, "Hello!");
  },
});

Deno.test({
  name: `README Python (requests) example${HAS_REQUESTS ? "" : " (SKIPPED: needs requests)"}`,
  ignore: !HAS_REQUESTS,
  async fn() {
    await using gateway = startGateway();
    const out = await runExample(
      "python3",
      ["-"],
      {},
      pointAt(example("Python (requests)"), gateway),
    );
    // print(response.json()) prints a Python dict.
    assert.match(out, /'object': 'chat\.completion'/);
    assert.match(out, /'content': 'Hello!'/);
  },
});

Deno.test("README JavaScript (fetch) example", async () => {
  await using gateway = startGateway();
  const out = await runExample("deno", [
    "eval",
    "--ext=js",
    pointAt(example("JavaScript (fetch)"), gateway),
  ]);
  assert.match(out, /object: "chat\.completion"/);
  assert.match(out, /content: "Hello!"/);
});

Deno.test({
  name: `README Python (ChoreoAI client) example${HAS_PYTHON ? "" : " (SKIPPED: needs python3)"}`,
  ignore: !HAS_PYTHON,
  async fn() {
    await using gateway = startGateway();
    const out = await runExample(
      "python3",
      ["-"],
      // `pip install ./clients/python`, as the README says; no CHOREOAI_* variable is set.
      { PYTHONPATH: `${ROOT}clients/python/src` },
      pointAt(example("Python (ChoreoAI client)"), gateway),
    );
    assert.deepEqual(out.trimEnd().split("\n"), [
      "Hello!",
      "Stream this back",
      "2 embeddings of 16 dimensions",
    ]);
  },
});

Deno.test({
  name: `clients/python/README.md examples, pasted in order${
    HAS_PYTHON ? "" : " (SKIPPED: needs python3)"
  }`,
  ignore: !HAS_PYTHON,
  async fn() {
    const readme = await Deno.readTextFile(`${ROOT}clients/python/README.md`);
    const blocks = [...readme.matchAll(/```python\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
    assert.ok(blocks.length >= 4, "the client README has its examples");
    await using gateway = startGateway();
    // Each block continues the one before (they share `client`), as a reader pasting them would.
    const out = await runExample(
      "python3",
      ["-"],
      { PYTHONPATH: `${ROOT}clients/python/src` },
      pointAt(blocks.join("\n"), gateway),
    );
    const lines = out.trimEnd().split("\n");
    assert.equal(lines[0], "Hello!");
    assert.match(out, /^tokens: \d+$/m);
    assert.match(out, /^choreoai\/echo choreoai$/m);
    assert.match(out, /^404 invalid_request_error model_not_found /m);
  },
});

Deno.test({
  name: `README Python (OpenAI client, v1) example${
    HAS_OPENAI_PY ? "" : " (SKIPPED: needs the openai package)"
  }`,
  ignore: !HAS_OPENAI_PY,
  async fn() {
    await using gateway = startGateway();
    const out = await runExample(
      "python3",
      ["-"],
      {},
      pointAt(example("Python (OpenAI client, v1 and later)"), gateway),
    );
    assert.deepEqual(out.trimEnd().split("\n"), ["Hello!", "Stream this back"]);
  },
});

Deno.test("README JavaScript / TypeScript (OpenAI client) example", async () => {
  await using gateway = startGateway();
  const out = await runExample("deno", [
    "eval",
    "--ext=js",
    pointAt(example("JavaScript / TypeScript (OpenAI client)"), gateway),
  ]);
  const lines = out.trimEnd().split("\n");
  assert.equal(lines[0], "Hello!");
  assert.equal(lines.slice(1).join(""), "Stream this back");
});

Deno.test("README TypeScript (ChoreoAI client) example", async () => {
  await using gateway = startGateway();
  const out = await runExample("deno", [
    "eval",
    "--ext=ts",
    pointAt(example("TypeScript / JavaScript (ChoreoAI client)"), gateway),
  ]);
  assert.deepEqual(out.trimEnd().split("\n"), ["Hello!", "Stream this back", "2 embeddings"]);
});

Deno.test("README pre-1.0 OpenAI Python example: the exact request that client sends", async () => {
  const code = example("Python (OpenAI client before 1.0)");
  // The example is the legacy module-level form.
  assert.match(code, /openai\.api_base = "http:\/\/localhost:8000\/v1"/);
  assert.match(code, /openai\.ChatCompletion\.create\(/);
  const model = code.match(/model="([^"]+)"/)?.[1];
  assert.equal(model, "choreoai/echo");
  await using gateway = startGateway();
  // openai 0.28.1 (api_requestor.py): POST {api_base}/chat/completions, body json.dumps(params)
  // (", " and ": " separators), these headers, sent by `requests` with its defaults.
  const body = `{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}`;
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "User-Agent": "OpenAI/v1 PythonBindings/0.28.1",
      "Accept-Encoding": "gzip, deflate",
      "Accept": "*/*",
      "Connection": "keep-alive",
      "X-OpenAI-Client-User-Agent": JSON.stringify({
        bindings_version: "0.28.1",
        httplib: "requests",
        lang: "python",
        lang_version: "3.11.7",
        platform: "Linux-6.1.0-x86_64-with-glibc2.36",
        publisher: "openai",
        uname: "Linux 6.1.0 #1 SMP x86_64",
      }),
      "Authorization": "Bearer your-api-key",
      "Content-Type": "application/json",
      "Content-Length": String(new TextEncoder().encode(body).length),
    },
    body,
  });
  assert.equal(response.status, 200);
  // The legacy client json.loads the body unless it is text/plain, then reads these fields.
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const answer = await response.json();
  assert.equal(answer.object, "chat.completion");
  assert.equal(answer.choices[0].message.content, "Hello!");
  assert.equal(answer.choices[0].finish_reason, "stop");
  assert.equal(typeof answer.usage.total_tokens, "number");
});
