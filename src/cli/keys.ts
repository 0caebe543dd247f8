/**
 * `choreoai keys …`: create, add, list, show, revoke and rotate the keys of the key list
 * (`CHOREOAI_KEYS_FILE`).
 *
 * A key is printed exactly once, on stdout, by `create` and `rotate`; the file and every other
 * output hold only its digest (never printed) and a short hint.
 */
import { ENDPOINTS } from "../endpoints.ts";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { z } from "zod";
import { MAX_TOKEN_BYTES } from "../auth/authorization.ts";
import { readKeyFile, updateKeyFile } from "../keys/file_store.ts";
import {
  digestKey,
  generateKey,
  generateKeyId,
  hasValidChecksum,
  KEY_PREFIX,
  KEY_RANDOM_BYTES,
  keyHint,
} from "../keys/generate.ts";
import { type KeyFile, type KeyRecord, KeyRecordSchema } from "../keys/key_file.ts";
import { type KeyStatus, keyStatus } from "../keys/status.ts";
import { readKeyStats } from "../usage/store.ts";
import { parseDuration } from "./duration.ts";
import { type CliIo, EXIT } from "./io.ts";

const COMMAND_NAMES = ["create", "add", "list", "show", "revoke", "rotate"] as const;
type CommandName = typeof COMMAND_NAMES[number];

