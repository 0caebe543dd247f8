/**
 * Starting the benchmark's servers: the fake upstream (load core), the proxies of the selected
 * targets (proxy core) and, for `choreoai-redis`, a redis-server (load core), each on a port the
 * OS picked, each waited for with a bounded poll.
 */
import { digestKey, generateKey, keyHint } from "../src/keys/generate.ts";
import { CLIENT_KEY, ECHO_MODEL, requestBody, UPSTREAM_MODEL } from "./fixtures.ts";
import { findEchoModule, proxyConfig, upstreamConfig } from "./nginx.ts";
import type { BenchOptions } from "./options.ts";
import { freePort, type Managed, type ProcessGroup, sleep, waitForHttp } from "./processes.ts";
import { type RedisServer, scriptCalls, startRedis } from "./redis.ts";

/** The columns of the report, in display order. */
export const TARGET_NAMES = [
  "direct",
  "nginx",
  "bare",
  "choreoai",
  "choreoai-keys",
  "choreoai-limited",
  "choreoai-redis",
  "choreoai-prod",
  "choreoai-prod-nometrics",
  "choreoai-echo",
] as const;

/** One column of the report. */
export type TargetName = typeof TARGET_NAMES[number];

/**
 * The production target the performance figures are computed for: production mode with the
 * 10,000-key list (as `choreoai-keys`), the never-reached in-process limits (as
 * `choreoai-limited`), usage recording into a SQLite file and the access log on.
 */
export const PROD_TARGET = "choreoai-prod" satisfies TargetName;

/**
 * {@linkcode PROD_TARGET}'s command and environment plus `CHOREOAI_METRICS=false`: the same
 * gateway without Prometheus metrics, the base of the metrics' measured cost (wrk cells only).
 * `choreoai-prod` itself keeps the default, metrics on.
 */
export const PROD_NOMETRICS_TARGET = "choreoai-prod-nometrics" satisfies TargetName;

/** The targets that also get the concurrent-stream cells (128 at a time, 512 at once). */
export const CONCURRENT_TARGETS: readonly TargetName[] = [
  "direct",
  "nginx",
  "bare",
  "choreoai",
  PROD_TARGET,
];

/** Whether `name` is one of {@linkcode TARGET_NAMES}. */
export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

/**
 * The per-key limits of `choreoai-limited` and `choreoai-redis`: so high that they are never
 * reached, so every request goes through the limiter (the request and its token reservation
 * taken in one check once parsed, the reconciliation at the end) and none is refused.
 */
export const NEVER_REACHED_RPM = 1_000_000_000;
export const NEVER_REACHED_TPM = 1_000_000_000_000;

/** Something wrk and the stream client send requests to. */
export interface Target {
  readonly name: TargetName;
  /** The chat completions URL. */
  readonly url: string;
  readonly model: string;
  /** The Bearer key clients send. */
  readonly key: string;
  /** The proxy process whose CPU and memory are measured; none for `direct`. */
  readonly proxy: Managed | undefined;
  /** The redis-server the proxy keeps its limits in (load core); only `choreoai-redis`. */
  readonly redis: RedisServer | undefined;
}

/** A gateway process, for scanning its log after the run. */
export interface GatewayLog {
  /** The target it serves (`choreoai` also serves `choreoai-echo`). */
  readonly name: TargetName;
  readonly stderrPath: string;
}

/** Starts another production gateway, the same command and settings as {@linkcode PROD_TARGET}. */
export interface ProdLauncher {
  /** Spawns it (pinned to the proxy core) listening on `port`; `/health` tells when it is up. */
  spawn(name: string, port: number): Managed;
}

/** All servers of a run. */
export interface Fleet {
  readonly upstream: Managed;
  readonly upstreamKind: "nginx" | "deno";
  /** The selected targets, in {@linkcode TARGET_NAMES} order. */
  readonly targets: readonly Target[];
  /** Every gateway process started, with its stderr (warnings and errors). */
  readonly gateways: readonly GatewayLog[];
  /** The redis-server, when `choreoai-redis` is selected. */
  readonly redis: RedisServer | undefined;
  /** Starts more {@linkcode PROD_TARGET} gateways (start-up timing), when it is selected. */
  readonly prod: ProdLauncher | undefined;
}

