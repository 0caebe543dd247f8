/**
 * Command-line parsing and help text. Pure: arguments in, a command out.
 */
import { parseArgs } from "node:util";
import { VARIABLES } from "./config.ts";

/** What main.ts should do. */
export type CliCommand =
  | { readonly kind: "serve" }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "keys"; readonly args: readonly string[] }
  | { readonly kind: "usage"; readonly args: readonly string[] }
  | { readonly kind: "db"; readonly args: readonly string[] }
  | { readonly kind: "usage_error"; readonly message: string };

const SUBCOMMANDS = ["serve", "keys", "usage", "db", "help"] as const;

/** Parses `choreoai [serve] [--help] [--version]`. */
export function parseCli(args: readonly string[]): CliCommand {
  // `keys`, `usage` and `db` parse their own flags.
  if (args[0] === "keys" || args[0] === "usage" || args[0] === "db") {
    return { kind: args[0], args: args.slice(1) };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return { kind: "usage_error", message: error instanceof Error ? error.message : String(error) };
  }
  if (parsed.values.help === true) return { kind: "help" };
  if (parsed.values.version === true) return { kind: "version" };
  const [subcommand, ...rest] = parsed.positionals;
  if (subcommand === undefined || subcommand === "serve") {
    if (rest.length > 0) {
      return { kind: "usage_error", message: `Unexpected argument "${rest[0]}" after serve` };
    }
    return { kind: "serve" };
  }
  if (subcommand === "help") return { kind: "help" };
  return {
    kind: "usage_error",
    message: `Unknown subcommand "${subcommand}" (known: ${SUBCOMMANDS.join(", ")})`,
  };
}

/** The `--help` text: subcommands, options and every environment variable. */
export function helpText(version: string): string {
  const width = Math.max(...VARIABLES.map((v) => v.name.length));
  const variables = VARIABLES.map((v) => {
    const fallback = v.default === undefined ? "" : ` (default ${v.default})`;
    return `  ${v.name.padEnd(width)}  ${v.description}${fallback}`;
  });
  return [
    `choreoai ${version}: an OpenAI-compatible LLM gateway`,
    "",
    "Usage: choreoai [subcommand] [options]",
    "",
    "Subcommands:",
    "  serve        run the gateway (the default)",
    "  keys         manage the key list: create, add, list, show, revoke, rotate, import",
    "               (choreoai keys --help for details)",
    "  usage        summarise recorded usage by key and model (choreoai usage --help)",
    "  db           migrate the PostgreSQL database (choreoai db --help)",
    "  help         print this help",
    "",
    "Options:",
    "  -h, --help     print this help",
    "  -V, --version  print the version",
    "",
    "Environment variables:",
    ...variables,
    "",
    "Exit codes: 0 success, 1 failure (message on stderr), 2 usage error.",
  ].join("\n");
}
