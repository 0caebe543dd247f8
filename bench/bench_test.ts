/**
 * Tests of the benchmark's pure parts (no processes started): `deno test bench/`.
 */
import { strict as assert } from "node:assert";
import {
  classifyStream,
  endsWithDone,
  parseConcurrentResult,
  SseCounter,
  type StreamOutcome,
  summarizeOutcomes,
} from "./concurrent_client.ts";
import {
  FIGURE_TARGETS,
  type FigureRow,
  figureRows,
  figuresTable,
  mark,
  meets,
} from "./figures.ts";
import {
  completionJson,
  PACED_CONTENT_EVENTS,
  PACED_MODEL,
  requestBody,
  streamEvents,
} from "./fixtures.ts";
import type { ConcurrentRecord, RoundRecord } from "./measure.ts";
import { proxyConfig, upstreamConfig } from "./nginx.ts";
import { parseArgs } from "./options.ts";
import { encodeCommand, parseReply, scriptCallsFromInfo } from "./redis.ts";
import { loadBoundNotes, markdownTable } from "./report.ts";
import { curveText, sampleIntervalS, soakSummary } from "./soak.ts";
import { median, quantile, summarize } from "./stats.ts";
import {
  CONCURRENT_TARGETS,
  PROD_NOMETRICS_TARGET,
  TARGET_NAMES,
  type TargetName,
} from "./targets.ts";
import { parseRequestsPerSecond, parseWrkOutput, wrkMixedScript, wrkScript } from "./wrk.ts";

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

Deno.test("parseArgs: figure options; --quick sets defaults that explicit options override", async (t) => {
  const cases: [string[], Partial<Record<string, number>>][] = [
    [[], {
      concurrentStreams: 128,
      stallStreams: 512,
      startupRuns: 5,
      soakMinutes: 10,
      rounds: 5,
      roundWarmupS: 0,
    }],
    [["--round-warmup", "1", "--quick"], { roundWarmupS: 1, rounds: 1 }],
    [["--quick"], { concurrentStreams: 128, startupRuns: 3, soakMinutes: 0.5, rounds: 1 }],
    [["--quick", "--soak-minutes", "0"], { soakMinutes: 0, rounds: 1 }],
    [["--rounds", "2", "--quick"], { rounds: 2, durationS: 1 }],
    [["--soak-minutes", "2.5", "--startup-runs", "0"], { soakMinutes: 2.5, startupRuns: 0 }],
    [["--stream-concurrency", "0", "--stall-streams", "64"], {
      concurrentStreams: 0,
      stallStreams: 64,
    }],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" ") || "(none)", () => {
      const parsed = parseArgs(args);
      assert.ok(parsed.kind === "run");
      const options = parsed.options as unknown as Record<string, number>;
      for (const [name, value] of Object.entries(expected)) {
        assert.equal(options[name], value, name);
      }
    });
  }
  for (
    const args of [
      ["--soak-minutes", "-1"],
      ["--soak-minutes", "abc"],
      ["--soak-minutes", "121"],
      ["--soak-minutes"],
      ["--stall-streams", "5000"],
      ["--startup-runs", "1.5"],
      ["--round-warmup", "61"],
      ["--round-warmup", "0.5"],
    ]
  ) {
    await t.step(`error: ${args.join(" ")}`, () => assert.equal(parseArgs(args).kind, "error"));
  }
});

