/**
 * A command-line tool published on npm (Claude Code, Codex) for the end-to-end tests that drive
 * it against the gateway: installed with npm, at a pinned version, into a cache directory outside
 * the checkout (`$XDG_CACHE_HOME` or `~/.cache`, else the system's temporary directory), and
 * reused while it answers `--version` with that version. Needs `--allow-run=npm,bash`.
 *
 * These packages are wrappers whose optional dependency for the platform holds a native binary;
 * the binary is run straight from that package. It is started through `bash` because Deno's
 * `--allow-run` takes fixed names and this path is known only at run time.
 */
import { join } from "node:path";

/** A tool to install. */
export interface NpmCli {
  /** The npm package, such as `@openai/codex`. */
  readonly package: string;
  readonly version: string;
  /** The cache directory's name, such as `codex-0.171.0`. */
  readonly dirName: string;
  /** The native binary npm installed under `dir`, if any. */
  findBinary(dir: string): Promise<string | undefined>;
  /** Whether the binary's `--version` output says it is {@linkcode NpmCli.version}. */
  isVersion(output: string): boolean;
}

/** The tool ready to run, or why it is not (for a "SKIPPED" test name). */
export type InstalledCli = { readonly binary: string } | { readonly skipped: string };

const INSTALL_TIMEOUT_MS = 300_000;

/** The directory a tool is installed into. */
export function npmCliDir(dirName: string): string {
  const home = Deno.env.get("HOME");
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? (home ? join(home, ".cache") : undefined);
  const base = cache ?? join(Deno.env.get("TMPDIR") ?? "/tmp", "choreoai-test-cache");
  return join(base, "choreoai-test", dirName);
}

/** The first of `paths` that is a file. */
export async function firstFile(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    const info = await Deno.stat(path).catch(() => undefined);
    if (info?.isFile) return path;
  }
  return undefined;
}

/** The names of the directories in `dir` (none when it does not exist). */
export async function subdirectories(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) names.push(entry.name);
  } catch {
    return [];
  }
  return names.sort();
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

async function answersVersion(cli: NpmCli, binary: string): Promise<boolean> {
  try {
    const { success, text } = await output("bash", ["-c", 'exec "$0" --version', binary], 30_000);
    return success && cli.isVersion(text);
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
 * `cli` at its pinned version: the cached install when it runs, else a fresh `npm install` into
 * {@linkcode npmCliDir}. What went wrong otherwise.
 */
export async function installNpmCli(cli: NpmCli): Promise<InstalledCli> {
  const spec = `${cli.package}@${cli.version}`;
  const dir = npmCliDir(cli.dirName);
  const cached = await cli.findBinary(dir);
  if (cached !== undefined && await answersVersion(cli, cached)) return { binary: cached };
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
      spec,
    ], INSTALL_TIMEOUT_MS);
  } catch (error) {
    // A missing --allow-run=npm is a broken test task, not a missing npm: say so.
    if (error instanceof Deno.errors.NotCapable) throw error;
    const why = error instanceof Deno.errors.NotFound ? "npm not found" : String(error);
    return { skipped: `cannot install ${spec}: ${reason(why)}` };
  }
  if (!install.success) return { skipped: `npm install ${spec} failed: ${reason(install.text)}` };
  const binary = await cli.findBinary(dir);
  if (binary === undefined) {
    return { skipped: `${spec} has no native binary for ${Deno.build.target}` };
  }
  if (!await answersVersion(cli, binary)) {
    return { skipped: `${spec} does not run here (${binary})` };
  }
  return { binary };
}
