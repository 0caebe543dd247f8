/**
 * `choreoai keys list` and `choreoai keys show`: the keys of the key list with their status,
 * usage and budget, as a table, as details or as JSON. The digest is never printed.
 */
import { type KeyFile, type KeyRecord, type KeyRole, keyRole } from "../../keys/key_file.ts";
import { type KeyStatus, keyStatus } from "../../keys/status.ts";
import { readKeyStats } from "../../usage/store.ts";
import { readSpend } from "../../usage/spend.ts";
import { rotationSpenders } from "../../keys/verify.ts";
import { type Budget, formatResetTime, formatUsd } from "../../spend/budget.ts";
import { type BudgetPeriod, periodWindow } from "../../spend/period.ts";
import { toMicroUsd, toUsd } from "../../spend/pricing.ts";
import { describeBudget } from "./set_budget.ts";
import { type CliIo, EXIT } from "../io.ts";
import { findKey, json, printable, readableTime } from "./_shared.ts";
import { keyListOf } from "./key_list.ts";
import { HELP_OPTION, JSON_OPTION, noArguments, oneId, parseFlags } from "./flags.ts";
import { HELP } from "./help.ts";

/**
 * A key as `list --json` and `show --json` print it: the stored fields without the digest, and
 * the role even when the file leaves it out (a client key).
 */
type KeyView = Omit<KeyRecord, "digest" | "role"> & {
  role: KeyRole;
  status: KeyStatus;
  last_used_at: string | null;
  requests: number;
  budget_status: BudgetStatus | null;
};

/** A key's budget in the current period, as `list --json` and `show --json` print it. */
interface BudgetStatus {
  usd: number;
  period: BudgetPeriod;
  /** `key`: its own budget; `default`: CHOREOAI_DEFAULT_BUDGET_USD's. */
  source: "key" | "default";
  /** Recorded cost of its requests in the period (with its rotation chain's); null: unknown. */
  spent_usd: number | null;
  remaining_usd: number | null;
  /** When the period resets (ISO 8601, UTC); null for a total budget. */
  resets_at: string | null;
}

/** Reads each key's spend in its budget's current period; warns once when it cannot. */
function budgetReader(file: KeyFile, io: CliIo, now: number) {
  const spenders = rotationSpenders(file.keys);
  let warned = false;
  const warn = (reason: string) => {
    if (warned) return;
    warned = true;
    io.stderr(`warning: ${reason}: spent is shown as ?\n`);
  };
  return (key: KeyRecord): BudgetStatus | null => {
    const budget: Budget | undefined = key.budget ?? io.defaultBudget;
    if (budget === undefined) return null;
    const { start, resetsAt } = periodWindow(budget.period, now);
    const keyIds = spenders.get(key.id)?.keyIds ?? [key.id];
    let spent: number | undefined;
    try {
      spent = readSpend(io.dbPath, keyIds, start);
      if (spent === undefined) warn(`the usage database "${io.dbPath}" records no costs`);
    } catch (error) {
      warn(
        `cannot read spend from "${io.dbPath}" (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
    return {
      usd: budget.usd,
      period: budget.period,
      source: key.budget === undefined ? "default" : "key",
      spent_usd: spent === undefined ? null : toUsd(spent),
      remaining_usd: spent === undefined
        ? null
        : toUsd(Math.max(0, toMicroUsd(budget.usd) - spent)),
      resets_at: resetsAt === undefined ? null : formatResetTime(resetsAt),
    };
  };
}

/** `$1.25/$100.00 month`, with `(default)` for the gateway's default; `-` for none. */
function budgetCell(status: BudgetStatus | null): string {
  if (status === null) return "-";
  const spent = status.spent_usd === null ? "?" : `$${formatUsd(toMicroUsd(status.spent_usd))}`;
  const budget = `$${formatUsd(toMicroUsd(status.usd))}`;
  return `${spent}/${budget} ${status.period}${status.source === "default" ? " (default)" : ""}`;
}

type KeyStats = ReadonlyMap<string, { last_used_at: string | null; requests: number }>;

function readStats(io: CliIo): KeyStats {
  try {
    return readKeyStats(io.dbPath);
  } catch (error) {
    io.stderr(
      `warning: cannot read usage from "${io.dbPath}" (${
        error instanceof Error ? error.message : String(error)
      }): last use and request counts are left out\n`,
    );
    return new Map();
  }
}

function toView(
  key: KeyRecord,
  file: KeyFile,
  { stats, budgetOf, now }: {
    stats: KeyStats;
    budgetOf: (key: KeyRecord) => BudgetStatus | null;
    now: number;
  },
): KeyView {
  const { id, name, role: _role, digest: _digest, ...stored } = key;
  const usage = stats.get(key.id);
  return {
    id,
    name,
    role: keyRole(key),
    ...stored,
    status: keyStatus(key, file.keys, now),
    last_used_at: usage?.last_used_at ?? null,
    requests: usage?.requests ?? 0,
    budget_status: budgetOf(key),
  };
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
  const stats = readStats(io);
  const now = io.now();
  const budgetOf = budgetReader(file, io, now);
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
  const view = toView(key, file, {
    stats: readStats(io),
    budgetOf: budgetReader(file, io, now),
    now,
  });
  io.stdout(values.json === true ? json(view) : formatDetails(view));
  return EXIT.ok;
}