/** A bad command line: exit 2, with a pointer to the help. */
class UsageError extends Error {
  readonly command: CommandName | undefined;
  constructor(message: string, command?: CommandName) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** The command was understood but cannot be done: exit 1. */
class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

// ---------------------------------------------------------------------------------------------
// Help

const SCOPE_HELP = [
  "  --expires-in DURATION  expire after <integer><s|m|h|d>, such as 30d (default: never)",
  "  --expires-at TIME      expire at an ISO 8601 time, such as 2027-01-01T00:00:00Z",
  "  --models LIST          comma-separated models the key may use, by the name clients send;",
  "                         prefix* matches a family, such as claude-* (default: all)",
  "  --endpoints LIST       comma-separated paths, such as /v1/chat/completions (default: all)",
  "  --ips LIST             comma-separated client IPs or CIDRs, such as 10.0.0.0/8 (default: any)",
  "  --rpm N                requests per minute (default: CHOREOAI_DEFAULT_RPM)",
  "  --tpm N                tokens per minute (default: CHOREOAI_DEFAULT_TPM)",
];

const HELP: Record<CommandName | "keys", string> = {
  keys: [
    "Usage: choreoai keys <command> [options]",
    "",
    "Manages the key list named by CHOREOAI_KEYS_FILE. The file stores a digest of each key,",
    "never the key itself, so a key is shown once, when it is created.",
    "",
    "Commands:",
    "  create  generate a new key and print it once",
    "  add     register an existing key, read from stdin",
    "  list    list every key with its status and usage",
    "  show    show one key",
    "  revoke  revoke a key now",
    "  rotate  replace a key by a new one; the old one stays valid for a grace period",
    "",
    "Run choreoai keys <command> --help for a command's options.",
    "Exit codes: 0 success, 1 failure, 2 usage error.",
  ].join("\n"),
  create: [
    "Usage: choreoai keys create --name NAME [options]",
    "",
    "Generates a key, stores its digest in CHOREOAI_KEYS_FILE (creating the file if needed) and",
    "prints the key alone on stdout. It is shown this once: store it right away.",
    "",
    "Options:",
    "  --name NAME            who or what uses the key (required)",
    ...SCOPE_HELP,
    '  --json                 print {"id","name","key","expires_at"} instead',
    "  -h, --help             print this help",
  ].join("\n"),
  add: [
    'Usage: printf %s "$KEY" | choreoai keys add --name NAME [options]',
    "",
    "Registers an existing key, read from stdin (never from the command line, where it would",
    "end up in the shell history); one trailing newline is removed. The key must be an RFC 6750",
    `token (A-Z a-z 0-9 - . _ ~ + / then any =) of at most ${MAX_TOKEN_BYTES} bytes. Prints the new id.`,
    "",
    "Options:",
    "  --name NAME            who or what uses the key (required)",
    ...SCOPE_HELP,
    '  --json                 print {"id","name","expires_at"} instead',
    "  -h, --help             print this help",
  ].join("\n"),
  list: [
    "Usage: choreoai keys list [--json]",
    "",
    "Lists every key: id, name, hint, status (active, rotating, expired, revoked), creation and",
    "expiry times, and last use and request count from the usage database (CHOREOAI_DB).",
    "",
    "Options:",
    "  --json      print an array of key objects (as in the file, without the digest) with",
    "              status, last_used_at and requests",
    "  -h, --help  print this help",
  ].join("\n"),
  show: [
    "Usage: choreoai keys show ID [--json]",
    "",
    "Shows one key: its scopes, limits, status and usage.",
    "",
    "Options:",
    "  --json      print the key object, as one entry of keys list --json",
    "  -h, --help  print this help",
  ].join("\n"),
  revoke: [
    "Usage: choreoai keys revoke ID",
    "",
    "Revokes a key now. A running gateway refuses it once it has reloaded the key list.",
    "Revoking a key that is already revoked changes nothing.",
    "",
    "Options:",
    "  -h, --help  print this help",
  ].join("\n"),
  rotate: [
    "Usage: choreoai keys rotate ID [--grace 24h] [--json]",
    "",
    "Creates a new key with the same name, scopes, limits and metadata (rotated_from = ID) and",
    "prints it alone on stdout, once. The old key stays valid for the grace period, never past",
    "its own expiry. The new key never expires if the old one did not; otherwise it gets the",
    "old key's original lifetime (expires_at - created_at) from now. Revoked, expired and",
    "already rotated keys cannot be rotated (rotate the newer key instead).",
    "",
    "Options:",
    "  --grace DURATION  how long the old key keeps working: <integer><s|m|h|d>, or 0 to",
    "                    revoke it now (default 24h)",
    '  --json            print {"id","name","key","expires_at","rotated_from"} instead',
    "  -h, --help        print this help",
  ].join("\n"),
};

// ---------------------------------------------------------------------------------------------
// Parsing and validation of flags

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;
const JSON_OPTION = { json: { type: "boolean" } } as const;

const SCOPE_OPTIONS = {
  name: { type: "string" },
  "expires-in": { type: "string" },
  "expires-at": { type: "string" },
  models: { type: "string", multiple: true },
  endpoints: { type: "string", multiple: true },
  ips: { type: "string", multiple: true },
  rpm: { type: "string" },
  tpm: { type: "string" },
  ...JSON_OPTION,
  ...HELP_OPTION,
} as const;

function parseFlags<O extends ParseArgsOptionsConfig>(
  command: CommandName,
  args: readonly string[],
  options: O,
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
}

/** A value quoted for an error message, unless it might be a key. */
function shown(value: string): string {
  if (value.includes(KEY_PREFIX) || value.length > 48) return "a value not shown (it may be a key)";
  return JSON.stringify(value);
}

function noArguments(command: CommandName, positionals: readonly string[]): void {
  if (positionals.length === 0) return;
  // The argument is not echoed: a key pasted on the command line must not be printed again.
  const hint = command === "add" ? ": pipe the key on stdin instead" : "";
  throw new UsageError(`keys ${command} takes no arguments${hint}`, command);
}

function oneId(command: CommandName, positionals: readonly string[]): string {
  const [id, ...extra] = positionals;
  if (id === undefined) throw new UsageError(`keys ${command} needs a key id`, command);
  if (extra.length > 0) {
    throw new UsageError(`keys ${command} takes one key id, got ${positionals.length}`, command);
  }
  if (!KeyRecordSchema.shape.id.safeParse(id).success) {
    throw new UsageError(`${shown(id)} is not a key id such as key_7Hq2xM9aLp`, command);
  }
  return id;
}

/** The latest time the key file can hold (four-digit years). */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59);

function parseDurationFlag(
  flag: string,
  value: string,
  command: CommandName,
  allowZero = false,
): number {
  const ms = parseDuration(value);
  if (ms === undefined || (ms === 0 && !allowZero)) {
    throw new UsageError(
      `${flag} must be a duration such as 30d, 12h, 15m or 90s` +
        `${allowZero ? " (or 0)" : " (more than 0)"}, got ${shown(value)}`,
      command,
    );
  }
  return ms;
}

/** A time as the key file stores it: ISO 8601 in UTC, without milliseconds when they are 0. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** `now` rounded down to whole seconds, for the times the CLI writes. */
function wholeSeconds(now: number): number {
  return Math.floor(now / 1000) * 1000;
}

