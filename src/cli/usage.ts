/**
 * `choreoai usage [--key ID] [--since 7d] [--by key|day] [--json]`: recorded usage and its cost,
 * by key and model or as a daily series.
 */
import { parseArgs } from "node:util";
import {
  type DailyUsage,
  NO_MODEL,
  type UsageQuery,
  type UsageSummary,
  type UsageTotals,
  zeroTotals,
} from "../usage/summary.ts";
import type { UsageReader } from "../usage/reader.ts";
import { withUsageReader } from "./usage_reader.ts";
import { parseDuration } from "../duration.ts";
import { type CliIo, EXIT } from "./io.ts";

const DEFAULT_SINCE = "7d";

/** The `usage --help` text. */
export const USAGE_HELP =
  `Usage: choreoai usage [--key ID] [--since DURATION] [--by key|day] [--json]

Summarises the requests recorded in CHOREOAI_DB (default ./choreoai.db), or in PostgreSQL
when CHOREOAI_DATABASE_URL is set, and what they cost, by key and model, or day by day, from
DURATION ago until now.

Options:
  --key ID           only the key with this id (such as key_7Hq2xM9aLp)
  --since DURATION   <integer><s|m|h|d>, such as 30m or 7d (default ${DEFAULT_SINCE})
  --by key|day       key: one row per key and model (the default); day: one row per UTC day
                     of the window, days without requests included
  --json             print {"since","until","rows":[{"key_id","model","requests","errors",
                     "prompt_tokens","completion_tokens","total_tokens","cost_usd",
                     "unpriced_requests"}]} instead of a table; with --by day,
                     {"since","until","by":"day","rows":[{"day", …}]}
  -h, --help         print this help

Errors are requests answered with a status of 400 or more. Requests recorded without a model
show the model "${NO_MODEL}". Costs are in US dollars; requests of a model with no known price
cost 0 and are counted as unpriced (a * in the table). Times and days are UTC.
`;

interface Column {
  readonly title: string;
  readonly align: "left" | "right";
}

const TOTALS: readonly Column[] = [
  { title: "REQUESTS", align: "right" },
  { title: "ERRORS", align: "right" },
  { title: "PROMPT TOKENS", align: "right" },
  { title: "COMPLETION TOKENS", align: "right" },
  { title: "TOTAL TOKENS", align: "right" },
  { title: "COST USD", align: "right" },
];

/** The summed numbers of a row, as the table shows them. */
type Totals = UsageTotals;

function add(sum: Totals, row: Totals): void {
  sum.requests += row.requests;
  sum.errors += row.errors;
  sum.prompt_tokens += row.prompt_tokens;
  sum.completion_tokens += row.completion_tokens;
  sum.total_tokens += row.total_tokens;
  // Whole micro-dollars, added as integers.
  sum.cost_usd = (Math.round(sum.cost_usd * 1e6) + Math.round(row.cost_usd * 1e6)) / 1e6;
  sum.unpriced_requests += row.unpriced_requests;
}

/**
 * A cost to the micro-dollar; when the table has requests without a known price (`marks`),
 * marked `*` where they count (and a space elsewhere, to keep the digits aligned).
 */
function costCell(totals: Totals, marks: boolean): string {
  const cost = totals.cost_usd.toFixed(6);
  return marks ? `${cost}${totals.unpriced_requests > 0 ? "*" : " "}` : cost;
}

function totalCells(totals: Totals, marks: boolean): string[] {
  return [
    totals.requests,
    totals.errors,
    totals.prompt_tokens,
    totals.completion_tokens,
    totals.total_tokens,
  ].map(String).concat(costCell(totals, marks));
}

/** The header line: the cost's title over its digits, not over the marks. */
function titles(columns: readonly Column[], marks: boolean): string[] {
  return columns.map((column, i) =>
    i === columns.length - 1 && marks ? `${column.title} ` : column.title
  );
}

