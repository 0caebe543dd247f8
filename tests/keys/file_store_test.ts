import assert from "node:assert/strict";
import {
  EMPTY_KEY_FILE,
  KeyStoreError,
  readKeyFile,
  updateKeyFile,
  withKeyFileLock,
  writeKeyFile,
} from "../../src/keys/file_store.ts";
import { type KeyFile, type KeyRecord, serializeKeyFile } from "../../src/keys/key_file.ts";

function record(n: number, overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: `key_Test${String(n).padStart(6, "0")}`,
    name: `key ${n}`,
    digest: `sha256:${n.toString(16).padStart(64, "0")}`,
    hint: `sk-choreo-AbC…${String(n).padStart(4, "0")}`,
    created_at: "2026-11-25T10:00:00Z",
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    models: null,
    endpoints: null,
    ips: null,
    rpm: null,
    tpm: null,
    metadata: {},
    ...overrides,
  };
}

function listOf(...keys: KeyRecord[]): KeyFile {
  return { version: 1, keys };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai_store_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

async function modeOf(path: string): Promise<number> {
  const { mode } = await Deno.stat(path);
  assert.ok(mode !== null, "this platform reports no file mode");
  return mode & 0o777;
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<KeyStoreError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyStoreError, `expected a KeyStoreError, got ${error}`);
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

Deno.test("readKeyFile() reads a list, or names the path of a missing or bad one", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/keys.json`;
    await t.step("missing → error naming the path", async () => {
      await rejectsWith(readKeyFile(path), new RegExp(`${path}.*does not exist`));
    });
    await t.step("missing with missingOk → empty list", async () => {
      assert.deepEqual(await readKeyFile(path, { missingOk: true }), EMPTY_KEY_FILE);
    });
    await t.step("blank with missingOk → empty list; blank otherwise → error", async () => {
      await Deno.writeTextFile(path, "\n");
      assert.deepEqual(await readKeyFile(path, { missingOk: true }), EMPTY_KEY_FILE);
      await rejectsWith(readKeyFile(path), new RegExp(`${path}.*not valid JSON`));
    });
    await t.step("invalid entry → error naming the path and the entry", async () => {
      await Deno.writeTextFile(path, serializeKeyFile(listOf(record(1))).replace("key 1", ""));
      await rejectsWith(readKeyFile(path, { missingOk: true }), new RegExp(`${path}.*keys\\[0\\]`));
    });
    await t.step("a directory → error naming the path", async () => {
      await rejectsWith(readKeyFile(dir), new RegExp(`Cannot read key list "${dir}"`));
    });
    await t.step("valid → the list", async () => {
      await Deno.writeTextFile(path, serializeKeyFile(listOf(record(1), record(2))));
      assert.deepEqual(await readKeyFile(path), listOf(record(1), record(2)));
    });
  });
});

Deno.test("writeKeyFile() replaces the file atomically with mode 0600", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/keys.json`;
    await t.step("a new file", async () => {
      await writeKeyFile(path, listOf(record(1)));
      assert.deepEqual(await readKeyFile(path), listOf(record(1)));
      assert.equal(await modeOf(path), 0o600);
      assert.deepEqual(await entries(dir), ["keys.json"]);
    });
    await t.step("over a world-readable file: the mode becomes 0600", async () => {
      await Deno.chmod(path, 0o644);
      await writeKeyFile(path, listOf(record(1), record(2)));
      assert.equal(await modeOf(path), 0o600);
      assert.equal((await readKeyFile(path)).keys.length, 2);
      assert.deepEqual(await entries(dir), ["keys.json"]);
    });
    await t.step("an invalid list is refused and the old file is untouched", async () => {
      const before = await Deno.readTextFile(path);
      await rejectsWith(
        writeKeyFile(path, listOf(record(1), record(2, { id: record(1).id }))),
        new RegExp(`Refusing to write an invalid key list to "${path}"`),
      );
      assert.equal(await Deno.readTextFile(path), before);
      assert.deepEqual(await entries(dir), ["keys.json"]);
    });
    await t.step("a failed rename leaves no temp file behind", async () => {
      const target = `${dir}/occupied`;
      await Deno.mkdir(`${target}/child`, { recursive: true });
      await rejectsWith(writeKeyFile(target, listOf(record(1))), /Cannot write key list/);
      assert.deepEqual(await entries(dir), ["keys.json", "occupied"]);
      assert.deepEqual(await entries(target), ["child"]);
    });
    await t.step("a missing directory is named", async () => {
      await rejectsWith(
        writeKeyFile(`${dir}/nope/keys.json`, listOf(record(1))),
        new RegExp(`directory "${dir}/nope" does not exist`),
      );
    });
  });
});

