/**
 * Claude Code (npm `@anthropic-ai/claude-code`) for the end-to-end test that drives it against
 * the gateway: installed with npm, at a pinned version, into a cache directory outside the
 * checkout (`$XDG_CACHE_HOME` or `~/.cache`, else the system's temporary directory), and reused
 * while its `--version` answers that version. Needs `--allow-run=npm,bash`.
 *
 * The package is a wrapper whose optional dependency for the platform holds a native binary; the
 * binary is run straight from that package (a postinstall script that npm may not run only copies
 * it). It is started through `bash` because Deno's `--allow-run` takes fixed names and this path
 * is known only at run time.
 *
 * Run as a script (`.ci/run` does, before the suites) it installs Claude Code and prints where.
 */
import { join } from "node:path";

/** The Claude Code version the test runs. */
export const CLAUDE_CODE_VERSION = "2.1.332";

const PACKAGE = "@anthropic-ai/claude-code";
const INSTALL_TIMEOUT_MS = 300_000;

/** Claude Code ready to run, or why it is not. */
export type ClaudeCode = { readonly binary: string } | { readonly skipped: string };

/** The directory the pinned version is installed into. */
export function claudeCodeDir(): string {
  const home = Deno.env.get("HOME");
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? (home ? join(home, ".cache") : undefined);
  const base = cache ?? join(Deno.env.get("TMPDIR") ?? "/tmp", "choreoai-test-cache");
  return join(base, "choreoai-test", `claude-code-${CLAUDE_CODE_VERSION}`);
}

/** The native binary of the platform package npm installed under `dir`, if any. */
async function findBinary(dir: string): Promise<string | undefined> {
  const scope = join(dir, "node_modules", "@anthropic-ai");
  try {
    for await (const entry of Deno.readDir(scope)) {
      if (!entry.isDirectory || !entry.name.startsWith("claude-code-")) continue;
      for (const name of ["claude", "claude.exe"]) {
        const binary = join(scope, entry.name, name);
        const info = await Deno.stat(binary).catch(() => undefined);
        if (info?.isFile) return binary;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Runs `command` with `args` (bounded by `timeoutMs`); its exit status and output. */
async function output(command: string, args: string[], timeoutMs: number) {
  const result = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const decoder = new TextDecoder();
  return {
    success: result.success,
    text: `${decoder.decode(result.stdout)}${decoder.decode(result.stderr)}`.trim(),
  };
}

/** Whether `binary` is the pinned version. */
async function answersVersion(binary: string): Promise<boolean> {
  try {
    const { success, text } = await output("bash", [
      "-c",
      'exec "$0" --version',
      binary,
    ], 30_000);
    return success && text.startsWith(`${CLAUDE_CODE_VERSION} `);
  } catch {
    return false;
  }
}

/** The last line of a failure's output, short enough for a test name. */
function reason(text: string): string {
  const line = text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? "no output";
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/**
 * Claude Code at {@linkcode CLAUDE_CODE_VERSION}: the cached install when it runs, else a fresh
 * `npm install` into {@linkcode claudeCodeDir}. What went wrong otherwise, for a "SKIPPED" name.
 */
export async function installClaudeCode(): Promise<ClaudeCode> {
  const dir = claudeCodeDir();
  const cached = await findBinary(dir);
  if (cached !== undefined && await answersVersion(cached)) return { binary: cached };
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  let install;
  try {
    await Deno.mkdir(dir, { recursive: true });
    install = await output("npm", [
      "install",
      "--prefix",
      dir,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `${PACKAGE}@${CLAUDE_CODE_VERSION}`,
    ], INSTALL_TIMEOUT_MS);
  } catch (error) {
    // A missing --allow-run=npm is a broken test task, not a missing npm: say so.
    if (error instanceof Deno.errors.NotCapable) throw error;
    const why = error instanceof Deno.errors.NotFound ? "npm not found" : String(error);
    return { skipped: `cannot install ${PACKAGE}@${CLAUDE_CODE_VERSION}: ${reason(why)}` };
  }
  if (!install.success) {
    return {
      skipped: `npm install ${PACKAGE}@${CLAUDE_CODE_VERSION} failed: ${reason(install.text)}`,
    };
  }
  const binary = await findBinary(dir);
  if (binary === undefined) {
    return {
      skipped: `${PACKAGE}@${CLAUDE_CODE_VERSION} has no native binary for ${Deno.build.target}`,
    };
  }
  if (!await answersVersion(binary)) {
    return { skipped: `${PACKAGE}@${CLAUDE_CODE_VERSION} does not run here (${binary})` };
  }
  return { binary };
}

if (import.meta.main) {
  const claude = await installClaudeCode();
  const line = "binary" in claude
    ? `Claude Code ${CLAUDE_CODE_VERSION}: ${claude.binary}`
    : `WARNING: ${claude.skipped}; the Claude Code test will be SKIPPED`;
  // deno-lint-ignore no-console
  console.log(line);
}
