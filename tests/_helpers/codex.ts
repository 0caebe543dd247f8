/**
 * Codex CLI (npm `@openai/codex`) for the end-to-end test that drives it against the gateway,
 * installed by `npm_cli.ts` (pinned, in a cache outside the checkout). Its native binary is in the
 * platform package (`@openai/codex-linux-x64`, …) at `vendor/<target triple>/bin/codex`; the
 * package's `bin/codex.js` only finds it and replaces itself with it.
 *
 * Run as a script (`.ci/run` does, before the suites) it installs Codex and prints where.
 */
import { join } from "node:path";
import { firstFile, type InstalledCli, installNpmCli, subdirectories } from "./npm_cli.ts";

/** The Codex version the test runs. */
export const CODEX_VERSION = "0.171.0";

/** The native binary of the platform package npm installed under `dir`, if any. */
async function findBinary(dir: string): Promise<string | undefined> {
  const scope = join(dir, "node_modules", "@openai");
  for (const name of await subdirectories(scope)) {
    if (!name.startsWith("codex-")) continue;
    const vendor = join(scope, name, "vendor");
    for (const target of await subdirectories(vendor)) {
      const bin = join(vendor, target, "bin");
      const binary = await firstFile([join(bin, "codex"), join(bin, "codex.exe")]);
      if (binary !== undefined) return binary;
    }
  }
  return undefined;
}

/** Codex at {@linkcode CODEX_VERSION}, or what went wrong. */
export function installCodex(): Promise<InstalledCli> {
  return installNpmCli({
    package: "@openai/codex",
    version: CODEX_VERSION,
    dirName: `codex-${CODEX_VERSION}`,
    findBinary,
    isVersion: (output) => output === `codex-cli ${CODEX_VERSION}`,
  });
}

if (import.meta.main) {
  const codex = await installCodex();
  const line = "binary" in codex
    ? `Codex ${CODEX_VERSION}: ${codex.binary}`
    : `WARNING: ${codex.skipped}; the Codex test will be SKIPPED`;
  // deno-lint-ignore no-console
  console.log(line);
}
