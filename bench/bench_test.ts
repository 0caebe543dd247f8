/**
 * Tests of the benchmark's pure parts (no processes started): `deno test bench/`.
 */
import { strict as assert } from "node:assert";
import { completionJson, requestBody, streamEvents } from "./fixtures.ts";
import type { RoundRecord } from "./measure.ts";
import { proxyConfig, upstreamConfig } from "./nginx.ts";
import { parseArgs } from "./options.ts";
import { encodeCommand, parseReply, scriptCallsFromInfo } from "./redis.ts";
import { loadBoundNotes, markdownTable } from "./report.ts";
import { median, quantile, summarize } from "./stats.ts";
import { TARGET_NAMES, type TargetName } from "./targets.ts";
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

Deno.test("parseArgs: --targets selects a subset in report order; unknown names are errors", () => {
  const defaults = parseArgs(["--quick"]);
  assert.ok(defaults.kind === "run");
  assert.deepEqual(defaults.options.targets, TARGET_NAMES);
  const some = parseArgs(["--targets", "choreoai-redis,direct, choreoai,direct", "--quick"]);
  assert.ok(some.kind === "run");
  assert.deepEqual(some.options.targets, ["direct", "choreoai", "choreoai-redis"]);
  assert.equal(some.options.rounds, 1);
  const unknown = parseArgs(["--targets", "direct,choreoai-fast"]);
  assert.ok(unknown.kind === "error");
  assert.match(unknown.message, /unknown target choreoai-fast/);
  assert.equal(parseArgs(["--targets", ""]).kind, "error");
  assert.equal(parseArgs(["--targets", "direct,"]).kind, "error");
  assert.equal(parseArgs(["--targets"]).kind, "error");
});

