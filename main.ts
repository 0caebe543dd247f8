/**
 * ChoreoAI's composition root: the only place that reads the environment, the clock and the
 * global fetch. env → parseConfig → dependencies → createHandler → Deno.serve.
 */
import denoJson from "./deno.json" with { type: "json" };
import { createDevelopmentVerifier } from "./src/auth/verifier.ts";
import { helpText, parseCli } from "./src/cli.ts";
import {
  type Config,
  ConfigError,
  isLoopbackHost,
  parseConfig,
  VARIABLE_NAMES,
} from "./src/config.ts";
import type { CliIo } from "./src/cli/io.ts";
import { runKeysCommand } from "./src/cli/keys.ts";
import { runUsageCommand } from "./src/cli/usage.ts";
import {
  consoleSink,
  createLogger,
  describeError,
  type Logger,
  printText,
  writeText,
} from "./src/log.ts";
import { createHandler } from "./src/server.ts";

const VERSION: string = denoJson.version;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function randomId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

function readEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(VARIABLE_NAMES.map((name) => [name, Deno.env.get(name)]));
}

function warnAboutDevelopmentMode(config: Config, log: Logger): void {
  if (isLoopbackHost(config.host)) {
    log.warn(
      "development mode: any API key is accepted; set CHOREOAI_KEYS_FILE to require real keys",
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
  if (config.keysFile !== undefined) {
    printText(
      "CHOREOAI_KEYS_FILE is set, but this version cannot read key lists yet: " +
        "refusing to start rather than accept any key",
      "stderr",
    );
    return 1;
  }
  warnAboutDevelopmentMode(config, log);

  const shutdown = new AbortController();
  const handler = createHandler({
    config,
    verifier: createDevelopmentVerifier(),
    fetch: globalThis.fetch,
    now,
    randomId,
    log,
    shutdownSignal: shutdown.signal,
  });
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen(addr) {
      const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
      log.info("listening", { url: `http://${host}:${addr.port}`, version: VERSION });
    },
  }, handler);

  let stopping = false;
  const stop = (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal, drain_ms: config.drainMs });
    const drain = setTimeout(() => {
      log.warn("drain period over: ending the requests still in flight");
      shutdown.abort(new Error("server shutdown"));
      // Streams end with an error event as soon as they are aborted; give them a moment to flush.
      setTimeout(() => Deno.exit(0), 1_000);
    }, config.drainMs);
    server.shutdown().finally(() => clearTimeout(drain));
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  await server.finished;
  log.info("stopped");
  return 0;
}

/** What a CLI subcommand may touch: the settings it reads, the clock, randomness, the streams. */
function createCliIo(): CliIo {
  return {
    keysFile: Deno.env.get("CHOREOAI_KEYS_FILE"),
    dbPath: Deno.env.get("CHOREOAI_DB") ?? "./choreoai.db",
    now: Date.now,
    randomBytes: (length) => crypto.getRandomValues(new Uint8Array(length)),
    readStdin: () => new Response(Deno.stdin.readable).text(),
    stdout: (text) => writeText(text, "stdout"),
    stderr: (text) => writeText(text, "stderr"),
  };
}

async function main(args: readonly string[]): Promise<number> {
  const log = createLogger(consoleSink, now);
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
    case "serve":
      try {
        return await serve(log);
      } catch (error) {
        log.error("failed to start", describeError(error));
        return 1;
      }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
