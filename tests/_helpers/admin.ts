/**
 * A gateway for admin API tests: a real key file (an admin key and a client key) served through
 * its key store, the admin API changing that file, and usage recorded to (and read from) a
 * SQLite file, all in a temporary directory removed at the end.
 */
import { fileKeyList } from "../../src/keys/key_list_access.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import { type KeyStore, openKeyStore } from "../../src/keys/store.ts";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { createLogger } from "../../src/log.ts";
import { createSqliteUsageReader } from "../../src/usage/reader.ts";
import { openUsageRecorder, type UsageRecorder } from "../../src/usage/recorder.ts";
import { type GatewayOptions, startGateway, type TestGateway } from "./gateway.ts";
import { keyFileText, makeKey } from "./keys.ts";

/** What {@linkcode adminCall} got back. */
export interface AdminAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON body (or the text of a non-JSON one). */
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/** Calls the gateway at `path` with `token` (none: no Authorization) and a JSON `body`. */
export async function adminCall(
  gateway: { url: string },
  path: string,
  options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } =
    {},
): Promise<AdminAnswer> {
  const response = await fetch(`${gateway.url}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.startsWith("application/json") === true;
  return {
    status: response.status,
    headers: response.headers,
    body: json ? JSON.parse(text) : text,
  };
}

/** A gateway with a key file, its store, and SQLite usage. */
export interface AdminGateway extends AsyncDisposable {
  readonly gateway: TestGateway;
  readonly dir: string;
  readonly keysPath: string;
  readonly dbPath: string;
  readonly store: KeyStore;
  readonly usage: UsageRecorder;
  /** An admin key's token. */
  readonly adminToken: string;
  /** A client key's token and id. */
  readonly clientToken: string;
  readonly clientId: string;
  /** `adminCall` with the admin key. */
  api(path: string, options?: Omit<Parameters<typeof adminCall>[2], "token">): Promise<AdminAnswer>;
}

/** Starts a gateway with a key list file and SQLite usage; `options` as `startGateway`'s. */
export async function startAdminGateway(options: GatewayOptions = {}): Promise<AdminGateway> {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-admin-" });
  const keysPath = `${dir}/keys.json`;
  const dbPath = `${dir}/usage.db`;
  const admin = makeKey({ role: "admin", name: "ops" });
  const client = makeKey({ name: "app" });
  await Deno.writeTextFile(keysPath, keyFileText([admin.record, client.record]));
  const log = createLogger(() => {}, Date.now);
  const store = await openKeyStore(keysPath, log);
  const usage = openUsageRecorder(dbPath, { log, flushIntervalMs: 10 });
  const gateway = startGateway({
    verifier: createKeyListVerifier(() => store.current()),
    usage,
    keyList: fileKeyList(keysPath),
    keyStore: store,
    usageReader: createSqliteUsageReader(dbPath),
    limiter: createMemoryLimiter({ now: Date.now }),
    ...options,
  });
  return {
    gateway,
    dir,
    keysPath,
    dbPath,
    store,
    usage,
    adminToken: admin.token,
    clientToken: client.token,
    clientId: client.record.id,
    api: (path, rest = {}) => adminCall(gateway, path, { ...rest, token: admin.token }),
    async [Symbol.asyncDispose]() {
      await gateway[Symbol.asyncDispose]();
      await usage.close();
      store[Symbol.dispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