function laterTime(flag: string, base: number, duration: number, command: CommandName): number {
  const time = base + duration;
  if (time > MAX_TIME) throw new UsageError(`${flag} reaches past the year 9999`, command);
  return time;
}

const isoDateTime = KeyRecordSchema.shape.created_at;
const isoDate = z.iso.date();

function parseExpiry(
  values: { "expires-in"?: string | undefined; "expires-at"?: string | undefined },
  now: number,
  command: CommandName,
): string | null {
  const expiresIn = values["expires-in"];
  const expiresAt = values["expires-at"];
  if (expiresIn !== undefined && expiresAt !== undefined) {
    throw new UsageError("--expires-in and --expires-at cannot be used together", command);
  }
  if (expiresIn !== undefined) {
    const duration = parseDurationFlag("--expires-in", expiresIn, command);
    return formatTime(laterTime("--expires-in", wholeSeconds(now), duration, command));
  }
  if (expiresAt === undefined) return null;
  const valid = isoDateTime.safeParse(expiresAt).success || isoDate.safeParse(expiresAt).success;
  const time = valid ? Date.parse(expiresAt) : NaN;
  if (Number.isNaN(time) || time > MAX_TIME) {
    throw new UsageError(
      `--expires-at must be an ISO 8601 time such as 2027-01-01T00:00:00Z, got ${shown(expiresAt)}`,
      command,
    );
  }
  if (time <= now) {
    throw new UsageError(
      `--expires-at must be in the future, got ${shown(expiresAt)} (now is ${
        formatTime(wholeSeconds(now))
      })`,
      command,
    );
  }
  return formatTime(time);
}

function parseName(value: string | undefined, command: CommandName): string {
  if (value === undefined) throw new UsageError("--name is required", command);
  const name = value.trim();
  if (name === "") throw new UsageError("--name must not be empty", command);
  if (/\p{Cc}/u.test(name)) {
    throw new UsageError("--name must not contain control characters", command);
  }
  if (!KeyRecordSchema.shape.name.safeParse(name).success) {
    throw new UsageError("--name must be at most 200 characters long", command);
  }
  return name;
}

/** Splits repeated, comma-separated flag values: trimmed, empties dropped, duplicates once. */
function parseList(
  flag: string,
  values: readonly string[] | undefined,
  command: CommandName,
): string[] | null {
  if (values === undefined) return null;
  const items = [...new Set(values.flatMap((v) => v.split(",")).map((v) => v.trim()))]
    .filter((v) => v !== "");
  if (items.length === 0) {
    throw new UsageError(`${flag} needs at least one value (leave it out to allow all)`, command);
  }
  return items;
}

const MODEL_REGEXP = /^(?:[^\s*]+\*?|\*)$/u;

function parseModels(values: readonly string[] | undefined, command: CommandName) {
  const models = parseList("--models", values, command);
  for (const model of models ?? []) {
    if (!MODEL_REGEXP.test(model) || /\p{Cc}/u.test(model)) {
      throw new UsageError(
        `--models: ${shown(model)} is not a model name such as gpt-4o, ` +
          "or a prefix followed by *, such as claude-*",
        command,
      );
    }
  }
  return models;
}

/** Checks each item with the key file's own schema for the field, naming the flag. */
function parseScopeList(
  field: "endpoints" | "ips",
  values: readonly string[] | undefined,
  command: CommandName,
): string[] | null {
  const flag = `--${field}`;
  const items = parseList(flag, values, command);
  for (const item of items ?? []) {
    const result = KeyRecordSchema.shape[field].safeParse([item]);
    if (!result.success) {
      const message = result.error.issues[0]?.message ?? "is not valid";
      throw new UsageError(`${flag}: ${shown(item)} ${message}`, command);
    }
    if (field === "endpoints" && !ENDPOINTS.includes(item)) {
      // A typo here would silently lock the key out of the endpoint it was made for.
      throw new UsageError(
        `${flag}: ${shown(item)} is not an endpoint of the gateway (known: ${
          ENDPOINTS.join(", ")
        })`,
        command,
      );
    }
  }
  return items;
}

function parseLimit(flag: string, value: string | undefined, command: CommandName) {
  if (value === undefined) return null;
  const limit = /^[1-9]\d*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(limit)) {
    throw new UsageError(`${flag} must be a positive integer, got ${shown(value)}`, command);
  }
  return limit;
}

