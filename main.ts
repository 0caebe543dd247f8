/**
 * ChoreoAI's composition root: the only place that reads the environment and the global fetch,
 * and where the clock the gateway is given comes from (only elapsed-time waits read one
 * themselves: key-file locks, Redis calls, usage-write retries).
 * env → parseConfig → dependencies → createHandler → Deno.serve.
 */
import denoJson from "./deno.json" with { type: "json" };
import { createDevelopmentVerifier, type KeyVerifier } from "./src/auth/verifier.ts";
import { createKeyListVerifier } from "./src/keys/verify.ts";
import { type KeyStore, openKeyStore } from "./src/keys/store.ts";
import { openUsageRecorder, type UsageRecorder } from "./src/usage/store.ts";
import { openResponsesStore } from "./src/usage/responses_store.ts";
import type { ResponsesStore } from "./src/dialects/responses/store.ts";
import { createMemoryLimiter, type RateLimiter } from "./src/limits/mod.ts";
import type { RedisLink } from "./src/redis/link.ts";
import { type BudgetLedger, createMemoryLedger, type RecordedSpend } from "./src/spend/ledger.ts";
import type { MicroUsd } from "./src/spend/pricing.ts";
import type { GatewayDatabase } from "./src/db/gateway_database.ts";
import { redactDatabaseUrl } from "./src/db/url.ts";
import { parseKeyFile } from "./src/keys/key_file.ts";
import { compileKeyIndex } from "./src/keys/verify.ts";
import { readSpend } from "./src/usage/spend.ts";
import { createSqliteUsageReader, type UsageReader } from "./src/usage/reader.ts";
import { fileKeyList, type KeyListAccess } from "./src/keys/key_list_access.ts";
import { helpText, parseCli } from "./src/cli.ts";
import {
  type Config,
  ConfigError,
  isLoopbackHost,
  parseConfig,
  parseDefaultBudget,
  VARIABLE_NAMES,
} from "./src/config.ts";
import type { Budget } from "./src/spend/budget.ts";
import type { CliIo } from "./src/cli/io.ts";
import { runKeysCommand } from "./src/cli/keys/mod.ts";
import { runUsageCommand } from "./src/cli/usage.ts";
import { runDbCommand } from "./src/cli/db.ts";
import {
  createLogger,
  createStdioSink,
  describeError,
  type Logger,
  printText,
  writeText,
} from "./src/log.ts";
import { createHandler } from "./src/server.ts";
import { serveAdminPage } from "./src/admin/page.ts";
import { createMetrics } from "./src/observe/metrics.ts";
import { createTracing } from "./src/observe/tracing.ts";
import { createRandomIds } from "./src/random_id.ts";
import { createHttp1Fetch, usesProxyEnvironment } from "./src/http/h1_client.ts";
import { reloadFiles, type WatchedFile } from "./src/files/watched.ts";
import { describeListenFailure } from "./src/listen.ts";
import { openRoutingFile } from "./src/routing/load.ts";
import type { Routing } from "./src/routing/table.ts";
import type { PackagePricing } from "./src/spend/create_pricing.ts";
import { createLazyPricing } from "./src/spend/lazy_pricing.ts";

const VERSION: string = denoJson.version;

function now(): number {
  return performance.timeOrigin + performance.now();
}

const randomId = createRandomIds((bytes) => crypto.getRandomValues(bytes));

async function resolveDns(host: string): Promise<string[]> {
  const lookups = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  return lookups.flatMap((lookup) => lookup.status === "fulfilled" ? lookup.value : []);
}

/**
 * Where budget counters start: the usage database's record of a key's spend in the period. A
 * database that cannot be read, or records no costs yet, counts as nothing spent (logged once).
 */
function recordedSpend(
  read: (
    keyIds: readonly string[],
    since: number,
  ) => MicroUsd | undefined | Promise<MicroUsd | undefined>,
  where: string,
  log: Logger,
): RecordedSpend {
  let warned = false;
  const warnOnce = (message: string, fields: Record<string, unknown> = {}) => {
    if (warned) return;
    warned = true;
    log.warn(message, fields);
  };
  const failed = (error: unknown) => {
    warnOnce("cannot read spend from the usage database: budgets start from $0", {
      db: where,
      ...describeError(error),
    });
    return 0;
  };
  return async (keyIds, since) => {
    try {
      const spent = await read(keyIds, since);
      if (spent !== undefined) return spent;
      warnOnce("the usage database records no costs (no cost_usd): budgets start from $0");
      return 0;
    } catch (error) {
      return failed(error);
    }
  };
}

function readEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(VARIABLE_NAMES.map((name) => [name, Deno.env.get(name)]));
}

function warnAboutDevelopmentMode(config: Config, log: Logger): void {
  if (isLoopbackHost(config.host)) {
    log.warn(
      "development mode: any API key is accepted; set CHOREOAI_KEYS_FILE (or CHOREOAI_DATABASE_URL) " +
        "to require real keys",
    );
    return;
  }
  log.warn(
    `DEVELOPMENT MODE ON A NON-LOOPBACK ADDRESS (${config.host}): ANY API KEY IS ACCEPTED, ` +
      "so anyone who can reach this port spends your provider keys. " +
      "Set CHOREOAI_KEYS_FILE, or listen on 127.0.0.1.",
  );
}

async function serve(log: Logger): Promise<number> {
  let config: Config;
  try {
    config = parseConfig(readEnvironment());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printText(error.message, "stderr");
    return 1;
  }
  let verifier: KeyVerifier;
  let store: KeyStore | undefined;
  // With CHOREOAI_DATABASE_URL, usage, stored Responses and spend (and, without a key file, the
  // key list) live in PostgreSQL; the client is loaded only then.
  let database: GatewayDatabase | undefined;
  // Usage records dropped (the queue of unwritten ones full) are counted once metrics exist.
  let countDropped = (_count: number) => {};
  if (config.databaseUrl !== undefined) {
    const { openGatewayDatabase } = await import("./src/db/gateway_database.ts");
    try {
      database = await openGatewayDatabase(config.databaseUrl, {
        log,
        now,
        responsesTtlMs: config.responsesTtlMs,
        onDropped: (count) => countDropped(count),
        compileKeys: config.keysFile === undefined
          ? (text) => compileKeyIndex(parseKeyFile(text))
          : undefined,
      });
    } catch (error) {
      printText(error instanceof Error ? error.message : String(error), "stderr");
      return 1;
    }
  }
  if (database?.keys !== undefined) {
    const keys = database.keys;
    store = keys;
    keys.watch();
    verifier = createKeyListVerifier(() => keys.current());
    log.info("key list loaded", { source: "database", keys: keys.current().size });
  } else if (config.keysFile === undefined) {
    verifier = createDevelopmentVerifier();
    warnAboutDevelopmentMode(config, log);
  } else {
    try {
      store = await openKeyStore(config.keysFile, log);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      printText(
        `Cannot load the key list CHOREOAI_KEYS_FILE=${config.keysFile}: ${reason}`,
        "stderr",
      );
      await database?.close();
      return 1;
    }
    const keys = store;
    keys.watch();
    verifier = createKeyListVerifier(() => keys.current());
    log.info("key list loaded", { file: config.keysFile, keys: keys.current().size });
  }
  let routing: WatchedFile<Routing> | undefined;
  if (config.routingFile !== undefined) {
    try {
      // The keys the file names are read from the environment as it is now, once.
      routing = await openRoutingFile(config.routingFile, config, Deno.env.toObject(), log);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      printText(
        `Cannot load the routing file CHOREOAI_CONFIG=${config.routingFile}: ${reason}`,
        "stderr",
      );
      await database?.close();
      return 1;
    }
    const file = routing;
    file.watch();
    log.info("routing file loaded", {
      file: config.routingFile,
      models: file.current().models.size,
      providers: [...file.current().providers.keys()],
    });
    for (const warning of file.current().warnings) log.warn(`routing file: ${warning}`);
  }
  // SIGHUP reloads both files at once and logs one line saying what is in force.
  const watched = [store, routing].filter((file) => file !== undefined);
  if (watched.length > 0) Deno.addSignalListener("SIGHUP", () => void reloadFiles(watched, log));
  let usage: UsageRecorder;
  let responses: ResponsesStore;
  let recorded: RecordedSpend;
  // The admin API reads and changes the key list in force, and reads the usage recorded.
  let keyList: KeyListAccess | undefined = database?.keyList;
  if (keyList === undefined && config.keysFile !== undefined) {
    keyList = fileKeyList(config.keysFile);
  }
  let usageReader: UsageReader;
  if (database !== undefined) {
    ({ usage, responses } = database);
    usageReader = database.reader;
    recorded = recordedSpend(database.spend, redactDatabaseUrl(config.databaseUrl ?? ""), log);
  } else {
    try {
      usage = openUsageRecorder(config.dbPath, { log, onDropped: (count) => countDropped(count) });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      printText(
        `Cannot open the usage database CHOREOAI_DB=${config.dbPath}: ${reason}`,
        "stderr",
      );
      return 1;
    }
    // Stored Responses live in the same database, on a connection of their own.
    try {
      responses = openResponsesStore(config.dbPath, { ttlMs: config.responsesTtlMs, now });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      printText(
        `Cannot open the usage database CHOREOAI_DB=${config.dbPath}: ${reason}`,
        "stderr",
      );
      await usage.close();
      return 1;
    }
    const dbPath = config.dbPath;
    recorded = recordedSpend((keyIds, since) => readSpend(dbPath, keyIds, since), dbPath, log);
    usageReader = createSqliteUsageReader(dbPath);
  }

  /** Writes the usage records still queued, then closes the usage store(s). Idempotent. */
  const closeStores = async () => {
    await usage.close();
    await responses.close();
    await database?.close();
  };

  const memoryLimiter = createMemoryLimiter({ now });
  const memoryLedger = createMemoryLedger({ recorded, now });
  // The Redis client is loaded only by a gateway that uses it (memory and start-up time). Rate
  // limits and budgets share one connection.
  let link: RedisLink | undefined;
  let limiter: RateLimiter = memoryLimiter;
  let ledger: BudgetLedger = memoryLedger;
  if (config.redisUrl !== undefined) {
    const [{ createRedisLink }, { createRedisLimiter }, { createRedisLedger }] = await Promise
      .all([
        import("./src/redis/link.ts"),
        import("./src/limits/redis.ts"),
        import("./src/spend/redis_ledger.ts"),
      ]);
    link = createRedisLink({ url: config.redisUrl, now, log, serves: "rate limits and budgets" });
    limiter = createRedisLimiter({ link, now, log, fallback: memoryLimiter });
    ledger = createRedisLedger({ link, fallback: memoryLedger, recorded });
    // Shared limits and budgets from the first request on, when Redis can be reached in time;
    // otherwise the gateway starts counting per replica (health "degraded") and joins once
    // Redis answers.
    const shared = link;
    for (let waited = 0; waited < 3_000 && shared.status() !== "ok"; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (shared.status() !== "ok") {
      log.warn("Redis not reachable yet: limiting and budgeting per replica");
    }
  }

  // Providers are called through the gateway's own HTTP/1.1 client unless told otherwise or a
  // proxy is configured (which only Deno's fetch honours); anything it does not handle goes to
  // fetch.
  const upstream = config.upstreamClient === "http1" && !usesProxyEnvironment(Deno.env.toObject())
    ? createHttp1Fetch({ fallback: globalThis.fetch, now: () => performance.now() })
    : undefined;
  const metrics = config.metrics
    ? createMetrics({ version: VERSION, processMetrics: true })
    : undefined;
  if (metrics !== undefined) {
    store?.onReload((ok) => metrics.reloaded("keys", ok));
    routing?.onReload((ok) => metrics.reloaded("routing", ok));
    if (database !== undefined) metrics.watchDatabase(database);
    countDropped = (count) => metrics.usageDropped(count);
  }
  // With OTEL_DENO=true Deno exports spans; @opentelemetry/api is loaded only then. Deno's fetch
  // writes the `traceparent` of its own span into provider requests; the gateway's client needs
  // it written.
  const tracing = config.tracing
    ? createTracing(await import("@opentelemetry/api"), {
      version: VERSION,
      propagate: upstream !== undefined,
    })
    : undefined;
  // Prices: the routing file's, else those @pydantic/genai-prices ships; fresher data is fetched
  // only when the operator asks (in the background: neither start nor requests wait for it).
  // The package's data is loaded by the first request that may be priced (start-up and memory).
  const pricing = createLazyPricing(async () =>
    (await import("./src/spend/create_pricing.ts")).createPricing({ now })
  );
  if (config.pricesUpdate) {
    void (pricing.prepare() ?? Promise.resolve()).then(async () => {
      const { startPriceUpdates } = await import("./src/spend/price_updates.ts");
      await startPriceUpdates({
        fetch: globalThis.fetch,
        now,
        log,
        onUpdated: () => (pricing.current() as PackagePricing | undefined)?.clearCache(),
      });
    });
  }
  const shutdown = new AbortController();
  const handler = createHandler({
    config,
    verifier,
    fetch: upstream ?? globalThis.fetch,
    now,
    randomId,
    log,
    shutdownSignal: shutdown.signal,
    usage,
    limiter,
    ledger,
    responses,
    resolveDns,
    adminPage: serveAdminPage,
    ...(metrics === undefined ? {} : { metrics }),
    ...(tracing === undefined ? {} : { tracing }),
    ...(routing === undefined ? {} : { routing: routing.current }),
    random: Math.random,
    pricing,
    ...(database === undefined ? {} : { databaseDegraded: database.degraded }),
    ...(keyList === undefined ? {} : { keyList }),
    ...(store === undefined ? {} : { keyStore: store }),
    usageReader,
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
  });
  // Signals are handled before the listening line is printed, so no signal falls in a gap.
  let stopping = false;
  const stop = (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal, drain_ms: config.drainMs });
    const drain = setTimeout(() => {
      log.warn("drain period over: ending the requests still in flight");
      shutdown.abort(new Error("server shutdown"));
      // Streams end with an error event as soon as they are aborted, and then the server
      // finishes; this is the last resort if a connection still hangs on.
      setTimeout(() => {
        closeStores().finally(() => {
          stdio.flush();
          Deno.exit(0);
        });
      }, 2_000);
    }, config.drainMs);
    server.shutdown().finally(() => clearTimeout(drain));
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen(addr) {
        const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
        log.info("listening", { url: `http://${host}:${addr.port}`, version: VERSION });
      },
    }, handler);
  } catch (error) {
    printText(describeListenFailure(error, config), "stderr");
    await closeStores();
    await limiter.close();
    await link?.close();
    await upstream?.close();
    return 1;
  }

  await server.finished;
  // Access-log and usage callbacks run as the last responses complete: let them, then flush.
  await new Promise((resolve) => setTimeout(resolve, 0));
  await closeStores();
  await limiter.close();
  await ledger.close();
  await link?.close();
  await upstream?.close();
  store?.[Symbol.dispose]();
  routing?.[Symbol.dispose]();
  log.info("stopped");
  return 0;
}

