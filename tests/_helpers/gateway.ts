/**
 * Starts the real gateway handler on 127.0.0.1, port 0, for end-to-end tests, with a config built
 * from an explicit environment object (never the test process's own).
 */
import OpenAI from "openai";
import { createDevelopmentVerifier, type KeyVerifier } from "../../src/auth/verifier.ts";
import { parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { type AppDeps, createHandler } from "../../src/server.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { openResponsesStore } from "../../src/usage/responses_store.ts";

/** A running gateway. */
export interface TestGateway extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Parsed JSON log lines written so far. */
  readonly logs: Record<string, unknown>[];
  /** Aborts in-flight upstream work, as the end of a shutdown drain does. */
  readonly shutdown: AbortController;
}

/** Options of {@linkcode startGateway}. */
export interface GatewayOptions {
  readonly env?: Record<string, string>;
  readonly verifier?: KeyVerifier;
  readonly usage?: AppDeps["usage"];
  readonly limiter?: AppDeps["limiter"];
  /** Budget counters; default: in process, starting from nothing spent. */
  readonly ledger?: AppDeps["ledger"];
  /** A routing file's content (as JSON would hold it); its keys are read from `env`. */
  readonly routingFile?: unknown;
  /** The routing table, when the test reloads it itself. */
  readonly routing?: AppDeps["routing"];
  /** The random source of weighted choices and jitter. */
  readonly random?: () => number;
  /** Name resolution for image fetching (`CHOREOAI_FETCH_IMAGE_URLS=true`); unset: no fetching. */
  readonly resolveDns?: AppDeps["resolveDns"];
  /** Silence before a `ping` in translated Messages streams. */
  readonly pingIntervalMs?: number;
  /**
   * Stored Responses: a store the test opened (and closes), or `false` for none. Default: a
   * store in an in-memory SQLite database, closed with the gateway.
   */
  readonly responses?: AppDeps["responses"] | false;
  /** Prometheus metrics the gateway keeps and serves at `/metrics`; none by default. */
  readonly metrics?: AppDeps["metrics"];
  /** Prices of requests (`createPricing`); none by default: costs are not computed. */
  readonly pricing?: AppDeps["pricing"];
  /** The key list the admin API reads and changes. */
  readonly keyList?: AppDeps["keyList"];
  /** The key list in force, reloaded after the admin API's changes. */
  readonly keyStore?: AppDeps["keyStore"];
  /** Recorded usage, for the admin API. */
  readonly usageReader?: AppDeps["usageReader"];
  /** The provider health tracker; default: the gateway's own. */
  readonly providerHealth?: AppDeps["providerHealth"];
  /** Serves the admin page. */
  readonly adminPage?: AppDeps["adminPage"];
  /** The clock; default: the real one. */
  readonly now?: () => number;
}

/** Starts a gateway. */
export function startGateway(options: GatewayOptions = {}): TestGateway {
  const config = parseConfig({ CHOREOAI_PORT: "0", ...options.env });
  const routing = options.routing ??
    (options.routingFile === undefined ? undefined : (() => {
      const table = buildRouting(
        config,
        parseRoutingFile(JSON.stringify(options.routingFile)),
        options.env ?? {},
      );
      return () => table;
    })());
  const logs: Record<string, unknown>[] = [];
  const shutdown = new AbortController();
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const ownStore = options.responses === undefined
    ? openResponsesStore(":memory:", { ttlMs: config.responsesTtlMs, now })
    : undefined;
  const responses = options.responses === false ? undefined : options.responses ?? ownStore;
  const handler = createHandler({
    config,
    verifier: options.verifier ?? createDevelopmentVerifier(),
    fetch: globalThis.fetch,
    now,
    randomId: () => crypto.randomUUID().replaceAll("-", ""),
    log: createLogger((line) => logs.push(JSON.parse(line)), now),
    shutdownSignal: shutdown.signal,
    ...(options.usage === undefined ? {} : { usage: options.usage }),
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    ...(options.ledger === undefined ? {} : { ledger: options.ledger }),
    ...(routing === undefined ? {} : { routing }),
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.resolveDns === undefined ? {} : { resolveDns: options.resolveDns }),
    ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
    ...(responses === undefined ? {} : { responses }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.pricing === undefined ? {} : { pricing: options.pricing }),
    ...(options.keyList === undefined ? {} : { keyList: options.keyList }),
    ...(options.keyStore === undefined ? {} : { keyStore: options.keyStore }),
    ...(options.usageReader === undefined ? {} : { usageReader: options.usageReader }),
    ...(options.providerHealth === undefined ? {} : { providerHealth: options.providerHealth }),
    ...(options.adminPage === undefined ? {} : { adminPage: options.adminPage }),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    logs,
    shutdown,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await ownStore?.close();
    },
  };
}

/** The key every test client sends; it must never reach an upstream. */
export const CLIENT_KEY = "sk-client-key-abcdef0123456789";

/** The official OpenAI client pointed at a gateway, without retries. */
export function openaiClient(gateway: TestGateway, apiKey = CLIENT_KEY): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `check()` is true, polling, for at most `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(5);
  }
}