Deno.test("writeKeyFile() through a symlink replaces the target and keeps the link", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/real`);
    await writeKeyFile(`${dir}/real/keys.json`, listOf(record(1)));
    await Deno.symlink(`${dir}/real/keys.json`, `${dir}/link.json`);
    await writeKeyFile(`${dir}/link.json`, listOf(record(1), record(2)));
    assert.ok((await Deno.lstat(`${dir}/link.json`)).isSymlink);
    assert.equal((await readKeyFile(`${dir}/real/keys.json`)).keys.length, 2);
    assert.deepEqual(await entries(`${dir}/real`), ["keys.json"]);
  });
});

Deno.test("updateKeyFile() reads, modifies and writes under the lock", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/keys.json`;
    await t.step("a missing file without create is an error naming it", async () => {
      await rejectsWith(updateKeyFile(path, (file) => file), new RegExp(`${path}.*does not exist`));
      assert.deepEqual(await entries(dir), []);
    });
    await t.step("create starts from an empty list", async () => {
      const written = await updateKeyFile(path, (file) => {
        assert.deepEqual(file, EMPTY_KEY_FILE);
        return listOf(...file.keys, record(1));
      }, { create: true });
      assert.deepEqual(written, listOf(record(1)));
      assert.deepEqual(await readKeyFile(path), listOf(record(1)));
      assert.deepEqual(await entries(dir), ["keys.json"]);
    });
    await t.step("returning the same list writes nothing", async () => {
      const before = await Deno.stat(path);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await updateKeyFile(path, (file) => file);
      assert.equal((await Deno.stat(path)).ino, before.ino);
    });
    await t.step("an error in modify leaves the file and releases the lock", async () => {
      const before = await Deno.readTextFile(path);
      await assert.rejects(
        updateKeyFile(path, () => {
          throw new RangeError("no such key");
        }),
        RangeError,
      );
      assert.equal(await Deno.readTextFile(path), before);
      assert.deepEqual(await entries(dir), ["keys.json"]);
    });
    await t.step("create in a missing directory names the directory", async () => {
      await rejectsWith(
        updateKeyFile(`${dir}/nope/keys.json`, (file) => file, { create: true }),
        new RegExp(`directory "${dir}/nope" does not exist`),
      );
    });
  });
});

Deno.test("updateKeyFile() never loses a concurrent change", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/keys.json`;
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        updateKeyFile(path, async (file) => {
          // Yield between read and write, so that without the lock updates would interleave.
          await new Promise((resolve) => setTimeout(resolve, 1));
          return listOf(...file.keys, record(n + 1));
        }, { create: true })),
    );
    const ids = (await readKeyFile(path)).keys.map((k) => k.id).sort();
    assert.deepEqual(ids, Array.from({ length: 20 }, (_, n) => record(n + 1).id).sort());
    assert.deepEqual(await entries(dir), ["keys.json"]);
  });
});

Deno.test("withKeyFileLock() waits for a held lock, then times out naming it", async (t) => {
  await withTempDir(async (dir) => {
    const path = `${dir}/keys.json`;
    const lock = `${path}.lock`;
    await t.step("waits until the holder releases it", async () => {
      const order: string[] = [];
      const release = Promise.withResolvers<void>();
      const held = Promise.withResolvers<void>();
      const first = withKeyFileLock(path, async () => {
        order.push("first in");
        held.resolve();
        await release.promise;
        order.push("first out");
      });
      await held.promise;
      const second = withKeyFileLock(path, () => {
        order.push("second");
        return Promise.resolve();
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(order, ["first in"]);
      release.resolve();
      await Promise.all([first, second]);
      assert.deepEqual(order, ["first in", "first out", "second"]);
      assert.deepEqual(await entries(dir), []);
    });
    await t.step("a fresh lock of another process is respected until the timeout", async () => {
      await Deno.writeTextFile(lock, "4242 someone-else\n");
      const started = Date.now();
      const error = await rejectsWith(
        withKeyFileLock(path, () => Promise.resolve(), { timeoutMs: 300 }),
        /is held by another process \(pid 4242\)/,
      );
      assert.ok(error.message.includes(lock), error.message);
      assert.ok(Date.now() - started >= 300);
      assert.equal(await Deno.readTextFile(lock), "4242 someone-else\n", "the lock is left alone");
    });
    await t.step("a stale lock is removed", async () => {
      const old = new Date(Date.now() - 60_000);
      await Deno.utime(lock, old, old);
      let ran = false;
      await withKeyFileLock(path, () => {
        ran = true;
        return Promise.resolve();
      }, { timeoutMs: 1_000 });
      assert.ok(ran);
      assert.deepEqual(await entries(dir), []);
    });
  });
});
