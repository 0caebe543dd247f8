/**
 * Claude Code (npm `@anthropic-ai/claude-code`) for the end-to-end test that drives it against
 * the gateway, installed by `npm_cli.ts` (pinned, in a cache outside the checkout). Its native
 * binary is in the platform package `@anthropic-ai/claude-code-<platform>` (a postinstall script
 * that npm may not run only copies it).
 *
 * Run as a script (`.ci/run` does, before the suites) it installs Claude Code and prints where.
 */
import { join } from "node:path";
import { firstFile, type InstalledCli, installNpmCli, subdirectories } from "./npm_cli.ts";

/** The Claude Code version the test runs. */
export const CLAUDE_CODE_VERSION = "2.1.332";

/** Claude Code ready to run, or why it is not. */
export type ClaudeCode = InstalledCli;

/** The native binary of the platform package npm installed under `dir`, if any. */
async function findBinary(dir: string): Promise<string | undefined> {
  const scope = join(dir, "node_modules", "@anthropic-ai");
  for (const name of await subdirectories(scope)) {
    if (!name.startsWith("claude-code-")) continue;
    const binary = await firstFile(["claude", "claude.exe"].map((file) => join(scope, name, file)));
    if (binary !== undefined) return binary;
  }
  return undefined;
}

/** Claude Code at {@linkcode CLAUDE_CODE_VERSION}, or what went wrong. */
export function installClaudeCode(): Promise<ClaudeCode> {
  return installNpmCli({
    package: "@anthropic-ai/claude-code",
    version: CLAUDE_CODE_VERSION,
    dirName: `claude-code-${CLAUDE_CODE_VERSION}`,
    findBinary,
    isVersion: (output) => output.startsWith(`${CLAUDE_CODE_VERSION} `),
  });
}

if (import.meta.main) {
  const claude = await installClaudeCode();
  const line = "binary" in claude
    ? `Claude Code ${CLAUDE_CODE_VERSION}: ${claude.binary}`
    : `WARNING: ${claude.skipped}; the Claude Code test will be SKIPPED`;
  // deno-lint-ignore no-console
  console.log(line);
}
