/**
 * `choreoai usage [--key ID] [--since 7d] [--json]`: recorded usage by key and model.
 */
import { parseArgs } from "node:util";
import { NO_MODEL, summarizeUsage, type UsageSummary } from "../usage/store.ts";
import { parseDuration } from "./duration.ts";
import { type CliIo, EXIT } from "./io.ts";

const DEFAULT_SINCE = "7d";

/** The `usage --help` text. */
export const USAGE_HELP = `Usage: choreoai usage [--key ID] [--since DURATION] [--json]

Summarises the requests recorded in CHOREOAI_DB (default ./choreoai.db), by key and model,
from DURATION ago until now.

Options:
  --key ID           only the key with this id (such as key_7Hq2xM9aLp)
  --since DURATION   <integer><s|m|h|d>, such as 30m or 7d (default ${DEFAULT_SINCE})
  --json             print {"since","until","rows":[{"key_id","model","requests","errors",
                     "prompt_tokens","completion_tokens","total_tokens"}]} instead of a table
  -h, --help         print this help

Errors are requests answered with a status of 400 or more. Requests recorded without a model
show the model "${NO_MODEL}". Times are UTC.
`;

const COLUMNS = [
  { title: "KEY", align: "left" },
  { title: "MODEL", align: "left" },
  { title: "REQUESTS", align: "right" },
  { title: "ERRORS", align: "right" },
  { title: "PROMPT TOKENS", align: "right" },
  { title: "COMPLETION TOKENS", align: "right" },
  { title: "TOTAL TOKENS", align: "right" },
] as const;

/** Renders a summary as an aligned table with a totals line (or a one-line "no usage" note). */
export function formatUsageTable(summary: UsageSummary): string {
  const window = `from ${summary.since} to ${summary.until}`;
  if (summary.rows.length === 0) return `No usage recorded ${window}.\n`;
  const total = { requests: 0, errors: 0, prompt: 0, completion: 0, tokens: 0 };
  const lines: string[][] = [COLUMNS.map((column) => column.title)];
  for (const row of summary.rows) {
    total.requests += row.requests;
    total.errors += row.errors;
    total.prompt += row.prompt_tokens;
    total.completion += row.completion_tokens;
    total.tokens += row.total_tokens;
    lines.push([
      row.key_id,
      row.model,
      ...[row.requests, row.errors, row.prompt_tokens, row.completion_tokens, row.total_tokens]
        .map(String),
    ]);
  }
  const keys = new Set(summary.rows.map((row) => row.key_id)).size;
  lines.push([
    `TOTAL (${keys} ${keys === 1 ? "key" : "keys"})`,
    "",
    ...[total.requests, total.errors, total.prompt, total.completion, total.tokens].map(String),
  ]);
  const widths = COLUMNS.map((_, i) => Math.max(...lines.map((cells) => (cells[i] ?? "").length)));
  const render = (cells: string[]) =>
    COLUMNS.map((column, i) => {
      const cell = cells[i] ?? "";
      const width = widths[i] ?? 0;
      return column.align === "left" ? cell.padEnd(width) : cell.padStart(width);
    }).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const body = lines.map(render);
  body.splice(body.length - 1, 0, rule);
  return `Usage ${window}\n\n${body.join("\n")}\n`;
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`choreoai usage: ${message}\nRun choreoai usage --help for usage.\n`);
  return EXIT.usage;
}

/**
 * Runs `choreoai usage`.
 *
 * @param args The arguments after `usage`.
 * @returns The exit code: 0, 1 (the database cannot be read) or 2 (bad arguments).
 */
// deno-lint-ignore require-await -- the subcommand contract is async; this one happens not to wait
export async function runUsageCommand(args: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        key: { type: "string" },
        since: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    io.stdout(USAGE_HELP);
    return EXIT.ok;
  }
  const sinceText = values.since ?? DEFAULT_SINCE;
  const duration = parseDuration(sinceText);
  if (duration === undefined) {
    return usageError(
      io,
      `Cannot parse --since "${sinceText}": expected <integer><s|m|h|d>, such as 7d`,
    );
  }
  if (values.key !== undefined && values.key.trim() === "") {
    return usageError(io, "Cannot use an empty --key");
  }
  const until = io.now();
  let summary: UsageSummary;
  try {
    summary = summarizeUsage(io.dbPath, {
      since: Math.max(0, until - duration),
      until,
      ...(values.key === undefined ? {} : { keyId: values.key }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.stderr(`choreoai usage: Cannot read usage database "${io.dbPath}": ${reason}\n`);
    return EXIT.failure;
  }
  io.stdout(values.json === true ? `${JSON.stringify(summary)}\n` : formatUsageTable(summary));
  return EXIT.ok;
}