Deno.test("redis: RESP commands and replies, script calls from INFO commandstats", () => {
  assert.equal(
    new TextDecoder().decode(encodeCommand(["INFO", "commandstats"])),
    "*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n",
  );
  const bytes = (text: string) => new TextEncoder().encode(text);
  assert.equal(parseReply(bytes("+PONG\r\n")), "PONG");
  assert.equal(parseReply(bytes(":42\r\n")), "42");
  assert.equal(parseReply(bytes("+PON")), undefined);
  assert.equal(parseReply(bytes("$5\r\nab")), undefined);
  assert.equal(parseReply(bytes("$5\r\nab\r\nc\r\n")), "ab\r\nc");
  assert.equal(parseReply(bytes("$-1\r\n")), "");
  assert.throws(() => parseReply(bytes("-ERR unknown\r\n")), /ERR unknown/);
  const info = "# Commandstats\r\n" +
    "cmdstat_evalsha:calls=300,usec=900,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n" +
    "cmdstat_eval:calls=1,usec=5,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n" +
    "cmdstat_info:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n";
  assert.equal(scriptCallsFromInfo(info), 301);
  assert.equal(scriptCallsFromInfo("# Commandstats\r\n"), 0);
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
    redisCpuUsPerRequest: target === "choreoai-redis" ? 30 : null,
    redisCallsPerRequest: target === "choreoai-redis" ? 3 : null,
    proxyCpuPercent: target === "direct" ? null : (target === "nginx" ? 50 : 100),
    upstreamCpuPercent: 20,
    wrkCpuPercent: 20,
    redisCpuPercent: target === "choreoai-redis" ? 15 : null,
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

const row = (table: string, label: string) =>
  table.split("\n").find((l) => l.startsWith(`| ${label} |`));

Deno.test("markdownTable: ratios and added latency within a round", () => {
  const records = [
    record("direct", 1000, 1),
    record("nginx", 500, 1.5),
    record("bare", 250, 2),
    record("choreoai", 100, 3),
    record("choreoai-keys", 90, 3.25),
    record("choreoai-limited", 95, 3.125),
    record("choreoai-redis", 80, 3.5),
    record("choreoai-echo", 200, 2.5),
  ];
  const table = markdownTable(records, [1, 32]);
  assert.equal(
    table.split("\n")[0],
    "| metric | direct | nginx | bare | choreoai | choreoai-keys | choreoai-limited | " +
      "choreoai-redis | choreoai-echo |",
  );
  assert.equal(
    row(table, "req/s @32 ÷ direct"),
    "| req/s @32 ÷ direct | 1.00× | 0.50× | 0.25× | 0.10× | 0.09× | 0.10× | 0.08× | 0.20× |",
  );
  assert.equal(
    row(table, "req/s @32 ÷ bare"),
    "| req/s @32 ÷ bare | 4.00× | 2.00× | 1.00× | 0.40× | 0.36× | 0.38× | 0.32× | 0.80× |",
  );
  assert.equal(
    row(table, "added p50 ms @1 (vs direct)"),
    "| added p50 ms @1 (vs direct) | +0.00 | +0.50 | +1.00 | +2.00 | +2.25 | +2.13 | +2.50 | " +
      "+1.50 |",
  );
  assert.equal(
    row(table, "req/s @32 ÷ choreoai"),
    "| req/s @32 ÷ choreoai | 10.00× | 5.00× | 2.50× | 1.00× | 0.90× | 0.95× | 0.80× | 2.00× |",
  );
  assert.equal(
    row(table, "added p50 ms @1 (vs choreoai)"),
    "| added p50 ms @1 (vs choreoai) | -2.00 | -1.50 | -1.00 | +0.00 | +0.25 | +0.13 | +0.50 | " +
      "-0.50 |",
  );
  assert.equal(
    row(table, "proxy peak RSS MiB"),
    "| proxy peak RSS MiB | — | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 |",
  );
  assert.equal(
    row(table, "redis-server CPU µs/req @32"),
    "| redis-server CPU µs/req @32 | — | — | — | — | — | — | 30 | — |",
  );
  assert.equal(
    row(table, "Redis script calls/req @32"),
    "| Redis script calls/req @32 | — | — | — | — | — | — | 3.00 | — |",
  );
  // wrk 10 + upstream 10 µs/req, plus redis-server's 30 on choreoai-redis.
  assert.equal(
    row(table, "load-core capacity req/s @32"),
    "| load-core capacity req/s @32 | 50,000 | 50,000 | 50,000 | 50,000 | 50,000 | 50,000 | " +
      "20,000 | 50,000 |",
  );
  const notes = loadBoundNotes(records);
  assert.equal(notes.length, 2);
  assert.match(notes[0] ?? "", /^nginx @1: load core saturated/);
});

Deno.test("markdownTable: columns follow the selection; rows of unselected bases are left out", () => {
  const records = [
    record("direct", 1000, 1),
    record("choreoai", 100, 3),
    record("choreoai-limited", 98, 3.0625),
  ];
  const table = markdownTable(records, [1, 32], ["direct", "choreoai", "choreoai-limited"]);
  const lines = table.split("\n");
  assert.equal(lines[0], "| metric | direct | choreoai | choreoai-limited |");
  assert.equal(lines[1], "|---|---:|---:|---:|");
  assert.equal(row(table, "req/s @32"), "| req/s @32 | 1,000 | 100 | 98 |");
  assert.equal(
    row(table, "req/s @32 ÷ choreoai"),
    "| req/s @32 ÷ choreoai | 10.00× | 1.00× | 0.98× |",
  );
  assert.equal(
    row(table, "added p50 ms @1 (vs choreoai)"),
    "| added p50 ms @1 (vs choreoai) | -2.00 | +0.00 | +0.06 |",
  );
  assert.ok(row(table, "req/s @32 ÷ direct") !== undefined);
  assert.equal(row(table, "req/s @32 ÷ nginx"), undefined);
  assert.equal(row(table, "req/s @32 ÷ bare"), undefined);
  assert.equal(row(table, "redis-server CPU µs/req @32"), undefined);
  assert.equal(row(table, "Redis script calls/req @32"), undefined);

  // Without direct and choreoai, their ratio and "added" rows go too; the default columns are
  // the targets that have records.
  const limitedOnly = markdownTable([record("bare", 250, 2), record("choreoai-redis", 80, 3.5)], [
    1,
    32,
  ]);
  assert.equal(limitedOnly.split("\n")[0], "| metric | bare | choreoai-redis |");
  assert.equal(row(limitedOnly, "req/s @32 ÷ bare"), "| req/s @32 ÷ bare | 1.00× | 0.32× |");
  for (
    const label of ["req/s @32 ÷ direct", "req/s @32 ÷ choreoai", "added p50 ms @1 (vs direct)"]
  ) {
    assert.equal(row(limitedOnly, label), undefined, label);
  }
  assert.equal(row(limitedOnly, "added p50 ms @1 (vs choreoai)"), undefined);
  assert.equal(row(limitedOnly, "added stream TTFB p50 ms (vs direct)"), undefined);
  assert.equal(
    row(limitedOnly, "Redis script calls/req @32"),
    "| Redis script calls/req @32 | — | 3.00 |",
  );
});
