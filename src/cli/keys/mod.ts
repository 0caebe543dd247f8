/**
 * `choreoai keys …`: create, add, list, show, revoke and rotate the keys of the key list
 * (`CHOREOAI_KEYS_FILE`, or the database `CHOREOAI_DATABASE_URL`), set their budgets, and import
 * a key file into the database.
 *
 * A key is printed exactly once, on stdout, by `create` and `rotate`; the file and every other
 * output hold only its digest (never printed) and a short hint.
 *
 * This module dispatches to the commands and turns their errors into exit codes; each command
 * lives in its own file.
 */
import { type CliIo, EXIT } from "../io.ts";
import { COMMAND_NAMES, type CommandName, shown, UsageError } from "./_shared.ts";
import { addCommand, createCommand } from "./create.ts";
import { HELP } from "./help.ts";
import { importCommand } from "./import.ts";
import { listCommand, showCommand } from "./list.ts";
import { revokeCommand } from "./revoke.ts";
import { rotateCommand } from "./rotate.ts";
import { setBudgetCommand } from "./set_budget.ts";

const COMMANDS: Record<CommandName, (args: readonly string[], io: CliIo) => Promise<number>> = {
  create: createCommand,
  add: addCommand,
  list: listCommand,
  show: showCommand,
  revoke: revokeCommand,
  rotate: rotateCommand,
  "set-budget": setBudgetCommand,
  import: importCommand,
};

function isCommandName(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}

async function dispatch(args: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h") {
    io.stdout(`${HELP.keys}\n`);
    return EXIT.ok;
  }
  if (name === "help") {
    const [topic, ...extra] = rest;
    if (topic === undefined) {
      io.stdout(`${HELP.keys}\n`);
      return EXIT.ok;
    }
    if (!isCommandName(topic) || extra.length > 0) {
      throw new UsageError(`keys help takes one command name (${COMMAND_NAMES.join(", ")})`);
    }
    io.stdout(`${HELP[topic]}\n`);
    return EXIT.ok;
  }
  if (name === undefined) {
    throw new UsageError(`a command is needed (${COMMAND_NAMES.join(", ")})`);
  }
  if (!isCommandName(name)) {
    throw new UsageError(`unknown command ${shown(name)} (known: ${COMMAND_NAMES.join(", ")})`);
  }
  return await COMMANDS[name](rest, io);
}

/** Masks anything shaped like a generated key in a message, as a last line of defence. */
function redact(message: string): string {
  return message.replace(/sk-choreo-[A-Za-z0-9]+/g, "sk-choreo-…");
}

/**
 * Runs `choreoai keys <command> [options]` (DESIGN.md, "Key list") against the key list named
 * by `io.keysFile`.
 *
 * @param args the arguments after `keys`
 * @param io the environment, clock, randomness and streams
 * @returns the exit code: 0 success, 1 failure (message on stderr), 2 usage error
 *
 * @example Usage
 * ```ts
 * import type { CliIo } from "../io.ts";
 * import { runKeysCommand } from "./mod.ts";
 * let stdout = "";
 * const io: CliIo = {
 *   keysFile: "keys.json",
 *   dbPath: "choreoai.db",
 *   now: () => Date.now(),
 *   randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
 *   readStdin: () => Promise.resolve(""),
 *   stdout: (text) => stdout += text,
 *   stderr: () => {},
 * };
 * const code = await runKeysCommand(["help", "list"], io);
 * // code === 0; stdout holds the help of `choreoai keys list`
 * ```
 */
export async function runKeysCommand(args: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command === undefined ? "keys" : `keys ${error.command}`;
      io.stderr(
        `choreoai keys: ${redact(error.message)}\nRun choreoai ${help} --help for usage.\n`,
      );
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`choreoai keys: ${redact(message)}\n`);
    return EXIT.failure;
  }
}