/** Where the runner finds things. */
export interface Paths {
  /** The project root (main.ts). */
  readonly root: string;
  /** The bench/ directory. */
  readonly bench: string;
  /** A fresh temporary directory for configs, logs and pid files. */
  readonly tmp: string;
  /** The nginx executable. */
  readonly nginx: string;
  /** The redis-server executable; needed only for `choreoai-redis`. */
  readonly redisServer: string | undefined;
}

/** The two cores: proxies on one, wrk + upstream + stream client + redis-server on the other. */
export interface Cores {
  readonly proxy: number;
  readonly load: number;
}

const CHAT_PATH = "/v1/chat/completions";
const PROVIDER_VARIABLE = /^(CHOREOAI_|OPENAI_|ANTHROPIC_|AZURE_OPENAI_|GEMINI_)/;

async function startNginx(
  group: ProcessGroup,
  name: string,
  dir: string,
  config: string,
  nginx: string,
  cpu: number,
): Promise<Managed> {
  await Deno.mkdir(dir, { recursive: true });
  const configPath = `${dir}/nginx.conf`;
  await Deno.writeTextFile(configPath, config);
  return group.spawn(name, nginx, [
    "-e",
    `${dir}/error.log`,
    "-p",
    dir,
    "-c",
    configPath,
    "-g",
    "daemon off;",
  ], { cpu });
}

/** Whether this nginx accepts the echo-module upstream configuration. */
async function nginxCanEcho(paths: Paths, echoModule: string): Promise<boolean> {
  const dir = `${paths.tmp}/echo-check`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/nginx.conf`, upstreamConfig(dir, 1, echoModule, 0));
  const output = await new Deno.Command(paths.nginx, {
    args: ["-t", "-q", "-e", `${dir}/error.log`, "-p", dir, "-c", `${dir}/nginx.conf`],
    stdout: "null",
    stderr: "null",
  }).output();
  return output.success;
}

async function startUpstream(
  group: ProcessGroup,
  paths: Paths,
  cores: Cores,
  options: BenchOptions,
): Promise<{ process: Managed; kind: "nginx" | "deno"; port: number }> {
  const port = freePort();
  const echoModule = options.upstream === "deno" ? undefined : findEchoModule();
  const useNginx = echoModule !== undefined && await nginxCanEcho(paths, echoModule);
  if (options.upstream === "nginx" && !useNginx) {
    throw new Error(
      "--upstream nginx needs nginx's echo module: apt-get install libnginx-mod-http-echo",
    );
  }
  let process: Managed;
  if (useNginx && echoModule !== undefined) {
    const dir = `${paths.tmp}/upstream`;
    const config = upstreamConfig(dir, port, echoModule, options.streamDelayMs);
    process = await startNginx(group, "upstream", dir, config, paths.nginx, cores.load);
  } else {
    process = group.spawn("upstream", Deno.execPath(), [
      "run",
      "--allow-net",
      `${paths.bench}/fake_upstream.ts`,
      "--port",
      String(port),
      "--delay-ms",
      String(options.streamDelayMs),
    ], { cpu: cores.load });
  }
  await waitForHttp(`http://127.0.0.1:${port}/health`, process, 30_000);
  return { process, kind: useNginx ? "nginx" : "deno", port };
}

/** The gateway's environment: the runner's, minus any provider or gateway setting, plus ours. */
function gatewayEnv(port: number, upstreamPort: number, tmp: string): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) => !PROVIDER_VARIABLE.test(name)),
  );
  return {
    ...env,
    CHOREOAI_HOST: "127.0.0.1",
    CHOREOAI_PORT: String(port),
    CHOREOAI_DB: `${tmp}/choreoai.db`,
    CHOREOAI_DRAIN_MS: "1000",
    OPENAI_API_KEY: "sk-bench",
    OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
  };
}

/** How many keys the keys-on gateway's list holds; the client uses one of them. */
export const KEY_LIST_SIZE = 10_000;

/**
 * Writes a key list of {@linkcode KEY_LIST_SIZE} generated client keys and one admin key (which
 * may read `/metrics`); returns the client's key and the admin's.
 */
