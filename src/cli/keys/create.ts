/**
 * `choreoai keys create` (generate a key and print it once) and `choreoai keys add` (register
 * an existing key, read from stdin).
 */
import { MAX_TOKEN_BYTES } from "../../auth/authorization.ts";
import { hasValidChecksum, KEY_PREFIX } from "../../keys/generate.ts";
import { type KeyRecord, keyRole } from "../../keys/key_file.ts";
import { addKey, createKey, type KeyOperationContext } from "../../keys/operations.ts";
import { type CliIo, EXIT } from "../io.ts";
import { CommandError, expiryNote, json, printable } from "./_shared.ts";
import { keyListOf } from "./key_list.ts";
import { noArguments, parseFlags, parseNewKeySettings, SCOPE_OPTIONS } from "./flags.ts";
import { HELP } from "./help.ts";

/** "admin " for an admin key, for the messages on stderr. */
function roleNote(record: KeyRecord): string {
  return keyRole(record) === "admin" ? "admin " : "";
}

/** Runs `choreoai keys create`: returns the exit code, or throws a UsageError or CommandError. */
export async function createCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("create", args, SCOPE_OPTIONS);
  if (values.help === true) {
    io.stdout(`${HELP.create}\n`);
    return EXIT.ok;
  }
  noArguments("create", positionals);
  const now = io.now();
  const settings = parseNewKeySettings(values, now, "create");
  const list = keyListOf(io);
  const ctx: KeyOperationContext = { now, randomBytes: io.randomBytes, where: list.where };
  let created: { record: KeyRecord; secret: string } | undefined;
  await list.update((file) => {
    const change = createKey(file, settings, ctx);
    created = change;
    return change.file;
  }, { create: true });
  if (created === undefined) throw new Error("The key list was not updated");
  const { record, secret: key } = created;
  io.stderr(
    `Created ${roleNote(record)}key ${record.id} "${printable(record.name)}" (${record.hint}), ` +
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

/** Runs `choreoai keys add`: returns the exit code, or throws a UsageError or CommandError. */
export async function addCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("add", args, SCOPE_OPTIONS);
  if (values.help === true) {
    io.stdout(`${HELP.add}\n`);
    return EXIT.ok;
  }
  noArguments("add", positionals);
  const now = io.now();
  const settings = parseNewKeySettings(values, now, "add");
  const list = keyListOf(io);
  const key = parseStdinKey(await io.readStdin(), io);
  const ctx: KeyOperationContext = { now, randomBytes: io.randomBytes, where: list.where };
  let record: KeyRecord | undefined;
  await list.update((file) => {
    const change = addKey(file, key, settings, ctx);
    record = change.record;
    return change.file;
  }, { create: true });
  if (record === undefined) throw new Error("The key list was not updated");
  io.stderr(
    `Added ${roleNote(record)}key ${record.id} "${printable(record.name)}" (${record.hint}), ` +
      `${expiryNote(record.expires_at)}.\n`,
  );
  io.stdout(
    values.json === true
      ? json({ id: record.id, name: record.name, expires_at: record.expires_at })
      : `${record.id}\n`,
  );
  return EXIT.ok;
}