/** Aligns `lines` (the header first, the totals line last) under `columns`, with a rule. */
function renderTable(columns: readonly Column[], lines: string[][], total: Totals): string {
  const widths = columns.map((_, i) => Math.max(...lines.map((cells) => (cells[i] ?? "").length)));
  const render = (cells: string[]) =>
    columns.map((column, i) => {
      const cell = cells[i] ?? "";
      const width = widths[i] ?? 0;
      return column.align === "left" ? cell.padEnd(width) : cell.padStart(width);
    }).join("  ");
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const body = lines.map(render);
  body.splice(body.length - 1, 0, rule);
  const note = total.unpriced_requests === 0
    ? ""
    : `\n* includes ${total.unpriced_requests} ${
      total.unpriced_requests === 1 ? "request" : "requests"
    } of models with no known price, counted at 0\n`;
  return `${body.join("\n")}\n${note}`;
}

/** Renders a summary as an aligned table with a totals line (or a one-line "no usage" note). */
export function formatUsageTable(summary: UsageSummary): string {
  const window = `from ${summary.since} to ${summary.until}`;
  if (summary.rows.length === 0) return `No usage recorded ${window}.\n`;
  const columns: Column[] = [
    { title: "KEY", align: "left" },
    { title: "MODEL", align: "left" },
    ...TOTALS,
  ];
  const total = zeroTotals();
  for (const row of summary.rows) add(total, row);
  const marks = total.unpriced_requests > 0;
  const lines: string[][] = [titles(columns, marks)];
  for (const row of summary.rows) lines.push([row.key_id, row.model, ...totalCells(row, marks)]);
  const keys = new Set(summary.rows.map((row) => row.key_id)).size;
  lines.push([`TOTAL (${keys} ${keys === 1 ? "key" : "keys"})`, "", ...totalCells(total, marks)]);
  return `Usage ${window}\n\n${renderTable(columns, lines, total)}`;
}

/** Renders a daily series as an aligned table, one line per UTC day, with a totals line. */
export function formatDailyTable(series: DailyUsage): string {
  const columns: Column[] = [{ title: "DAY (UTC)", align: "left" }, ...TOTALS];
  const total = zeroTotals();
  for (const row of series.rows) add(total, row);
  const marks = total.unpriced_requests > 0;
  const lines: string[][] = [titles(columns, marks)];
  for (const row of series.rows) lines.push([row.day, ...totalCells(row, marks)]);
  const days = series.rows.length;
  lines.push([`TOTAL (${days} ${days === 1 ? "day" : "days"})`, ...totalCells(total, marks)]);
  return `Usage by day from ${series.since} to ${series.until}\n\n${
    renderTable(columns, lines, total)
  }`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The summary `by` asks for, as text (a table or JSON). */
async function readUsage(
  reader: UsageReader,
  { query, by, json }: { query: UsageQuery; by: "key" | "day"; json: boolean },
): Promise<string> {
  if (by === "day") {
    const series = await reader.summarizeByDay(query);
    return json
      ? `${JSON.stringify({ since: series.since, until: series.until, by, rows: series.rows })}\n`
      : formatDailyTable(series);
  }
  const summary = await reader.summarize(query);
  return json ? `${JSON.stringify(summary)}\n` : formatUsageTable(summary);
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
 *   CHOREOAI_DATABASE_URL (`io.databaseUrl`) set: read from PostgreSQL, else from `io.dbPath`.
 */
export async function runUsageCommand(args: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        key: { type: "string" },
        since: { type: "string" },
        by: { type: "string" },
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
  const by = values.by ?? "key";
  if (by !== "key" && by !== "day") {
    return usageError(io, `Cannot group --by "${by}": expected key or day`);
  }
  const until = io.now();
  const query: UsageQuery = {
    since: Math.max(0, until - duration),
    until,
    ...(values.key === undefined ? {} : { keyId: values.key }),
  };
  let text: string;
  try {
    text = await withUsageReader(io, async (reader) => {
      try {
        return await readUsage(reader, { query, by, json: values.json === true });
      } catch (error) {
        throw new Error(`Cannot read usage database ${reader.where}: ${reasonOf(error)}`, {
          cause: error,
        });
      }
    });
  } catch (error) {
    // The message names the database: a file's path, or a URL with its password hidden.
    io.stderr(`choreoai usage: ${reasonOf(error)}\n`);
    return EXIT.failure;
  }
  io.stdout(text);
  return EXIT.ok;
}
