/**
 * The watched key list and routing file, on real files in a temporary directory with a real
 * watcher: only a change of the file itself counts, a broken file is reported once per change,
 * and a reload on SIGHUP logs one line saying what is in force.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseConfig } from "../../src/config.ts";
import { reloadFiles, type WatchedFile } from "../../src/files/watched.ts";
import { writeKeyFile } from "../../src/keys/file_store.ts";
import { openKeyStore } from "../../src/keys/store.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { openRoutingFile } from "../../src/routing/load.ts";
import { delay, waitFor } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";

/** Long enough for the watcher and two rounds of the 1 s poll to have acted on a write. */
const SETTLE_MS = 2_500;

interface Setup extends AsyncDisposable {
  readonly dir: string;
  readonly file: string;
  readonly lines: Record<string, unknown>[];
  readonly log: Logger;
  /** How many lines so far have a message containing `text`. */
  count(text: string): number;
}

async function tempDir(): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-watched-" });
  const lines: Record<string, unknown>[] = [];
  return {
    dir,
    file: `${dir}/keys.json`,
    lines,
    log: createLogger((line) => lines.push(JSON.parse(line)), Date.now),
    count: (text) => lines.filter((line) => String(line.msg).includes(text)).length,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Writes `text` to a temp file beside `path` and renames it over `path`, as the CLI does. */
async function replace(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(temp, text);
  await Deno.rename(temp, path);
}

/** Several writes to a SQLite database in `dir`, as the gateway's usage recorder makes. */
async function writeUsageDatabase(dir: string): Promise<void> {
  const db = new DatabaseSync(`${dir}/usage.db`);
  try {
    db.exec("CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY, tokens INTEGER)");
    for (let i = 0; i < 5; i++) {
      db.prepare("INSERT INTO usage (tokens) VALUES (?)").run(i);
      await delay(100);
    }
  } finally {
    db.close();
  }
}

const FAILED = "key list reload failed";
const RELOADED = "key list reloaded";

Deno.test("a broken key list is reported once per change, whatever else the directory sees", async () => {
  await using setup = await tempDir();
  const key = makeKey();
  await Deno.writeTextFile(setup.file, keyFileText([key.record]));
  using store = await openKeyStore(setup.file, setup.log);
  store.watch();

  await Deno.writeTextFile(setup.file, "{ not json");
  await waitFor(() => setup.count(FAILED) === 1, 5_000);

  await writeUsageDatabase(setup.dir);
  await Deno.writeTextFile(`${setup.dir}/notes.txt`, "unrelated");
  await delay(SETTLE_MS);
  assert.equal(setup.count(FAILED), 1, "writes beside the key list are not changes of it");

  await replace(setup.file, '{ "version": 1 }');
  await waitFor(() => setup.count(FAILED) === 2, 5_000);
  await writeUsageDatabase(setup.dir);
  await delay(SETTLE_MS);
  assert.equal(setup.count(FAILED), 2, "one line for the second broken change");

  assert.equal(store.current().size, 1, "the last good list stays in force");
  const second = makeKey();
  await replace(setup.file, keyFileText([key.record, second.record]));
  await waitFor(() => store.current().size === 2, 5_000);
  await delay(SETTLE_MS);
  assert.equal(setup.count(RELOADED), 1);
  assert.equal(setup.count(FAILED), 2);
});

Deno.test("a write that leaves a broken key list's text as it was is not a change", async () => {
  await using setup = await tempDir();
  await Deno.writeTextFile(setup.file, keyFileText([makeKey().record]));
  using store = await openKeyStore(setup.file, setup.log);
  store.watch();

  await Deno.writeTextFile(setup.file, "{ not json");
  await waitFor(() => setup.count(FAILED) === 1, 5_000);
  await Deno.writeTextFile(setup.file, "{ not json"); // the same text, in place
  await replace(setup.file, "{ not json"); // the same text, a new inode
  await Deno.utime(setup.file, new Date(), new Date(Date.now() + 5_000)); // touched
  await delay(SETTLE_MS);
  assert.equal(setup.count(FAILED), 1);
  assert.equal(setup.count(RELOADED), 0);
});

Deno.test("a key list replaced by the CLI, an editor or a swapped symlink is reloaded once per change", async (t) => {
  await using setup = await tempDir();
  // As a mounted secret: keys.json -> ..data/keys.json, ..data -> a versioned directory.
  const version = async (name: string, records: Parameters<typeof keyFileText>[0]) => {
    await Deno.mkdir(`${setup.dir}/${name}`);
    await Deno.writeTextFile(`${setup.dir}/${name}/keys.json`, keyFileText(records));
  };
  const records = [makeKey().record];
  await version("..v1", records);
  await Deno.symlink("..v1", `${setup.dir}/..data`);
  await Deno.symlink("..data/keys.json", setup.file);
  using store = await openKeyStore(setup.file, setup.log);
  store.watch();

  await t.step("a symlink swapped in one rename", async () => {
    records.push(makeKey().record);
    await version("..v2", records);
    await Deno.symlink("..v2", `${setup.dir}/..data_tmp`);
    await Deno.rename(`${setup.dir}/..data_tmp`, `${setup.dir}/..data`);
    await waitFor(() => store.current().size === 2, 5_000);
  });
  await t.step("the CLI's atomic write", async () => {
    await Deno.remove(setup.file); // from here on, a plain file, with the same text
    await Deno.writeTextFile(setup.file, keyFileText(records));
    records.push(makeKey().record);
    await writeKeyFile(setup.file, { version: 1, keys: records });
    await waitFor(() => store.current().size === 3, 5_000);
  });
  await t.step("an editor that removes the file and writes a new one", async () => {
    records.push(makeKey().record);
    await Deno.remove(setup.file);
    await Deno.writeTextFile(setup.file, keyFileText(records));
    await waitFor(() => store.current().size === 4, 5_000);
  });
  await delay(SETTLE_MS);
  assert.equal(setup.count(RELOADED), 3, JSON.stringify(setup.lines));
  assert.ok(setup.count(FAILED) <= 1, "at most the moment the editor's file was missing");
});

Deno.test("reloadFiles() logs one line saying what is in force, changed or not", async (t) => {
  await using setup = await tempDir();
  const routingPath = `${setup.dir}/routing.json`;
  const routingText = (models: string[]) =>
    JSON.stringify({
      models: Object.fromEntries(
        models.map((name) => [name, { targets: [{ provider: "openai", model: "gpt-4o" }] }]),
      ),
    });
  await Deno.writeTextFile(setup.file, keyFileText([makeKey().record]));
  await Deno.writeTextFile(routingPath, routingText(["smart"]));
  const env = { OPENAI_API_KEY: "sk-test" };
  using keys = await openKeyStore(setup.file, setup.log);
  using routing = await openRoutingFile(routingPath, parseConfig(env), env, setup.log);
  const files: WatchedFile<unknown>[] = [keys, routing];

  /** Reloads, and returns the lines logged meanwhile. */
  const reload = async () => {
    const from = setup.lines.length;
    await reloadFiles(files, setup.log);
    return setup.lines.slice(from).map(({ time: _, ...line }) => line);
  };
  const summary = (level: string, fields: Record<string, unknown>) => ({
    level,
    msg: "reloaded on SIGHUP",
    keys: 1,
    routing_models: 1,
    routing_providers: 1,
    changed: [],
    failed: [],
    ...fields,
  });

  await t.step("nothing changed", async () => {
    assert.deepEqual(await reload(), [summary("info", {})]);
  });
  await t.step("both files changed", async () => {
    await Deno.writeTextFile(setup.file, keyFileText([makeKey().record, makeKey().record]));
    await Deno.writeTextFile(routingPath, routingText(["smart", "fast"]));
    assert.deepEqual(await reload(), [
      summary("info", {
        keys: 2,
        routing_models: 2,
        changed: ["key list", "routing file"],
      }),
    ]);
  });
  await t.step("a broken routing file: its failure, and the last good table in force", async () => {
    await Deno.writeTextFile(routingPath, routingText(["my model"]));
    for (let i = 0; i < 2; i++) {
      const [failure, ...rest] = await reload();
      assert.equal(failure?.msg, "routing file reload failed; keeping the last good routing file");
      assert.equal(failure?.reason, "SIGHUP");
      assert.match(String(failure?.error), /models\.my model/);
      assert.deepEqual(rest, [
        summary("warn", { keys: 2, routing_models: 2, failed: ["routing file"] }),
      ]);
    }
  });
});
