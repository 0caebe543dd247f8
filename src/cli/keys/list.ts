/**
 * `choreoai keys list` and `choreoai keys show`: the keys of the key list with their status,
 * usage and budget, as a table, as details or as JSON. The digest is never printed.
 */
import { toView } from "../../keys/view.ts";
import { formatUsd } from "../../spend/budget.ts";
import { toMicroUsd } from "../../spend/pricing.ts";
import { type BudgetStatus, type KeyView, readKeyUsage } from "./key_usage.ts";
import { describeBudget } from "./set_budget.ts";
import { type CliIo, EXIT } from "../io.ts";
import { findKey, json, printable, readableTime } from "./_shared.ts";
import { keyListOf } from "./key_list.ts";
import { HELP_OPTION, JSON_OPTION, noArguments, oneId, parseFlags } from "./flags.ts";
import { HELP } from "./help.ts";

/** `$1.25/$100.00 month`, with `(default)` for the gateway's default; `-` for none. */
function budgetCell(status: BudgetStatus | null): string {
  if (status === null) return "-";
  const spent = status.spent_usd === null ? "?" : `$${formatUsd(toMicroUsd(status.spent_usd))}`;
  const budget = `$${formatUsd(toMicroUsd(status.usd))}`;
  return `${spent}/${budget} ${status.period}${status.source === "default" ? " (default)" : ""}`;
}

function formatTable(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()
  ).join("\n") + "\n";
}

function formatList(views: readonly KeyView[]): string {
  return formatTable([
    [
      "ID",
      "NAME",
      "ROLE",
      "HINT",
      "STATUS",
      "CREATED",
      "EXPIRES",
      "LAST USED",
      "REQUESTS",
      "SPENT/BUDGET",
      "RESETS",
    ],
    ...views.map((view) => [
      view.id,
      printable(view.name),
      view.role,
      printable(view.hint),
      view.status,
      readableTime(view.created_at, "-"),
      readableTime(view.expires_at, "never"),
      readableTime(view.last_used_at, "never"),
      String(view.requests),
      budgetCell(view.budget_status),
      view.budget_status === null ? "-" : view.budget_status.resets_at ?? "never",
    ]),
  ]);
}

function formatDetails(view: KeyView): string {
  const list = (items: readonly string[] | null, all: string) =>
    items === null ? all : items.map(printable).join(", ");
  return formatTable([
    ["id:", view.id],
    ["name:", printable(view.name)],
    ["role:", view.role],
    ["hint:", printable(view.hint)],
    ["status:", view.status],
    ["created:", readableTime(view.created_at, "-")],
    ["expires:", readableTime(view.expires_at, "never")],
    ["revoked:", readableTime(view.revoked_at, "no")],
    ["rotated from:", view.rotated_from ?? "-"],
    ["models:", list(view.models, "all")],
    ["endpoints:", list(view.endpoints, "all")],
    ["ips:", list(view.ips, "any")],
    ["rpm:", view.rpm === null ? "gateway default" : String(view.rpm)],
    ["tpm:", view.tpm === null ? "gateway default" : String(view.tpm)],
    ["metadata:", printable(JSON.stringify(view.metadata))],
    ["last used:", readableTime(view.last_used_at, "never")],
    ["requests:", String(view.requests)],
    ...budgetDetails(view.budget_status),
  ]);
}

function budgetDetails(status: BudgetStatus | null): string[][] {
  if (status === null) return [["budget:", "none"]];
  const budget = describeBudget(status);
  return [
    ["budget:", status.source === "default" ? `${budget} (gateway default)` : budget],
    [
      "spent:",
      status.spent_usd === null
        ? "? (the usage database records no costs)"
        : `$${formatUsd(toMicroUsd(status.spent_usd))} this period, $${
          formatUsd(toMicroUsd(status.remaining_usd ?? 0))
        } left`,
    ],
    ["resets:", status.resets_at ?? "never (a total budget)"],
  ];
}

/** Runs `choreoai keys list`: returns the exit code, or throws a UsageError or CommandError. */
export async function listCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("list", args, { ...JSON_OPTION, ...HELP_OPTION });
  if (values.help === true) {
    io.stdout(`${HELP.list}\n`);
    return EXIT.ok;
  }
  noArguments("list", positionals);
  const list = keyListOf(io);
  const file = await list.read();
  const now = io.now();
  const { stats, budgetOf } = await readKeyUsage(file.keys, { file, io, now });
  const views = file.keys.map((key) => toView(key, file, { stats, budgetOf, now }));
  if (values.json === true) {
    io.stdout(json(views));
  } else if (views.length === 0) {
    io.stderr(`No keys in ${list.where}: create one with choreoai keys create --name NAME\n`);
  } else {
    io.stdout(formatList(views));
  }
  return EXIT.ok;
}

/** Runs `choreoai keys show`: returns the exit code, or throws a UsageError or CommandError. */
export async function showCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("show", args, { ...JSON_OPTION, ...HELP_OPTION });
  if (values.help === true) {
    io.stdout(`${HELP.show}\n`);
    return EXIT.ok;
  }
  const id = oneId("show", positionals);
  const list = keyListOf(io);
  const file = await list.read();
  const key = findKey(file, id, list.where);
  const now = io.now();
  const { stats, budgetOf } = await readKeyUsage([key], { file, io, now });
  const view = toView(key, file, { stats, budgetOf, now });
  io.stdout(values.json === true ? json(view) : formatDetails(view));
  return EXIT.ok;
}
