/**
 * Tests of the benchmark's pure parts (no processes started): `deno test bench/`.
 */
import { strict as assert } from "node:assert";
import { completionJson, requestBody, streamEvents } from "./fixtures.ts";
import type { RoundRecord } from "./measure.ts";
import { proxyConfig, upstreamConfig } from "./nginx.ts";
import { parseArgs } from "./options.ts";
import { loadBoundNotes, markdownTable } from "./report.ts";
import { median, quantile, summarize } from "./stats.ts";
import type { TargetName } from "./targets.ts";
import { parseRequestsPerSecond, parseWrkOutput, wrkScript } from "./wrk.ts";

const WRK_OUTPUT = `Running 5s test @ http://127.0.0.1:8000/v1/chat/completions
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  300.00us   9.00ms   90.00%
  Latency Distribution
     50%    1.10ms
     99%    2.50ms
  10000 requests in 5.00s, 6.00MB read
Requests/sec:   2000.00
Transfer/sec:      1.20MB
BENCH_RESULT {"requests":10000,"duration_us":5000000,"p50_us":1100,"p90_us":1500,"p99_us":2500,"max_us":9000,"status":3,"connect":0,"read":1,"write":0,"timeout":2}
`;

Deno.test("parseWrkOutput reads the done() line", () => {
  const result = parseWrkOutput(WRK_OUTPUT);
  assert.equal(result.requests, 10_000);
  assert.equal(result.rps, 2_000);
  assert.equal(result.p50Ms, 1.1);
  assert.equal(result.p99Ms, 2.5);
  assert.equal(result.non2xx, 3);
  assert.equal(result.socketErrors, 3);
  assert.equal(parseRequestsPerSecond(WRK_OUTPUT), 2_000);
  assert.throws(() => parseWrkOutput("Requests/sec: 1\n"), /BENCH_RESULT/);
});

Deno.test("wrkScript embeds the body as a Lua string", () => {
  const script = wrkScript('{"a":"b\\"c"}', "sk-x");
  assert.match(script, /wrk\.body = "\{\\"a\\":\\"b\\\\\\"c\\"\}"/);
  assert.match(script, /"Bearer sk-x"/);
});

Deno.test("quantile and summarize", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(summarize([null, 4, 2, undefined, 6]), {
    median: 4,
    min: 2,
    max: 6,
    q1: 3,
    q3: 5,
    n: 3,
  });
  assert.equal(summarize([null]), undefined);
});

Deno.test("parseArgs: defaults, quick, errors", () => {
  const defaults = parseArgs([]);
  assert.ok(defaults.kind === "run");
  assert.equal(defaults.options.rounds, 5);
  assert.equal(defaults.options.durationS, 5);
  const quick = parseArgs(["--quick"]);
  assert.ok(quick.kind === "run");
  assert.equal(quick.options.rounds, 1);
  assert.equal(quick.options.durationS, 1);
  const custom = parseArgs(["--rounds", "7", "--duration", "3", "--connections", "1,64"]);
  assert.ok(custom.kind === "run");
  assert.equal(custom.options.rounds, 7);
  assert.deepEqual(custom.options.connections, [1, 64]);
  assert.equal(parseArgs(["--rounds", "0"]).kind, "error");
  assert.equal(parseArgs(["--what"]).kind, "error");
  assert.equal(parseArgs(["--help"]).kind, "help");
});

Deno.test("fixtures: stream has ~20 chunk events, [DONE] last; bodies are compact JSON", () => {
  const events = streamEvents();
  assert.ok(events.length >= 20 && events.length <= 30);
  assert.equal(events.at(-1), "data: [DONE]\n\n");
  for (const event of events.slice(0, -1)) JSON.parse(event.slice("data: ".length));
  assert.equal(JSON.parse(completionJson()).object, "chat.completion");
  assert.match(requestBody("m", true), /"stream":true/);
  assert.doesNotMatch(requestBody("m", false), /"stream"/);
});

Deno.test("nginx configs name their ports and prefix", () => {
  const proxy = proxyConfig("/tmp/x", 8001, 8002);
  assert.match(proxy, /listen 127\.0\.0\.1:8001/);
  assert.match(proxy, /server 127\.0\.0\.1:8002/);
  assert.match(proxy, /proxy_buffering off/);
  const upstream = upstreamConfig("/tmp/x", 8003, "/m.so", 5);
  assert.match(upstream, /load_module \/m\.so;/);
  assert.match(upstream, /echo_sleep 0\.005;/);
});

function record(target: TargetName, rps: number, p50Ms: number): RoundRecord {
  const cell = {
    requests: rps,
    durationS: 1,
    rps,
    p50Ms,
    p90Ms: p50Ms,
    p99Ms: p50Ms * 2,
    maxMs: p50Ms * 3,
    non2xx: 0,
    socketErrors: 0,
    windowS: 1,
    proxyCpuUsPerRequest: target === "direct" ? null : 100,
    upstreamCpuUsPerRequest: 10,
    wrkCpuUsPerRequest: 10,
    proxyCpuPercent: target === "direct" ? null : (target === "nginx" ? 50 : 100),
    upstreamCpuPercent: 20,
    wrkCpuPercent: 20,
    proxyCoreBusyPercent: 100,
    loadCoreBusyPercent: target === "nginx" ? 100 : 40,
    proxyCoreOtherPercent: 0,
    loadCoreOtherPercent: 0,
  };
  return {
    round: 0,
    target,
    position: 0,
    cells: { "1": { ...cell, connections: 1 }, "32": { ...cell, connections: 32 } },
    stream: {
      requests: 10,
      failures: 0,
      ttfbP50Ms: p50Ms,
      ttfbP99Ms: p50Ms,
      totalP50Ms: p50Ms,
      totalP99Ms: p50Ms,
      proxyCpuUsPerRequest: target === "direct" ? null : 1000,
    },
    proxyPeakRssKib: target === "direct" ? null : 2048,
    peakRssReset: true,
  };
}

Deno.test("markdownTable: ratios and added latency within a round", () => {
  const records = [
    record("direct", 1000, 1),
    record("nginx", 500, 1.5),
    record("bare", 250, 2),
    record("choreoai", 100, 3),
    record("choreoai-keys", 90, 3.25),
    record("choreoai-echo", 200, 2.5),
  ];
  const table = markdownTable(records, [1, 32]);
  const row = (label: string) => table.split("\n").find((l) => l.startsWith(`| ${label} |`));
  assert.equal(
    row("req/s @32 ÷ direct"),
    "| req/s @32 ÷ direct | 1.00× | 0.50× | 0.25× | 0.10× | 0.09× | 0.20× |",
  );
  assert.equal(
    row("req/s @32 ÷ bare"),
    "| req/s @32 ÷ bare | 4.00× | 2.00× | 1.00× | 0.40× | 0.36× | 0.80× |",
  );
  assert.equal(
    row("added p50 ms @1 (vs direct)"),
    "| added p50 ms @1 (vs direct) | +0.00 | +0.50 | +1.00 | +2.00 | +2.25 | +1.50 |",
  );
  assert.equal(
    row("req/s @32 ÷ choreoai"),
    "| req/s @32 ÷ choreoai | 10.00× | 5.00× | 2.50× | 1.00× | 0.90× | 2.00× |",
  );
  assert.equal(
    row("proxy peak RSS MiB"),
    "| proxy peak RSS MiB | — | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 |",
  );
  const notes = loadBoundNotes(records);
  assert.equal(notes.length, 2);
  assert.match(notes[0] ?? "", /^nginx @1: load core saturated/);
});
