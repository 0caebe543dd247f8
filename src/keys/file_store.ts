/**
 * Reading and writing the key list file (`CHOREOAI_KEYS_FILE`) from the `keys` subcommands.
 *
 * Writes are atomic (a temp file in the same directory, mode 0600, fsync, then a rename over the
 * target), so the server never reads half a file. Read-modify-write runs under an exclusive lock
 * file, `<path>.lock`, so two CLI processes at once never lose each other's change.
 */
import { basename, dirname, join } from "node:path";
import { type KeyFile, KeyFileError, parseKeyFile, serializeKeyFile } from "./key_file.ts";

/** The key list cannot be read, locked or written; the message names the file. */
export class KeyStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyStoreError";
  }
}

/** A list with no keys: what a missing file holds for `keys create` and `keys add`. */
export const EMPTY_KEY_FILE: KeyFile = Object.freeze({ version: 1, keys: Object.freeze([]) });

/** Options of {@linkcode readKeyFile}. */
export interface ReadKeyFileOptions {
  /** A missing (or blank) file is an empty list rather than an error. */
  readonly missingOk?: boolean;
}

/** How long to wait for the lock, and when a lock is abandoned. */
export interface LockOptions {
  /** Give up after this long (milliseconds). Default 10 s. */
  readonly timeoutMs?: number;
  /** A lock file older than this (milliseconds) was left by a crashed process. Default 30 s. */
  readonly staleMs?: number;
}

/** Options of {@linkcode updateKeyFile}. */
export interface UpdateKeyFileOptions extends LockOptions {
  /** Start from an empty list when the file does not exist (`keys create`, `keys add`). */
  readonly create?: boolean;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_LOCK_MS = 30_000;
const FILE_MODE = 0o600;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads and validates the key list at `path`.
 *
 * @throws {KeyStoreError} naming the path when the file is missing (unless `missingOk`),
 *   unreadable or invalid.
 */
export async function readKeyFile(
  path: string,
  options: ReadKeyFileOptions = {},
): Promise<KeyFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      if (options.missingOk === true) return EMPTY_KEY_FILE;
      throw new KeyStoreError(
        `Key list "${path}" does not exist: create it with choreoai keys create --name NAME`,
        { cause: error },
      );
    }
    throw new KeyStoreError(`Cannot read key list "${path}": ${reason(error)}`, { cause: error });
  }
  if (options.missingOk === true && text.trim() === "") return EMPTY_KEY_FILE;
  try {
    return parseKeyFile(text);
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    throw new KeyStoreError(`${path}: ${error.message}`, { cause: error });
  }
}

/** The file a write replaces: the target of a symlink, so the link itself survives. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return path;
    throw error;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}

/** Makes a rename durable; best effort, as some systems cannot open a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    using handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    // The rename itself is atomic; only its durability across a power cut is at stake.
  }
}

/**
 * Replaces the key list at `path` atomically with `file`: a temp file in the same directory
 * (mode 0600) is written, synced and renamed over the target. On failure the old file is left
 * as it was and the temp file is removed. The list is validated first, so a file the server
 * would refuse is never written. Does not lock: see {@linkcode updateKeyFile}.
 *
 * @throws {KeyStoreError} naming the path.
 */
