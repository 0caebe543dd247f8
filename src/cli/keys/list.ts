/**
 * `choreoai keys list` and `choreoai keys show`: the keys of the key list with their status and
 * usage, as a table, as details or as JSON. The digest is never printed.
 */
import { readKeyFile } from "../../keys/file_store.ts";
import { type KeyFile, type KeyRecord, type KeyRole, keyRole } from "../../keys/key_file.ts";
import { type KeyStatus, keyStatus } from "../../keys/status.ts";
import { readKeyStats } from "../../usage/store.ts";
import { type CliIo, EXIT } from "../io.ts";
import { findKey, json, printable, readableTime, requireKeysFile } from "./_shared.ts";
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
};

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

function toView(key: KeyRecord, file: KeyFile, stats: KeyStats, now: number): KeyView {
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
    ["ID", "NAME", "ROLE", "HINT", "STATUS", "CREATED", "EXPIRES", "LAST USED", "REQUESTS"],
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
  ]);
}

/** Runs `choreoai keys list`: returns the exit code, or throws a UsageError or CommandError. */
export async function listCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("list", args, { ...JSON_OPTION, ...HELP_OPTION });
  if (values.help === true) {
    io.stdout(`${HELP.list}\n`);
    return EXIT.ok;
  }
  noArguments("list", positionals);
  const path = requireKeysFile(io);
  const file = await readKeyFile(path);
  const stats = readStats(io);
  const now = io.now();
  const views = file.keys.map((key) => toView(key, file, stats, now));
  if (values.json === true) {
    io.stdout(json(views));
  } else if (views.length === 0) {
    io.stderr(`No keys in ${path}: create one with choreoai keys create --name NAME\n`);
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
  const path = requireKeysFile(io);
  const file = await readKeyFile(path);
  const key = findKey(file, id, path);
  const view = toView(key, file, readStats(io), io.now());
  io.stdout(values.json === true ? json(view) : formatDetails(view));
  return EXIT.ok;
}