Deno.test("parseArgs: --targets selects a subset in report order; unknown names are errors", () => {
  const defaults = parseArgs(["--quick"]);
  assert.ok(defaults.kind === "run");
  assert.deepEqual(defaults.options.targets, TARGET_NAMES);
  const some = parseArgs(["--targets", "choreoai-redis,direct, choreoai,direct", "--quick"]);
  assert.ok(some.kind === "run");
  assert.deepEqual(some.options.targets, ["direct", "choreoai", "choreoai-redis"]);
  assert.equal(some.options.rounds, 1);
  const metrics = parseArgs(["--targets", "choreoai-prod-nometrics,bare,choreoai-prod"]);
  assert.ok(metrics.kind === "run");
  assert.deepEqual(metrics.options.targets, ["bare", "choreoai-prod", "choreoai-prod-nometrics"]);
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

Deno.test("fixtures: the paced stream has 20 content events, then [DONE]", () => {
  const counter = new SseCounter();
  for (const event of streamEvents(true)) counter.push(event);
  assert.deepEqual(counter.result(), { contentEvents: PACED_CONTENT_EVENTS, done: true });
  const usage = JSON.parse(streamEvents(true).at(-2)?.slice("data: ".length) ?? "");
  assert.equal(usage.usage.completion_tokens, PACED_CONTENT_EVENTS);
  assert.match(requestBody(PACED_MODEL, true), /"model":"gpt-4o-mini-paced"/);
});

Deno.test("nginx configs name their ports and prefix", () => {
  const proxy = proxyConfig("/tmp/x", 8001, 8002);
  assert.match(proxy, /listen 127\.0\.0\.1:8001/);
  assert.match(proxy, /server 127\.0\.0\.1:8002/);
  assert.match(proxy, /proxy_buffering off/);
  const upstream = upstreamConfig("/tmp/x", 8003, "/m.so", 5);
  assert.match(upstream, /load_module \/m\.so;/);
  assert.match(upstream, /echo_sleep 0\.005;/);
  // The paced stream: its own location, picked first for streamed requests of its model, and
  // 5 ms between events even when the regular stream has no delay.
  const fast = upstreamConfig("/tmp/x", 8003, "/m.so", 0);
  const paced = fast.slice(fast.indexOf("location = /sse-paced"));
  const regular = fast.slice(
    fast.indexOf("location = /sse "),
    fast.indexOf("location = /sse-paced"),
  );
  assert.equal(paced.match(/echo_sleep 0\.005;/g)?.length, streamEvents(true).length - 1);
  assert.doesNotMatch(regular, /echo_sleep/);
  const map = fast.slice(fast.indexOf("map "), fast.indexOf("server {"));
  assert.ok(map.indexOf("/sse-paced") < map.indexOf("/sse;"));
  assert.match(map, /\(\?=\.\*\\"gpt-4o-mini-paced\\"\)/);
});

Deno.test("wrkMixedScript sends its bodies in turn", () => {
  const script = wrkMixedScript(['{"a":1}', '{"b":"x\\"y"}'], "sk-y");
  assert.match(script, /local bodies = \{ "\{\\"a\\":1\}", "\{\\"b\\":\\"x\\\\\\"y\\"\}" \}/);
  assert.match(script, /"Bearer sk-y"/);
  assert.match(script, /function request\(\)/);
  assert.match(script, /BENCH_RESULT/);
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
    proxyPeakRssKib: target === "direct" ? null : 1024,
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
    concurrent: null,
    stall: null,
    concurrentPosition: null,
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
    row(table, "proxy peak RSS MiB @32"),
    "| proxy peak RSS MiB @32 | — | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 | 1.0 |",
  );
  assert.equal(row(table, "streams/s @128 conc."), undefined); // not measured: no row
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

const OK: StreamOutcome = {
  status: 200,
  ttfbMs: 1,
  totalMs: 120,
  maxGapMs: 6,
  contentEvents: 20,
  done: true,
};
const CRITERIA = { stallMs: 2_000, boundMs: 10_000, contentEvents: 20 };

Deno.test("classifyStream: completed, stalled, lost", async (t) => {
  const cases: [string, Partial<StreamOutcome>, string, object?][] = [
    ["a whole stream", {}, "completed"],
    ["a 2.5 s gap, then whole", { maxGapMs: 2_500 }, "stalled"],
    ["aborted at its bound", {
      totalMs: 10_001,
      maxGapMs: 9_000,
      done: false,
      error: "TimeoutError: signal timed out",
    }, "stalled"],
    ["slow overall but steady", { totalMs: 10_500, maxGapMs: 50 }, "stalled"],
    ["no [DONE]", { done: false }, "lost"],
    ["19 content events", { contentEvents: 19 }, "lost"],
    ["HTTP 502", { status: 502, ttfbMs: null, contentEvents: null, done: false }, "lost"],
    ["connection reset", { status: 0, done: false, error: "TypeError: reset" }, "lost"],
    ["uncounted content, count not asked", { contentEvents: null }, "completed", {
      stallMs: 2_000,
      boundMs: 10_000,
    }],
    ["uncounted content, count asked", { contentEvents: null }, "lost"],
  ];
  for (const [name, change, verdict, criteria] of cases) {
    await t.step(name, () => {
      assert.equal(
        classifyStream({ ...OK, ...change }, (criteria ?? CRITERIA) as typeof CRITERIA),
        verdict,
      );
    });
  }
});

Deno.test("summarizeOutcomes counts verdicts and times only completed streams", () => {
  const outcomes = [
    OK,
    { ...OK, ttfbMs: 3, totalMs: 130 },
    { ...OK, maxGapMs: 2_100, totalMs: 2_300 },
    { ...OK, done: false },
  ];
  const result = summarizeOutcomes(outcomes, CRITERIA, 4, 500, 4);
  assert.deepEqual(
    { ...result, firstProblem: undefined },
    {
      concurrency: 4,
      started: 4,
      completed: 2,
      stalled: 1,
      lost: 1,
      wallMs: 500,
      streamsPerSecond: 4,
      ttfbMs: [1, 3],
      totalMs: [120, 130],
      maxGapMs: 2_100,
      warmupStreams: 4,
      firstProblem: undefined,
    },
  );
  assert.match(result.firstProblem ?? "", /^stalled: HTTP 200, 20 content events/);
  assert.equal(summarizeOutcomes([], CRITERIA, 1, 0, 0).streamsPerSecond, 0);
});

Deno.test("parseConcurrentResult reads the last line and checks its fields", async (t) => {
  const result = summarizeOutcomes([OK], CRITERIA, 1, 100, 1);
  await t.step("valid", () => {
    assert.deepEqual(parseConcurrentResult(`noise\n${JSON.stringify(result)}\n`), result);
  });
  const bad: [string, string][] = [
    ["empty", ""],
    ["not JSON", "Error: boom"],
    ["a field missing", JSON.stringify({ ...result, completed: undefined })],
    ["a field not a number", JSON.stringify({ ...result, lost: "0" })],
    ["a list of strings", JSON.stringify({ ...result, ttfbMs: ["1"] })],
    ["firstProblem not a string", JSON.stringify({ ...result, firstProblem: 3 })],
  ];
  for (const [name, text] of bad) {
    await t.step(name, () => assert.throws(() => parseConcurrentResult(text)));
  }
});

Deno.test("SseCounter: content events in pieces, [DONE] last", async (t) => {
  const content = (text: string) => `data: {"choices":[{"delta":{"content":"${text}"}}]}\n\n`;
  const role = 'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n';
  const usage = 'data: {"choices":[],"usage":{"total_tokens":3}}\n\n';
  const cases: [string, string[], { contentEvents: number; done: boolean }][] = [
    ["whole events", [role, content("a"), content("b"), usage, "data: [DONE]\n\n"], {
      contentEvents: 2,
      done: true,
    }],
    ["split mid-event and mid-separator", [
      role + content("a").slice(0, 10),
      content("a").slice(10, -1),
      "\n" + content("b") + "data: [DO",
      "NE]\n",
      "\n",
    ], { contentEvents: 2, done: true }],
    ["CRLF separators, no final blank line", [
      'data: {"choices":[{"delta":{"content":"x"}}]}\r\n\r\n',
      "data: [DONE]",
    ], { contentEvents: 1, done: true }],
    ["[DONE] not last", ["data: [DONE]\n\n", content("late")], { contentEvents: 1, done: false }],
    ["no [DONE]", [content("a")], { contentEvents: 1, done: false }],
    ["comments and non-JSON", [": ping\n\n", "data: oops\n\n", "data: [DONE]\n\n"], {
      contentEvents: 0,
      done: true,
    }],
  ];
  for (const [name, pieces, expected] of cases) {
    await t.step(name, () => {
      const counter = new SseCounter();
      for (const piece of pieces) counter.push(piece);
      assert.deepEqual(counter.result(), expected);
    });
  }
  const bytes = (text: string) => new TextEncoder().encode(text);
  assert.ok(endsWithDone(bytes("data: x\n\ndata: [DONE]\n\n")));
  assert.ok(!endsWithDone(bytes("data: [DONE]\n\ndata: x\n\n")));
  assert.ok(!endsWithDone(bytes("DONE]")));
});

/** RSS samples every `every` s up to `duration` s, from `rss(atS)` MiB. */
function samples(duration: number, every: number, rss: (atS: number) => number) {
  const list = [];
  for (let at = every; at < duration + 1e-9; at += every) {
    list.push({ atS: at, rssKib: rss(at) * 1024 });
  }
  return list;
}

Deno.test("soakSummary: growth after the first minute, and the curve", async (t) => {
  await t.step("10 minutes, 10 s samples, 100 → 105 MiB from minute 1", () => {
    const summary = soakSummary(
      samples(600, 10, (at) => at < 60 ? 80 : 100 + (at - 60) / 108),
      600,
    );
    assert.ok(summary !== undefined);
    assert.equal(summary.baselineAtS, 60);
    assert.equal(summary.baselineKib, 100 * 1024);
    assert.equal(summary.finalKib, 105 * 1024);
    assert.equal(summary.growthPercent.toFixed(3), "5.000");
    assert.equal(summary.maxGrowthPercent.toFixed(3), "5.000");
    assert.deepEqual(summary.curve.map((p) => p.atS), [
      60,
      120,
      180,
      240,
      300,
      360,
      420,
      480,
      540,
      600,
    ]);
    assert.match(curveText(summary), /^1:00 100\.0 · 2:00 100\.6 · .* · 10:00 105\.0 MiB$/);
  });
  await t.step("a peak then a fall: final growth below the max", () => {
    const summary = soakSummary(samples(300, 10, (at) => (at === 200 ? 130 : 100)), 300);
    assert.ok(summary !== undefined);
    assert.equal(summary.growthPercent, 0);
    assert.equal(summary.maxGrowthPercent.toFixed(1), "30.0");
  });
  await t.step("a 30 s soak: baseline at 15 s, a point each 5 s", () => {
    const summary = soakSummary(samples(30, sampleIntervalS(30), (at) => 200 - at), 30);
    assert.ok(summary !== undefined);
    assert.equal(sampleIntervalS(30), 2.5);
    assert.equal(summary.baselineAtS, 15);
    assert.equal(summary.growthPercent.toFixed(2), ((100 * (170 - 185)) / 185).toFixed(2));
    assert.deepEqual(summary.curve.map((p) => p.atS), [5, 10, 15, 20, 25, 30]);
  });
  await t.step("no sample", () => assert.equal(soakSummary([], 600), undefined));
  assert.equal(sampleIntervalS(600), 10);
  assert.equal(sampleIntervalS(6), 1);
});

Deno.test("meets and mark", async (t) => {
  const cases: [number, "≥" | "≤", number, boolean][] = [
    [0.85, "≥", 0.85, true],
    [0.84, "≥", 0.85, false],
    [0.3, "≤", 0.3, true],
    [0.31, "≤", 0.3, false],
    [-1, "≤", 0.3, true],
    [Number.NaN, "≤", 0.3, false],
    [Number.POSITIVE_INFINITY, "≥", 0.85, false],
  ];
  for (const [value, op, limit, expected] of cases) {
    await t.step(
      `${value} ${op} ${limit}`,
      () => assert.equal(meets(value, { op, limit }), expected),
    );
  }
  assert.equal(mark(true), "✅");
  assert.equal(mark(false), "❌");
  assert.equal(mark(null), "—");
});

function concurrent(n: number, streamsPerSecond: number, ttfbP50Ms: number): ConcurrentRecord {
  return {
    concurrency: n,
    started: n,
    completed: n,
    stalled: 0,
    lost: 0,
    streamsPerSecond,
    ttfbP50Ms,
    ttfbP99Ms: ttfbP50Ms * 2,
    totalP50Ms: 120,
    totalP99Ms: 150,
    maxGapMs: 40,
    proxyCpuUsPerStream: 500,
    proxyPeakRssKib: 4096,
  };
}

/** A round of direct, bare and choreoai-prod with the figures' inputs. */
function figureRound(round: number, prod: { rps: number; cpu: number; rssMib: number }) {
  const withCells = (r: RoundRecord, rps: number, cpu: number | null, rssMib: number | null) => ({
    ...r,
    round,
    cells: Object.fromEntries(
      [1, 32, 256].map((c) => [String(c), {
        ...(r.cells["32"] as NonNullable<RoundRecord["cells"][string]>),
        connections: c,
        rps,
        p50Ms: r.cells["1"]?.p50Ms ?? 0,
        proxyCpuUsPerRequest: cpu,
        proxyPeakRssKib: rssMib === null ? null : rssMib * 1024,
      }]),
    ),
  });
  const direct = withCells(record("direct", 1000, 0.1), 1000, null, null);
  const bare = withCells(record("bare", 500, 0.2), 500, 100, 100);
  const prodRecord = withCells(
    record("choreoai-prod", prod.rps, 0.35),
    prod.rps,
    prod.cpu,
    prod.rssMib,
  );
  return [
    { ...direct, concurrent: concurrent(128, 1000, 5), stall: concurrent(512, 500, 50) },
    bare,
    {
      ...prodRecord,
      stream: { ...prodRecord.stream, ttfbP50Ms: 0.5 },
      concurrent: concurrent(128, 990, 6.5),
      stall: concurrent(512, 400, 80),
    },
  ];
}

Deno.test("figureRows: per-round ratios, medians against targets, pass/fail", () => {
  const records = [
    ...figureRound(0, { rps: 450, cpu: 120, rssMib: 140 }),
    ...figureRound(1, { rps: 400, cpu: 140, rssMib: 160 }),
    ...figureRound(2, { rps: 430, cpu: 125, rssMib: 145 }),
  ];
  const rows = figureRows({
    records,
    startup: [
      { readyMs: 250, idleRssKib: 100 * 1024 },
      { readyMs: 280, idleRssKib: 110 * 1024 },
      { readyMs: 320, idleRssKib: 130 * 1024 },
    ],
    soak: soakSummary(samples(600, 10, (at) => 100 + at / 50), 600),
  });
  const byFigure = Object.fromEntries(rows.map((r) => [r.figure, r]));
  const expected: [string, string, string, boolean | null][] = [
    ["req/s @32 connections ÷ bare", "≥ 0.85×", "0.86× (0.80–0.90)", true],
    ["proxy CPU µs/req @32 connections ÷ bare's", "≤ 1.30×", "1.25× (1.20–1.40)", true],
    ["added p50 @1 connection (vs direct)", "≤ +0.30 ms", "+0.25 ms", true],
    ["added stream first byte p50, 1 stream at a time (vs direct)", "≤ +0.50 ms", "+0.40 ms", true],
    [
      "added stream first byte p50, 128 streams at a time (vs direct)",
      "≤ +2.00 ms",
      "+1.50 ms",
      true,
    ],
    ["streams/s, 128 streams at a time ÷ direct", "≥ 0.98×", "0.99×", true],
    ["peak RSS @256 connections − bare's", "≤ +50.0 MiB", "+45.0 MiB (+40.0–+60.0)", true],
    ["idle RSS 2 s after /health is ready", "≤ 120.0 MiB", "110.0 MiB (100.0–130.0)", true],
    ["start-up to a ready /health (3 starts)", "≤ 300 ms", "280 ms (250–320)", true],
    ["512 streams at once: completed / stalled / lost", "all / 0 / 0", "", true],
  ];
  for (const [figure, target, measured, pass] of expected) {
    const row = byFigure[figure];
    assert.ok(row !== undefined, figure);
    assert.equal(row.target, target, figure);
    if (measured !== "") assert.equal(row.measured, measured, figure);
    assert.equal(row.pass, pass, figure);
  }
  assert.equal(
    byFigure["512 streams at once: completed / stalled / lost"]?.measured,
    "1536 of 1536 / 0 / 0 (3 rounds; longest byte gap 40 ms)",
  );
  const soak = rows.find((r) => r.figure.startsWith("soak"));
  assert.equal(soak?.figure, "soak: RSS growth after the first minute (10 min)");
  assert.equal(soak?.measured, "+10.7% (101.2 → 112.0 MiB; max +10.7%)");
  assert.equal(soak?.pass, false);
  assert.deepEqual(rows.map((r) => r.id), [
    "rpsVsBare",
    "cpuVsBare",
    "addedP50",
    "addedTtfb",
    "addedTtfbConcurrent",
    "streamsVsDirect",
    "peakRssOverBare",
    "idleRss",
    "soakGrowth",
    "stall",
    "startup",
    "metricsRps",
    "metricsCpu",
  ]);
  assert.deepEqual(rows[0]?.bound, { op: "≥", limit: 0.85 });
  assert.equal(FIGURE_TARGETS.soakGrowth.limit, 10);

  const table = figuresTable(rows);
  assert.equal(
    table.split("\n")[0],
    "| figure (choreoai-prod) | target | measured median (min–max) | pass |",
  );
  assert.ok(table.includes("| req/s @32 connections ÷ bare | ≥ 0.85× | 0.86× (0.80–0.90) | ✅ |"));
  assert.ok(table.includes("| ❌ |"));
});

Deno.test("figureRows: what was not measured shows — ; failures fail", () => {
  // No bare, no startup, soak skipped; one stream lost in the stall check; a start never ready.
  const [direct, , prod] = figureRound(0, { rps: 450, cpu: 120, rssMib: 140 });
  assert.ok(direct !== undefined && prod !== undefined);
  const lossy = { ...prod, stall: { ...concurrent(512, 400, 80), completed: 511, lost: 1 } };
  const rows = figureRows({ records: [direct, lossy], soakSkipped: "skipped (--soak-minutes 0)" });
  const byFigure = Object.fromEntries(rows.map((r) => [r.figure, r]));
  assert.equal(byFigure["req/s @32 connections ÷ bare"]?.measured, "—");
  assert.equal(byFigure["req/s @32 connections ÷ bare"]?.pass, null);
  assert.equal(byFigure["req/s @32 connections, metrics on ÷ off"]?.measured, "—");
  assert.equal(byFigure["req/s @32 connections, metrics on ÷ off"]?.pass, null);
  assert.equal(byFigure["proxy CPU µs/req @32 connections, metrics on ÷ off"]?.measured, "—");
  assert.equal(byFigure["added p50 @1 connection (vs direct)"]?.pass, true);
  assert.equal(byFigure["idle RSS 2 s after /health is ready"]?.pass, null);
  assert.equal(
    byFigure["soak: RSS growth after the first minute"]?.measured,
    "skipped (--soak-minutes 0)",
  );
  const stall = byFigure["512 streams at once: completed / stalled / lost"];
  assert.equal(stall?.measured, "511 of 512 / 0 / 1 (1 round; longest byte gap 40 ms)");
  assert.equal(stall?.pass, false);

  const never = figureRows({
    records: [direct, prod],
    startup: [{ readyMs: 200, idleRssKib: 90 * 1024 }, {
      readyMs: null,
      idleRssKib: null,
      error: "it exited",
    }],
  });
  const startup = never.find((r) => r.figure.startsWith("start-up"));
  assert.equal(startup?.measured, "200 ms; 1 never ready");
  assert.equal(startup?.pass, false);
});

/** `choreoai-prod-nometrics` in round `round`: choreoai-prod's record with its own rps and CPU. */
function noMetricsRecord(round: number, rps: number, cpu: number): RoundRecord {
  const [, , prod] = figureRound(round, { rps, cpu, rssMib: 140 });
  assert.ok(prod !== undefined);
  return { ...prod, target: PROD_NOMETRICS_TARGET, concurrent: null, stall: null };
}

Deno.test("figureRows: metrics on ÷ off, per round, against ≥ 0.97×", async (t) => {
  const rounds: [on: { rps: number; cpu: number }, off: { rps: number; cpu: number }][] = [
    [{ rps: 450, cpu: 120 }, { rps: 460, cpu: 115 }], // 0.978×, CPU 1.043×
    [{ rps: 400, cpu: 140 }, { rps: 440, cpu: 125 }], // 0.909×, CPU 1.120×
    [{ rps: 430, cpu: 125 }, { rps: 430, cpu: 125 }], // 1.000×, CPU 1.000×
  ];
  const records = rounds.flatMap(([on, off], round) => [
    ...figureRound(round, { ...on, rssMib: 140 }),
    noMetricsRecord(round, off.rps, off.cpu),
  ]);
  const rowOf = (rows: readonly FigureRow[], id: FigureRow["id"]) => {
    const found = rows.find((r) => r.id === id);
    assert.ok(found !== undefined, id);
    return found;
  };

  await t.step("median of the per-round ratios, min–max, pass", () => {
    const rows = figureRows({ records });
    const rps = rowOf(rows, "metricsRps");
    assert.equal(rps.figure, "req/s @32 connections, metrics on ÷ off");
    assert.equal(rps.target, "≥ 0.97×");
    assert.deepEqual(rps.bound, { op: "≥", limit: 0.97 });
    assert.equal(rps.measured, "0.98× (0.91–1.00)");
    assert.equal(rps.pass, true);
    assert.equal(rps.summary?.n, 3);
    assert.equal(rps.summary?.median, 450 / 460);
    const cpu = rowOf(rows, "metricsCpu");
    assert.equal(cpu.figure, "proxy CPU µs/req @32 connections, metrics on ÷ off");
    assert.equal(cpu.measured, "1.04× (1.00–1.12)");
    assert.equal(cpu.pass, null); // informational: no target
    assert.equal(cpu.bound, undefined);
    const table = figuresTable(rows);
    assert.ok(
      table.includes(
        "| req/s @32 connections, metrics on ÷ off | ≥ 0.97× | 0.98× (0.91–1.00) | ✅ |",
      ),
    );
    assert.ok(
      table.includes(
        "| proxy CPU µs/req @32 connections, metrics on ÷ off | (informational) | " +
          "1.04× (1.00–1.12) | — |",
      ),
    );
  });

  await t.step("a round without the metrics-off target is left out; a low median fails", () => {
    const partial = records.filter((r) => !(r.round === 2 && r.target === PROD_NOMETRICS_TARGET));
    const rps = rowOf(figureRows({ records: partial }), "metricsRps");
    assert.equal(rps.summary?.n, 2);
    assert.equal(rps.measured, "0.94× (0.91–0.98)");
    assert.equal(rps.pass, false);
  });

  await t.step("the report's columns: the target after choreoai-prod, no concurrent cells", () => {
    const table = markdownTable(records, [1, 32, 256]);
    assert.equal(
      table.split("\n")[0],
      "| metric | direct | bare | choreoai-prod | choreoai-prod-nometrics |",
    );
    assert.equal(
      row(table, "req/s @32"),
      "| req/s @32 | 1,000 | 500 | 430 (400–450) | 440 (430–460) |",
    );
    assert.ok(!CONCURRENT_TARGETS.includes(PROD_NOMETRICS_TARGET));
  });
});

Deno.test("markdownTable: concurrent-stream rows when measured", () => {
  const records = figureRound(0, { rps: 450, cpu: 120, rssMib: 140 });
  const table = markdownTable(records, [1, 32, 256]);
  assert.equal(row(table, "streams/s @128 conc."), "| streams/s @128 conc. | 1,000 | — | 990 |");
  assert.equal(
    row(table, "streams/s @128 conc. ÷ direct"),
    "| streams/s @128 conc. ÷ direct | 1.00× | — | 0.99× |",
  );
  assert.equal(
    row(table, "added stream TTFB p50 ms @128 conc. (vs direct)"),
    "| added stream TTFB p50 ms @128 conc. (vs direct) | +0.00 | — | +1.50 |",
  );
  assert.equal(
    row(table, "streams lost @512 at once"),
    "| streams lost @512 at once | 0 | — | 0 |",
  );
  assert.equal(
    row(table, "proxy peak RSS MiB @256"),
    "| proxy peak RSS MiB @256 | — | 100.0 | 140.0 |",
  );
});