/** The default budget for `keys list`; a bad one is shown, and left out. */
function readDefaultBudget(): Budget | undefined {
  try {
    return parseDefaultBudget({
      CHOREOAI_DEFAULT_BUDGET_USD: Deno.env.get("CHOREOAI_DEFAULT_BUDGET_USD"),
      CHOREOAI_DEFAULT_BUDGET_PERIOD: Deno.env.get("CHOREOAI_DEFAULT_BUDGET_PERIOD"),
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeText(`warning: the default budget is ignored here. ${error.message}\n`, "stderr");
    return undefined;
  }
}

/** What a CLI subcommand may touch: the settings it reads, the clock, randomness, the streams. */
function createCliIo(): CliIo {
  return {
    keysFile: Deno.env.get("CHOREOAI_KEYS_FILE"),
    dbPath: Deno.env.get("CHOREOAI_DB") ?? "./choreoai.db",
    databaseUrl: Deno.env.get("CHOREOAI_DATABASE_URL") || undefined,
    defaultBudget: readDefaultBudget(),
    now: Date.now,
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
    readStdin: () => new Response(Deno.stdin.readable).text(),
    stdout: (text) => writeText(text, "stdout"),
    stderr: (text) => writeText(text, "stderr"),
  };
}

async function main(args: readonly string[]): Promise<number> {
  const log = createLogger(stdio.sink, now);
  const command = parseCli(args);
  switch (command.kind) {
    case "help":
      printText(helpText(VERSION));
      return 0;
    case "version":
      printText(`choreoai ${VERSION}`);
      return 0;
    case "usage_error":
      printText(`choreoai: ${command.message}\nRun choreoai --help for usage.`, "stderr");
      return 2;
    case "keys":
      return await runKeysCommand(command.args, createCliIo());
    case "usage":
      return await runUsageCommand(command.args, createCliIo());
    case "db":
      return await runDbCommand(command.args, createCliIo());
    case "serve":
      try {
        return await serve(log);
      } catch (error) {
        log.error("failed to start", describeError(error));
        return 1;
      }
  }
}

/** Log lines are batched; everything that leaves the process flushes them first. */
const stdio = createStdioSink();

if (import.meta.main) {
  const code = await main(Deno.args);
  stdio.flush();
  Deno.exit(code);
}