/** What `create` and `add` take from their flags. */
interface NewKeySettings {
  readonly name: string;
  readonly expires_at: string | null;
  readonly models: string[] | null;
  readonly endpoints: string[] | null;
  readonly ips: string[] | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
}

function parseNewKeySettings(
  values: {
    name?: string | undefined;
    "expires-in"?: string | undefined;
    "expires-at"?: string | undefined;
    models?: string[] | undefined;
    endpoints?: string[] | undefined;
    ips?: string[] | undefined;
    rpm?: string | undefined;
    tpm?: string | undefined;
  },
  now: number,
  command: CommandName,
): NewKeySettings {
  return {
    name: parseName(values.name, command),
    expires_at: parseExpiry(values, now, command),
    models: parseModels(values.models, command),
    endpoints: parseScopeList("endpoints", values.endpoints, command),
    ips: parseScopeList("ips", values.ips, command),
    rpm: parseLimit("--rpm", values.rpm, command),
    tpm: parseLimit("--tpm", values.tpm, command),
  };
}

function requireKeysFile(io: CliIo): string {
  if (io.keysFile === undefined || io.keysFile === "") {
    throw new CommandError(
      "CHOREOAI_KEYS_FILE is not set: point it at the key list file, such as ./keys.json",
    );
  }
  return io.keysFile;
}

// ---------------------------------------------------------------------------------------------
// Reading and showing keys

/** A key as `list --json` and `show --json` print it: the stored fields without the digest. */
type KeyView = Omit<KeyRecord, "digest"> & {
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
  const { digest: _digest, ...stored } = key;
  const usage = stats.get(key.id);
  return {
    ...stored,
    status: keyStatus(key, file.keys, now),
    last_used_at: usage?.last_used_at ?? null,
    requests: usage?.requests ?? 0,
  };
}

function findKey(file: KeyFile, id: string, path: string): KeyRecord {
  const key = file.keys.find((k) => k.id === id);
  if (key === undefined) throw new CommandError(`No key with id "${id}" in ${path}`);
  return key;
}

/** Replaces control characters, so a hand-edited name cannot garble the terminal. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, "?");
}

function readableTime(time: string | null, none: string): string {
  return time === null ? none : formatTime(Date.parse(time));
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
    ["ID", "NAME", "HINT", "STATUS", "CREATED", "EXPIRES", "LAST USED", "REQUESTS"],
    ...views.map((view) => [
      view.id,
      printable(view.name),
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

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function expiryNote(expiresAt: string | null): string {
  return expiresAt === null ? "never expires" : `expires ${expiresAt}`;
}

// ---------------------------------------------------------------------------------------------
// Commands

/** A key id not yet in `file`. */
function newKeyId(file: KeyFile, io: CliIo): string {
  const taken = new Set(file.keys.map((k) => k.id));
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = generateKeyId(io.randomBytes(8));
    if (!taken.has(id)) return id;
  }
  throw new CommandError("Cannot find a free key id: is the random source broken?");
}

function newRecord(
  id: string,
  key: string,
  settings: NewKeySettings,
  createdAt: number,
): KeyRecord {
  return {
    id,
    name: settings.name,
    digest: digestKey(key),
    hint: keyHint(key),
    created_at: formatTime(wholeSeconds(createdAt)),
    expires_at: settings.expires_at,
    revoked_at: null,
    rotated_from: null,
    models: settings.models,
    endpoints: settings.endpoints,
    ips: settings.ips,
    rpm: settings.rpm,
    tpm: settings.tpm,
    metadata: {},
  };
}

async function createCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("create", args, SCOPE_OPTIONS);
  if (values.help === true) {
    io.stdout(`${HELP.create}\n`);
    return EXIT.ok;
  }
  noArguments("create", positionals);
  const now = io.now();
  const settings = parseNewKeySettings(values, now, "create");
  const path = requireKeysFile(io);
  const key = generateKey(io.randomBytes(KEY_RANDOM_BYTES));
  let record: KeyRecord | undefined;
  await updateKeyFile(path, (file) => {
    record = newRecord(newKeyId(file, io), key, settings, now);
    return { version: 1, keys: [...file.keys, record] };
  }, { create: true });
  if (record === undefined) throw new Error("The key list was not updated");
  io.stderr(
    `Created key ${record.id} "${printable(record.name)}" (${record.hint}), ` +
      `${expiryNote(record.expires_at)}.\n` +
      "Store it now: it cannot be shown again.\n",
  );
  io.stdout(
    values.json === true
      ? json({ id: record.id, name: record.name, key, expires_at: record.expires_at })
      : `${key}\n`,
  );
  return EXIT.ok;
}

