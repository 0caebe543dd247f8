// deno-lint-ignore-file no-console -- a benchmark CLI: it reports on the console
/**
 * CPU per request of the bare proxy forwarding with Deno's fetch vs `src/http/h1_client.ts`.
 *
 *     deno run --allow-all bench/h1_compare.ts [--rounds 3] [--duration 5] [--stream]
 *
 * The fake upstream (nginx + echo module, else bench/fake_upstream.ts) and wrk run on core 0,
 * both proxies (`bare_proxy.ts --client fetch|h1`) on core 1, started once and warmed up. Each
 * round measures both, in alternating order: wrk -t1 -c32 POST (the non-stream chat body, or the
 * stream one with `--stream`), CPU µs per request of the proxy from /proc/<pid>/stat. Prints each
 * cell and the medians.
 */
import { requestBody, UPSTREAM_MODEL } from "./fixtures.ts";
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
    const proxy = group.spawn(`proxy-${client}`, "deno", [
      "run",
      "--allow-net",
      `${bench}bare_proxy.ts`,
      "--port",
      String(port),
      "--upstream",
      `http://127.0.0.1:${upstreamPort}`,
      "--client",
      client,
    ], { cpu: 1 });
    await waitForHttp(`http://127.0.0.1:${port}/health`, proxy);
    proxies.set(client, { port, pids: await processTree(proxy.pid) });
  }
  const scriptPath = `${dir}/post.lua`;
  await Deno.writeTextFile(scriptPath, wrkScript(requestBody(UPSTREAM_MODEL, stream), "sk-bench"));
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