async function writeKeyList(path: string): Promise<{ client: string; admin: string }> {
  const keys: Record<string, unknown>[] = [];
  let clientKey = "";
  for (let i = 0; i < KEY_LIST_SIZE; i++) {
    const key = generateKey(crypto.getRandomValues(new Uint8Array(24)));
    if (i === KEY_LIST_SIZE / 2) clientKey = key;
    keys.push({
      id: `key_bench${String(i).padStart(6, "0")}`,
      name: `bench ${i}`,
      digest: digestKey(key),
      hint: keyHint(key),
      created_at: "2026-01-01T00:00:00Z",
    });
  }
  const admin = generateKey(crypto.getRandomValues(new Uint8Array(24)));
  keys.push({
    id: "key_benchadmin",
    name: "bench admin",
    role: "admin",
    digest: digestKey(admin),
    hint: keyHint(admin),
    created_at: "2026-01-01T00:00:00Z",
  });
  await Deno.writeTextFile(path, JSON.stringify({ version: 1, keys }), { mode: 0o600 });
  return { client: clientKey, admin };
}

/** Starts a gateway (`main.ts`) pinned to the proxy core with `env`. */
function spawnGateway(
  group: ProcessGroup,
  name: string,
  paths: Paths,
  cores: Cores,
  env: Record<string, string>,
): Managed {
  return group.spawn(name, Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    `${paths.root}/main.ts`,
  ], { cpu: cores.proxy, cwd: paths.root, env });
}

/** Polls the gateway's /health until it says "ok" (Redis connected), for at most `timeoutMs`. */
async function waitForHealthy(url: string, process: Managed, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline && !process.exited()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      last = await response.text();
      if (response.ok && (JSON.parse(last) as { status?: unknown }).status === "ok") return;
    } catch (error) {
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`${process.name} did not report a healthy Redis within ${timeoutMs} ms: ${last}`);
}

/**
 * Sends one request to a limited target and checks that the limiter answered it: the
 * `x-ratelimit-limit-*` headers carry the never-reached limits, and on Redis the server's
 * script calls grew (the in-process fallback did not answer instead).
 */
