/**
 * `choreoai keys import FILE`: copies the records of a key list file into the database's key
 * list (`CHOREOAI_DATABASE_URL`), as they are: digests, hints, scopes, limits, budgets, expiry
 * and revocation times. A key already in the database unchanged is skipped, so an import can
 * be run again; one that differs stops the import (nothing written) unless `--replace`.
 */
import { readKeyFile } from "../../keys/file_store.ts";
import type { KeyRecord } from "../../keys/key_file.ts";
import { DATABASE_KEY_LIST, updateKeyList } from "../../db/key_list.ts";
import { withDatabase } from "../database.ts";
import { type CliIo, EXIT } from "../io.ts";
import { CommandError, json, UsageError } from "./_shared.ts";
import { HELP_OPTION, JSON_OPTION, parseFlags } from "./flags.ts";
import { HELP } from "./help.ts";

/** What an import did, by key id. */
interface ImportOutcome {
  imported: string[];
  replaced: string[];
  unchanged: string[];
}

/** Runs `choreoai keys import`: returns the exit code, or throws a UsageError or CommandError. */
export async function importCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("import", args, {
    replace: { type: "boolean" },
    ...JSON_OPTION,
    ...HELP_OPTION,
  });
  if (values.help === true) {
    io.stdout(`${HELP.import}\n`);
    return EXIT.ok;
  }
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0) {
    throw new UsageError("keys import takes one key list file", "import");
  }
  const url = io.databaseUrl;
  if (url === undefined || url === "") {
    throw new CommandError(
      "CHOREOAI_DATABASE_URL is not set: keys import copies a key file into the database",
    );
  }
  const source = await readKeyFile(path);
  const outcome: ImportOutcome = { imported: [], replaced: [], unchanged: [] };
  await withDatabase(url, (sql) =>
    updateKeyList(sql, (file) => {
      const byId = new Map(file.keys.map((key) => [key.id, key]));
      const differing: string[] = [];
      const replacements = new Map<string, KeyRecord>();
      const added: KeyRecord[] = [];
      for (const record of source.keys) {
        const existing = byId.get(record.id);
        if (existing === undefined) {
          added.push(record);
          outcome.imported.push(record.id);
        } else if (JSON.stringify(existing) === JSON.stringify(record)) {
          outcome.unchanged.push(record.id);
        } else if (values.replace === true) {
          replacements.set(record.id, record);
          outcome.replaced.push(record.id);
        } else {
          differing.push(record.id);
        }
      }
      if (differing.length > 0) {
        throw new CommandError(
          `${DATABASE_KEY_LIST} already holds ${differing.join(", ")} with other settings: ` +
            "nothing was imported (run with --replace to overwrite them with the file's)",
        );
      }
      if (added.length === 0 && replacements.size === 0) return file;
      return {
        version: 1,
        keys: [...file.keys.map((key) => replacements.get(key.id) ?? key), ...added],
      };
    }));
  if (values.json === true) {
    io.stdout(json(outcome));
  } else {
    io.stderr(
      `Imported ${count(outcome.imported.length)} from ${path} into ${DATABASE_KEY_LIST}` +
        (outcome.replaced.length > 0 ? `, replaced ${count(outcome.replaced.length)}` : "") +
        (outcome.unchanged.length > 0
          ? `; ${count(outcome.unchanged.length)} already there unchanged`
          : "") +
        ". Gateways on this database use them within a second; only digests are stored.\n",
    );
  }
  return EXIT.ok;
}

function count(n: number): string {
  return n === 1 ? "1 key" : `${n} keys`;
}
