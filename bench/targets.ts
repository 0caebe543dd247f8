/**
 * Starting the benchmark's servers: the fake upstream (load core) and the three proxies
 * (proxy core), each on a port the OS picked, each waited for with a bounded poll.
 */
import { digestKey, generateKey, keyHint } from "../src/keys/generate.ts";
import { CLIENT_KEY, ECHO_MODEL, UPSTREAM_MODEL } from "./fixtures.ts";
import { findEchoModule, proxyConfig, upstreamConfig } from "./nginx.ts";
import type { BenchOptions } from "./options.ts";
import { freePort, type Managed, type ProcessGroup, waitForHttp } from "./processes.ts";

/** The rows of the report, in display order. */
export const TARGET_NAMES = [
  "direct",
  "nginx",
  "bare",
  "choreoai",
  "choreoai-keys",
  "choreoai-echo",
] as const;

/** One row of the report. */
export type TargetName = typeof TARGET_NAMES[number];

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
}

/** All servers of a run. */
export interface Fleet {
  readonly upstream: Managed;
  readonly upstreamKind: "nginx" | "deno";
  readonly targets: readonly Target[];
  /** The gateway's stderr (warnings and errors), to scan after the run. */
  readonly gatewayStderr: string;
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
}

/** The two cores: proxies on one, wrk + upstream + stream client on the other. */
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

/** Writes a key list of {@linkcode KEY_LIST_SIZE} generated keys; returns the client's key. */
async function writeKeyList(path: string): Promise<string> {
  const keys = [];
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
  await Deno.writeTextFile(path, JSON.stringify({ version: 1, keys }), { mode: 0o600 });
  return clientKey;
}

/** Starts the upstream, nginx, the bare proxy and the gateway, and waits for each. */
export async function startFleet(
  group: ProcessGroup,
  paths: Paths,
  cores: Cores,
  options: BenchOptions,
): Promise<Fleet> {
  const upstream = await startUpstream(group, paths, cores, options);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;

  const nginxPort = freePort();
  const nginxDir = `${paths.tmp}/nginx`;
  const nginx = await startNginx(
    group,
    "nginx",
    nginxDir,
    proxyConfig(nginxDir, nginxPort, upstream.port),
    paths.nginx,
    cores.proxy,
  );

  const barePort = freePort();
  const bare = group.spawn("bare", Deno.execPath(), [
    "run",
    "--allow-net",
    `${paths.bench}/bare_proxy.ts`,
    "--port",
    String(barePort),
    "--upstream",
    upstreamUrl,
  ], { cpu: cores.proxy });

  const gatewayPort = freePort();
  const gateway = group.spawn("choreoai", Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    `${paths.root}/main.ts`,
  ], { cpu: cores.proxy, cwd: paths.root, env: gatewayEnv(gatewayPort, upstream.port, paths.tmp) });

  const keysPort = freePort();
  const keysFile = `${paths.tmp}/keys.json`;
  const benchKey = await writeKeyList(keysFile);
  const keysGateway = group.spawn("choreoai-keys", Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    `${paths.root}/main.ts`,
  ], {
    cpu: cores.proxy,
    cwd: paths.root,
    env: {
      ...gatewayEnv(keysPort, upstream.port, `${paths.tmp}/keys-db`),
      CHOREOAI_KEYS_FILE: keysFile,
      CHOREOAI_ENV: "production",
    },
  });
  await Deno.mkdir(`${paths.tmp}/keys-db`, { recursive: true });

  const url = (port: number) => `http://127.0.0.1:${port}`;
  await waitForHttp(`${url(nginxPort)}/health`, nginx);
  await waitForHttp(`${url(barePort)}/health`, bare, 30_000);
  // The first start may install the gateway's npm packages into Deno's cache.
  await waitForHttp(`${url(gatewayPort)}/health`, gateway, 120_000);
  await waitForHttp(`${url(keysPort)}/health`, keysGateway, 120_000);

  return {
    upstream: upstream.process,
    upstreamKind: upstream.kind,
    gatewayStderr: gateway.stderrPath,
    targets: [
      {
        name: "direct",
        url: upstreamUrl + CHAT_PATH,
        model: UPSTREAM_MODEL,
        key: CLIENT_KEY,
        proxy: undefined,
      },
      {
        name: "nginx",
        url: url(nginxPort) + CHAT_PATH,
        model: UPSTREAM_MODEL,
        key: CLIENT_KEY,
        proxy: nginx,
      },
      {
        name: "bare",
        url: url(barePort) + CHAT_PATH,
        model: UPSTREAM_MODEL,
        key: CLIENT_KEY,
        proxy: bare,
      },
      {
        name: "choreoai",
        url: url(gatewayPort) + CHAT_PATH,
        model: UPSTREAM_MODEL,
        key: CLIENT_KEY,
        proxy: gateway,
      },
      {
        name: "choreoai-keys",
        url: url(keysPort) + CHAT_PATH,
        model: UPSTREAM_MODEL,
        key: benchKey,
        proxy: keysGateway,
      },
      {
        name: "choreoai-echo",
        url: url(gatewayPort) + CHAT_PATH,
        model: ECHO_MODEL,
        key: CLIENT_KEY,
        proxy: gateway,
      },
    ],
  };
}