const B64TOKEN_REGEXP = /^[A-Za-z0-9\-._~+/]+=*$/;
const SHORT_KEY_CHARS = 32;

/** Checks a key read from stdin; returns it without its one trailing newline. */
function parseStdinKey(raw: string, io: CliIo): string {
  const key = raw.endsWith("\r\n") ? raw.slice(0, -2) : raw.endsWith("\n") ? raw.slice(0, -1) : raw;
  if (key === "") {
    throw new CommandError(
      'No key on stdin: pipe it in, such as printf %s "$KEY" | choreoai keys add --name NAME',
    );
  }
  const bytes = new TextEncoder().encode(key).byteLength;
  if (bytes > MAX_TOKEN_BYTES) {
    throw new CommandError(
      `The key is ${bytes} bytes long, and the gateway refuses tokens longer than ` +
        `${MAX_TOKEN_BYTES} bytes, so it could never authenticate`,
    );
  }
  if (!B64TOKEN_REGEXP.test(key)) {
    const whitespace = /\s/.test(key)
      ? " (it contains whitespace; only one trailing newline is removed)"
      : "";
    throw new CommandError(
      "The key has characters outside RFC 6750's token set (A-Z a-z 0-9 - . _ ~ + / then " +
        `any =), so it could never authenticate${whitespace}`,
    );
  }
  if (!hasValidChecksum(key)) {
    throw new CommandError(
      `The key starts with ${KEY_PREFIX} but its checksum is wrong (mistyped or truncated?), ` +
        "so the gateway would refuse it",
    );
  }
  if (key.length < SHORT_KEY_CHARS) {
    io.stderr(
      `warning: the key is only ${key.length} characters long; keys shorter than ` +
        `${SHORT_KEY_CHARS} characters are easier to guess\n`,
    );
  }
  return key;
}

async function addCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("add", args, SCOPE_OPTIONS);
  if (values.help === true) {
    io.stdout(`${HELP.add}\n`);
    return EXIT.ok;
  }
  noArguments("add", positionals);
  const now = io.now();
  const settings = parseNewKeySettings(values, now, "add");
  const path = requireKeysFile(io);
  const key = parseStdinKey(await io.readStdin(), io);
  const digest = digestKey(key);
  let record: KeyRecord | undefined;
  await updateKeyFile(path, (file) => {
    const existing = file.keys.find((k) => k.digest === digest);
    if (existing !== undefined) {
      throw new CommandError(
        `This key is already in the list as ${existing.id} ("${printable(existing.name)}")`,
      );
    }
    record = newRecord(newKeyId(file, io), key, settings, now);
    return { version: 1, keys: [...file.keys, record] };
  }, { create: true });
  if (record === undefined) throw new Error("The key list was not updated");
  io.stderr(
    `Added key ${record.id} "${printable(record.name)}" (${record.hint}), ` +
      `${expiryNote(record.expires_at)}.\n`,
  );
  io.stdout(
    values.json === true
      ? json({ id: record.id, name: record.name, expires_at: record.expires_at })
      : `${record.id}\n`,
  );
  return EXIT.ok;
}

