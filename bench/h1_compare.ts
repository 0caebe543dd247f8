// deno-lint-ignore-file no-console -- a benchmark CLI: it reports on the console
/**
 * CPU per request of the bare proxy forwarding with Deno's fetch vs `src/http/h1_client.ts`.
 *
 *     deno run --allow-all bench/h1_compare.ts [--rounds 3] [--duration 5] [--stream] [--gateway]
 *
 * `--gateway` compares the gateway (main.ts, routing gpt-4o-mini to the fake upstream) with
 * its global fetch, and with the HTTP/1.1 client put in its place by `bench/h1_preload.ts`.
 *
 * The fake upstream (nginx + echo module, else bench/fake_upstream.ts) and wrk run on core 0,
 * both proxies (`bare_proxy.ts --client fetch|h1`) on core 1, started once and warmed up. Each
 * round measures both, in alternating order: wrk -t1 -c32 POST (the non-stream chat body, or the
 * stream one with `--stream`), CPU µs per request of the proxy from /proc/<pid>/stat. Prints each
 * cell and the medians. Every measured cell follows 1 s of unmeasured load on the same proxy: a
 * process back from idle (the other one was measured) runs its first second slower.
 */
import { CLIENT_KEY, requestBody, UPSTREAM_MODEL } from "./fixtures.ts";
import { findEchoModule, upstreamConfig } from "./nginx.ts";
import { clockTicksPerSecond, cpuSecondsBetween, cpuTicks, processTree } from "./proc.ts";
import { freePort, ProcessGroup, sleep, waitForHttp } from "./processes.ts";
import { runWrk, wrkScript } from "./wrk.ts";

function option(name: string, fallback: number): number {
  const index = Deno.args.indexOf(name);
  return index < 0 ? fallback : Number(Deno.args[index + 1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid] as number
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const rounds = option("--rounds", 3);
const durationS = option("--duration", 5);
const stream = Deno.args.includes("--stream");
const gateway = Deno.args.includes("--gateway");
const dir = await Deno.makeTempDir({ prefix: "h1_compare_" });
const group = new ProcessGroup(dir);
const bench = new URL(".", import.meta.url).pathname;
try {
  const upstreamPort = freePort();
  const echo = findEchoModule();
  let upstream;
  if (echo !== undefined) {
    await Deno.writeTextFile(`${dir}/nginx.conf`, upstreamConfig(dir, upstreamPort, echo, 0));
    upstream = group.spawn("nginx", "nginx", [
      "-p",
      dir,
      "-c",
      `${dir}/nginx.conf`,
      "-g",
      "daemon off;",
    ], {
      cpu: 0,
    });
  } else {
    upstream = group.spawn("upstream", "deno", [
      "run",
      "--allow-net",
      `${bench}fake_upstream.ts`,
      "--port",
      String(upstreamPort),
    ], { cpu: 0 });
  }
  await waitForHttp(`http://127.0.0.1:${upstreamPort}/health`, upstream);
  const proxies = new Map<string, { port: number; pids: number[] }>();
  for (const client of ["fetch", "h1"]) {
    const port = freePort();
    const bareArgs = [
      "run",
      "--allow-net",
      `${bench}bare_proxy.ts`,
      "--port",
      String(port),
      "--upstream",
      `http://127.0.0.1:${upstreamPort}`,
      "--client",
      client,
    ];
    const preload = client === "h1" ? ["--preload", `${bench}h1_preload.ts`] : [];
    const gatewayArgs = [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      ...preload,
      `${bench}../main.ts`,
    ];
    const env = {
      ...Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([name]) =>
          !/^(CHOREOAI_|OPENAI_|ANTHROPIC_|AZURE_OPENAI_|GEMINI_)/.test(name)
        ),
      ),
      CHOREOAI_DRAIN_MS: "1000",
      CHOREOAI_HOST: "127.0.0.1",
      CHOREOAI_PORT: String(port),
      CHOREOAI_DB: `${dir}/${client}.db`,
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
    };
    const proxy = gateway
      ? group.spawn(`gateway-${client}`, "deno", gatewayArgs, { cpu: 1, env, cwd: `${bench}..` })
      : group.spawn(`proxy-${client}`, "deno", bareArgs, { cpu: 1 });
    await waitForHttp(`http://127.0.0.1:${port}/health`, proxy);
    proxies.set(client, { port, pids: await processTree(proxy.pid) });
  }
  const scriptPath = `${dir}/post.lua`;
  await Deno.writeTextFile(scriptPath, wrkScript(requestBody(UPSTREAM_MODEL, stream), CLIENT_KEY));
  const ticks = await clockTicksPerSecond();
  const cell = async (client: string, seconds: number) => {
    const { port, pids } = proxies.get(client) as { port: number; pids: number[] };
    const before = await cpuTicks(pids);
    const result = await runWrk({
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      scriptPath,
      connections: 32,
      durationS: seconds,
      cpu: 0,
    });
    const cpu = cpuSecondsBetween(before, await cpuTicks(pids), ticks);
    if (result.non2xx > 0 || result.socketErrors > 0) {
      throw new Error(`${client}: ${result.non2xx} non-2xx, ${result.socketErrors} socket errors`);
    }
    return { usPerRequest: (cpu * 1e6) / result.requests, rps: result.rps };
  };
  for (const client of proxies.keys()) await cell(client, 2); // warm up
  const results = new Map<string, { us: number[]; rps: number[] }>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["fetch", "h1"] : ["h1", "fetch"];
    for (const client of order) {
      await cell(client, 1); // back from idle: warm up again, unmeasured
      const { usPerRequest, rps } = await cell(client, durationS);
      const entry = results.get(client) ?? { us: [], rps: [] };
      entry.us.push(usPerRequest);
      entry.rps.push(rps);
      results.set(client, entry);
      console.log(
        `round ${round + 1} ${client.padEnd(5)} ${usPerRequest.toFixed(1)} µs/req ` +
          `${rps.toFixed(0)} req/s`,
      );
      await sleep(200);
    }
  }
  for (const [client, { us, rps }] of results) {
    console.log(
      `median ${client.padEnd(5)} ${median(us).toFixed(1)} µs/req ${median(rps).toFixed(0)} req/s`,
    );
  }
  const fetchUs = median(results.get("fetch")?.us ?? []);
  const h1Us = median(results.get("h1")?.us ?? []);
  console.log(`h1 / fetch CPU per request: ${(h1Us / fetchUs).toFixed(3)}`);
} finally {
  await group.stopAll();
  await Deno.remove(dir, { recursive: true });
}