async function checkLimited(target: Target): Promise<void> {
  const callsBefore = target.redis === undefined ? 0 : await scriptCalls(target.redis.port);
  const response = await fetch(target.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${target.key}` },
    body: requestBody(target.model, false),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  const rpm = response.headers.get("x-ratelimit-limit-requests");
  const tpm = response.headers.get("x-ratelimit-limit-tokens");
  if (!response.ok || rpm !== String(NEVER_REACHED_RPM) || tpm !== String(NEVER_REACHED_TPM)) {
    throw new Error(
      `${target.name} does not limit: HTTP ${response.status}, ` +
        `x-ratelimit-limit-requests ${rpm}, x-ratelimit-limit-tokens ${tpm}`,
    );
  }
  if (target.redis !== undefined) {
    const calls = await scriptCalls(target.redis.port) - callsBefore;
    if (calls === 0) throw new Error(`${target.name}: the request made no Redis script call`);
  }
}

/**
 * Checks that a production gateway keeps metrics (`on`) or not: `GET /metrics` with an admin
 * key answers 404 exactly when they are turned off (CHOREOAI_METRICS=false).
 */
async function checkMetrics(target: Target, adminKey: string, on: boolean): Promise<void> {
  const response = await fetch(new URL("/metrics", target.url), {
    headers: { authorization: `Bearer ${adminKey}` },
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (response.status !== (on ? 200 : 404)) {
    throw new Error(
      `${target.name}: GET /metrics answered HTTP ${response.status}: metrics are ` +
        `${on ? "off, expected on" : "on, expected off"}`,
    );
  }
}

/**
 * Starts the upstream and the processes the selected `names` need, and waits for each: nginx,
 * the bare proxy, the gateways (`choreoai` also serves `choreoai-echo`) and, for
 * `choreoai-redis`, a redis-server on the load core.
 */
export async function startFleet(
  group: ProcessGroup,
  paths: Paths,
  cores: Cores,
  options: BenchOptions,
  names: readonly TargetName[],
): Promise<Fleet> {
  const selected = (name: TargetName) => names.includes(name);
  const upstream = await startUpstream(group, paths, cores, options);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const targets: Target[] = [];
  const gateways: GatewayLog[] = [];
  const waits: (() => Promise<void>)[] = [];
  const add = (name: TargetName, port: number, proxy: Managed, extra: Partial<Target> = {}) => {
    targets.push({
      name,
      url: url(port) + CHAT_PATH,
      model: UPSTREAM_MODEL,
      key: CLIENT_KEY,
      proxy,
      redis: undefined,
      ...extra,
    });
  };

  if (selected("direct")) {
    targets.push({
      name: "direct",
      url: upstreamUrl + CHAT_PATH,
      model: UPSTREAM_MODEL,
      key: CLIENT_KEY,
      proxy: undefined,
      redis: undefined,
    });
  }

  if (selected("nginx")) {
    const port = freePort();
    const dir = `${paths.tmp}/nginx`;
    const config = proxyConfig(dir, port, upstream.port);
    const nginx = await startNginx(group, "nginx", dir, config, paths.nginx, cores.proxy);
    waits.push(() => waitForHttp(`${url(port)}/health`, nginx));
    add("nginx", port, nginx);
  }

  if (selected("bare")) {
    const port = freePort();
    const bare = group.spawn("bare", Deno.execPath(), [
      "run",
      "--allow-net",
      `${paths.bench}/bare_proxy.ts`,
      "--port",
      String(port),
      "--upstream",
      upstreamUrl,
    ], { cpu: cores.proxy });
    waits.push(() => waitForHttp(`${url(port)}/health`, bare, 30_000));
    add("bare", port, bare);
  }

  // The first start may install the gateway's npm packages into Deno's cache: 120 s each.
  let gatewayPort: number | undefined;
  let gateway: Managed | undefined;
  if (selected("choreoai") || selected("choreoai-echo")) {
    const port = freePort();
    gateway = spawnGateway(
      group,
      "choreoai",
      paths,
      cores,
      gatewayEnv(port, upstream.port, paths.tmp),
    );
    gatewayPort = port;
    const started = gateway;
    waits.push(() => waitForHttp(`${url(port)}/health`, started, 120_000));
    gateways.push({ name: "choreoai", stderrPath: gateway.stderrPath });
    if (selected("choreoai")) add("choreoai", port, gateway);
  }

  // One 10,000-key list for choreoai-keys and choreoai-prod.
  const keysFile = `${paths.tmp}/keys.json`;
  const { client: benchKey, admin: adminKey } =
    selected("choreoai-keys") || selected(PROD_TARGET) || selected(PROD_NOMETRICS_TARGET)
      ? await writeKeyList(keysFile)
      : { client: "", admin: "" };
  if (selected("choreoai-keys")) {
    const port = freePort();
    await Deno.mkdir(`${paths.tmp}/keys-db`, { recursive: true });
    const keysGateway = spawnGateway(group, "choreoai-keys", paths, cores, {
      ...gatewayEnv(port, upstream.port, `${paths.tmp}/keys-db`),
      CHOREOAI_KEYS_FILE: keysFile,
      CHOREOAI_ENV: "production",
    });
    waits.push(() => waitForHttp(`${url(port)}/health`, keysGateway, 120_000));
    gateways.push({ name: "choreoai-keys", stderrPath: keysGateway.stderrPath });
    add("choreoai-keys", port, keysGateway, { key: benchKey });
  }

  const limits = {
    CHOREOAI_DEFAULT_RPM: String(NEVER_REACHED_RPM),
    CHOREOAI_DEFAULT_TPM: String(NEVER_REACHED_TPM),
  };
  if (selected("choreoai-limited")) {
    const port = freePort();
    const dir = `${paths.tmp}/limited-db`;
    await Deno.mkdir(dir, { recursive: true });
    const limited = spawnGateway(group, "choreoai-limited", paths, cores, {
      ...gatewayEnv(port, upstream.port, dir),
      ...limits,
    });
    waits.push(() => waitForHttp(`${url(port)}/health`, limited, 120_000));
    gateways.push({ name: "choreoai-limited", stderrPath: limited.stderrPath });
    add("choreoai-limited", port, limited);
  }

  // choreoai-prod and choreoai-prod-nometrics: one environment, apart from CHOREOAI_METRICS
  // (gatewayEnv drops any CHOREOAI_ variable of the runner's, so choreoai-prod has the default:
  // metrics on); each has its own SQLite file.
  const prodEnv = (port: number, db: string) => ({
    ...gatewayEnv(port, upstream.port, db),
    ...limits,
    CHOREOAI_KEYS_FILE: keysFile,
    CHOREOAI_ENV: "production",
  });
  let prod: ProdLauncher | undefined;
  if (selected(PROD_TARGET)) {
    const dir = `${paths.tmp}/prod-db`;
    await Deno.mkdir(dir, { recursive: true });
    const port = freePort();
    const prodGateway = spawnGateway(group, PROD_TARGET, paths, cores, prodEnv(port, dir));
    waits.push(() => waitForHttp(`${url(port)}/health`, prodGateway, 120_000));
    gateways.push({ name: PROD_TARGET, stderrPath: prodGateway.stderrPath });
    add(PROD_TARGET, port, prodGateway, { key: benchKey });
    const startupDir = `${paths.tmp}/startup-db`;
    await Deno.mkdir(startupDir, { recursive: true });
    prod = {
      spawn: (name, port) => spawnGateway(group, name, paths, cores, prodEnv(port, startupDir)),
    };
  }
  if (selected(PROD_NOMETRICS_TARGET)) {
    const dir = `${paths.tmp}/prod-nometrics-db`;
    await Deno.mkdir(dir, { recursive: true });
    const port = freePort();
    const noMetrics = spawnGateway(group, PROD_NOMETRICS_TARGET, paths, cores, {
      ...prodEnv(port, dir),
      CHOREOAI_METRICS: "false",
    });
    waits.push(() => waitForHttp(`${url(port)}/health`, noMetrics, 120_000));
    gateways.push({ name: PROD_NOMETRICS_TARGET, stderrPath: noMetrics.stderrPath });
    add(PROD_NOMETRICS_TARGET, port, noMetrics, { key: benchKey });
  }

  let redis: RedisServer | undefined;
  if (selected("choreoai-redis")) {
    if (paths.redisServer === undefined) throw new Error("choreoai-redis needs redis-server");
    redis = await startRedis(group, paths.redisServer, `${paths.tmp}/redis`, cores.load);
    const port = freePort();
    const dir = `${paths.tmp}/redis-db`;
    await Deno.mkdir(dir, { recursive: true });
    const redisGateway = spawnGateway(group, "choreoai-redis", paths, cores, {
      ...gatewayEnv(port, upstream.port, dir),
      ...limits,
      CHOREOAI_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    });
    waits.push(async () => {
      await waitForHttp(`${url(port)}/health`, redisGateway, 120_000);
      await waitForHealthy(`${url(port)}/health`, redisGateway, 15_000);
    });
    gateways.push({ name: "choreoai-redis", stderrPath: redisGateway.stderrPath });
    add("choreoai-redis", port, redisGateway, { redis });
  }

  if (selected("choreoai-echo") && gateway !== undefined && gatewayPort !== undefined) {
    add("choreoai-echo", gatewayPort, gateway, { model: ECHO_MODEL });
  }

  for (const wait of waits) await wait();
  for (const target of targets) {
    if (
      target.name === "choreoai-limited" || target.name === "choreoai-redis" ||
      target.name === PROD_TARGET || target.name === PROD_NOMETRICS_TARGET
    ) {
      await checkLimited(target);
    }
    if (target.name === PROD_TARGET || target.name === PROD_NOMETRICS_TARGET) {
      await checkMetrics(target, adminKey, target.name === PROD_TARGET);
    }
  }
  targets.sort((a, b) => TARGET_NAMES.indexOf(a.name) - TARGET_NAMES.indexOf(b.name));
  return {
    upstream: upstream.process,
    upstreamKind: upstream.kind,
    targets,
    gateways,
    redis,
    prod,
  };
}