async function listCommand(args: readonly string[], io: CliIo): Promise<number> {
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

async function showCommand(args: readonly string[], io: CliIo): Promise<number> {
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

async function revokeCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("revoke", args, HELP_OPTION);
  if (values.help === true) {
    io.stdout(`${HELP.revoke}\n`);
    return EXIT.ok;
  }
  const id = oneId("revoke", positionals);
  const path = requireKeysFile(io);
  const now = io.now();
  const revokedAt = formatTime(wholeSeconds(now));
  let before: KeyRecord | undefined;
  let alreadyRevoked = false;
  await updateKeyFile(path, (file) => {
    before = findKey(file, id, path);
    alreadyRevoked = keyStatus(before, file.keys, now) === "revoked";
    if (alreadyRevoked) return file;
    return {
      version: 1,
      keys: file.keys.map((k) => k.id === id ? { ...k, revoked_at: revokedAt } : k),
    };
  });
  if (before === undefined) throw new Error("The key list was not read");
  const label = `${before.id} "${printable(before.name)}" (${before.hint})`;
  if (alreadyRevoked) {
    io.stderr(
      `Key ${label} was already revoked at ${readableTime(before.revoked_at, "-")}; ` +
        "nothing changed.\n",
    );
  } else {
    io.stderr(
      `Revoked key ${label} at ${revokedAt}. ` +
        "A running gateway refuses it once it has reloaded the key list.\n",
    );
  }
  return EXIT.ok;
}

const DEFAULT_GRACE = "24h";

async function rotateCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("rotate", args, {
    grace: { type: "string" },
    ...JSON_OPTION,
    ...HELP_OPTION,
  });
  if (values.help === true) {
    io.stdout(`${HELP.rotate}\n`);
    return EXIT.ok;
  }
  const id = oneId("rotate", positionals);
  const grace = parseDurationFlag("--grace", values.grace ?? DEFAULT_GRACE, "rotate", true);
  const now = io.now();
  const start = wholeSeconds(now);
  const graceEnd = grace === 0 ? start : laterTime("--grace", start, grace, "rotate");
  const path = requireKeysFile(io);
  const key = generateKey(io.randomBytes(KEY_RANDOM_BYTES));
  let rotated: { readonly old: KeyRecord; readonly next: KeyRecord } | undefined;
  await updateKeyFile(path, (file) => {
    const old = findKey(file, id, path);
    const status = keyStatus(old, file.keys, now);
    if (status === "revoked") {
      throw new CommandError(`Key ${id} is revoked and cannot be rotated: create a new key`);
    }
    if (status === "expired") {
      throw new CommandError(
        `Key ${id} expired at ${readableTime(old.expires_at, "-")} and cannot be rotated: ` +
          "create a new key",
      );
    }
    if (status === "rotating") {
      const newer = file.keys.filter((k) => k.rotated_from === id).map((k) => k.id);
      throw new CommandError(
        `Key ${id} was already rotated to ${newer.join(", ")}: rotate that key instead, ` +
          `or revoke ${id}`,
      );
    }
    const oldExpiry = old.expires_at === null ? null : Date.parse(old.expires_at);
    let expiresAt: string | null = null;
    if (oldExpiry !== null) {
      const lifetime = oldExpiry - Date.parse(old.created_at);
      // A created_at in the future (a hand-edited file) leaves the remaining lifetime.
      const end = start + (lifetime > 0 ? lifetime : oldExpiry - now);
      expiresAt = formatTime(Math.min(end, MAX_TIME));
    }
    const next: KeyRecord = {
      ...newRecord(newKeyId(file, io), key, {
        name: old.name,
        expires_at: expiresAt,
        models: old.models === null ? null : [...old.models],
        endpoints: old.endpoints === null ? null : [...old.endpoints],
        ips: old.ips === null ? null : [...old.ips],
        rpm: old.rpm,
        tpm: old.tpm,
      }, now),
      rotated_from: old.id,
      metadata: structuredClone(old.metadata),
    };
    const retired: KeyRecord = grace === 0 ? { ...old, revoked_at: formatTime(start) } : {
      ...old,
      expires_at: formatTime(oldExpiry === null ? graceEnd : Math.min(graceEnd, oldExpiry)),
    };
    rotated = { old: retired, next };
    return {
      version: 1,
      keys: [...file.keys.map((k) => k.id === id ? retired : k), next],
    };
  });
  if (rotated === undefined) throw new Error("The key list was not updated");
  const { old, next } = rotated;
  const oldNote = grace === 0
    ? `The old key ${old.id} was revoked now (--grace 0).`
    : `The old key ${old.id} keeps working until ${readableTime(old.expires_at, "-")}.`;
  io.stderr(
    `Rotated key ${old.id} to ${next.id} "${printable(next.name)}" (${next.hint}), ` +
      `${expiryNote(next.expires_at)}.\n${oldNote}\n` +
      "Store the new key now: it cannot be shown again.\n",
  );
  io.stdout(
    values.json === true
      ? json({
        id: next.id,
        name: next.name,
        key,
        expires_at: next.expires_at,
        rotated_from: old.id,
      })
      : `${key}\n`,
  );
  return EXIT.ok;
}

const COMMANDS: Record<CommandName, (args: readonly string[], io: CliIo) => Promise<number>> = {
  create: createCommand,
  add: addCommand,
  list: listCommand,
  show: showCommand,
  revoke: revokeCommand,
  rotate: rotateCommand,
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
 * const code = await runKeysCommand(["list", "--json"], io);
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