export async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  const text = serializeKeyFile(file);
  try {
    parseKeyFile(text);
  } catch (error) {
    throw new KeyStoreError(
      `Refusing to write an invalid key list to "${path}": ${reason(error)}`,
      { cause: error },
    );
  }
  let target: string;
  try {
    target = await resolveTarget(path);
  } catch (error) {
    throw new KeyStoreError(`Cannot write key list "${path}": ${reason(error)}`, { cause: error });
  }
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${crypto.randomUUID()}.tmp`);
  let created = false;
  try {
    const handle = await Deno.open(temp, { createNew: true, write: true, mode: FILE_MODE });
    created = true;
    try {
      await writeAll(handle, new TextEncoder().encode(text));
      // A umask can only remove bits, but make the mode exact whatever it was.
      if (Deno.build.os !== "windows") await Deno.chmod(temp, FILE_MODE);
      await handle.sync();
    } finally {
      handle.close();
    }
    await Deno.rename(temp, target);
    created = false;
  } catch (error) {
    if (created) await Deno.remove(temp).catch(() => {});
    if (error instanceof Deno.errors.NotFound) {
      throw new KeyStoreError(
        `Cannot write key list "${path}": directory "${dir}" does not exist`,
        { cause: error },
      );
    }
    throw new KeyStoreError(`Cannot write key list "${path}": ${reason(error)}`, { cause: error });
  }
  await syncDirectory(dir);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function lockAge(lockPath: string): Promise<number | undefined> {
  try {
    const { mtime } = await Deno.stat(lockPath);
    // Without an mtime (unusual file systems) a lock is never judged stale.
    return mtime === null ? 0 : Date.now() - mtime.getTime();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Removes a lock left by a crashed process. The lock is first renamed to a unique name, which
 * only one contender can do; if what was renamed turns out to be fresh (another process took
 * the lock in between), it is linked back.
 */
async function breakStaleLock(lockPath: string, staleMs: number): Promise<void> {
  const moved = `${lockPath}.${crypto.randomUUID()}.stale`;
  try {
    await Deno.rename(lockPath, moved);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // someone else broke it first
    throw error;
  }
  const age = await lockAge(moved);
  if (age !== undefined && age < staleMs) {
    await Deno.link(moved, lockPath).catch(() => {});
  }
  await Deno.remove(moved).catch(() => {});
}

async function describeHolder(lockPath: string): Promise<string> {
  try {
    const pid = (await Deno.readTextFile(lockPath)).split(" ")[0]?.trim();
    return pid !== undefined && /^\d+$/.test(pid) ? ` (pid ${pid})` : "";
  } catch {
    return "";
  }
}

/**
 * Creates `<path>.lock` exclusively, waiting with a growing backoff for up to `timeoutMs`.
 * Returns the token written into it, which {@linkcode releaseLock} checks before removing.
 */
async function acquireLock(path: string, options: LockOptions): Promise<string> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_LOCK_MS;
  const token = crypto.randomUUID();
  const started = Date.now();
  let delay = 10;
  while (true) {
    try {
      const handle = await Deno.open(lockPath, { createNew: true, write: true, mode: FILE_MODE });
      try {
        await writeAll(handle, new TextEncoder().encode(`${Deno.pid} ${token}\n`));
      } finally {
        handle.close();
      }
      return token;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new KeyStoreError(
          `Cannot lock key list "${path}": directory "${dirname(lockPath)}" does not exist`,
          { cause: error },
        );
      }
      if (!(error instanceof Deno.errors.AlreadyExists)) {
        throw new KeyStoreError(
          `Cannot lock key list "${path}": cannot create "${lockPath}": ${reason(error)}`,
          { cause: error },
        );
      }
    }
    const age = await lockAge(lockPath);
    if (age === undefined) continue; // released in the meantime
    if (age > staleMs) {
      await breakStaleLock(lockPath, staleMs);
      continue;
    }
    if (Date.now() - started >= timeoutMs) {
      throw new KeyStoreError(
        `Cannot lock key list "${path}": "${lockPath}" is held by another process` +
          `${await describeHolder(lockPath)}; if no choreoai keys command is running, ` +
          `delete it (it is ignored once it is ${Math.round(staleMs / 1000)} s old)`,
      );
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 1.5, 250);
  }
}

/** Removes the lock if it is still ours (a process that judged it stale may have taken it). */
async function releaseLock(path: string, token: string): Promise<void> {
  const lockPath = `${path}.lock`;
  try {
    const content = await Deno.readTextFile(lockPath);
    if (content.includes(token)) await Deno.remove(lockPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Runs `fn` while holding the exclusive lock `<path>.lock`, released in every case.
 *
 * @throws {KeyStoreError} when the lock cannot be had within `timeoutMs`.
 */
export async function withKeyFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const token = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    await releaseLock(path, token);
  }
}

/**
 * Lock → read → `modify` → atomic write → unlock, so concurrent updates never lose each other's
 * change. When `modify` returns the very list it was given, nothing is written. An error thrown
 * by `modify` leaves the file as it was and propagates.
 *
 * @returns the list as written.
 * @throws {KeyStoreError} naming the path when the file is missing (unless `create`), invalid,
 *   locked for too long or cannot be written.
 *
 * @example Usage
 * ```ts
 * import { updateKeyFile } from "./file_store.ts";
 * const path = `${await Deno.makeTempDir()}/keys.json`;
 * const id = "key_old";
 * // Drops the key `id`; `create` starts an empty list when the file does not exist yet.
 * const written = await updateKeyFile(
 *   path,
 *   (file) => ({ ...file, keys: file.keys.filter((k) => k.id !== id) }),
 *   { create: true },
 * );
 * // written.keys.length === 0
 * ```
 */
export async function updateKeyFile(
  path: string,
  modify: (file: KeyFile) => KeyFile | Promise<KeyFile>,
  options: UpdateKeyFileOptions = {},
): Promise<KeyFile> {
  const create = options.create === true;
  if (!create) await readKeyFile(path); // a missing or broken file is named before locking
  return await withKeyFileLock(path, async () => {
    const current = await readKeyFile(path, { missingOk: create });
    const next = await modify(current);
    if (next !== current) await writeKeyFile(path, next);
    return next;
  }, options);
}
