// deno-lint-ignore-file no-console -- a CLI script: its one output line is the result
/**
 * Sequential streamed chat requests, timing each one.
 *
 *     deno run --allow-net bench/stream_client.ts --url http://127.0.0.1:8000/v1/chat/completions \
 *       --model gpt-4o-mini --count 200 [--warmup 10] [--key sk-…]
 *
 * For each request: time to first byte (the first body chunk, i.e. the first event) and total
 * time (the body fully read), in milliseconds from just before `fetch`. A request counts as
 * failed unless it answers 200 with an event stream ending in `data: [DONE]`. Prints one JSON
 * line: `{"ttfbMs":[…],"totalMs":[…],"failures":n,"firstFailure":"…"}`. Bounded: each request
 * times out after 10 s, the whole run after 120 s.
 *
 * With `--concurrency N`, N streams at a time instead (bench/concurrent_client.ts):
 *
 *     deno run --allow-net bench/stream_client.ts --url … --model gpt-4o-mini-paced \
 *       --concurrency 128 (--duration S | --per-worker K) [--warmup W] [--content-events 20] \
 *       [--stall-ms 2000] [--bound-ms 10000] [--max-streams 100000] [--key sk-…]
 *
 * `--warmup` is then untimed streams per worker; `--content-events K` makes a stream that does
 * not carry exactly K content events before `[DONE]` count as lost. Prints one JSON line, a
 * `ConcurrentResult`.
 */
import { endsWithDone, runConcurrent } from "./concurrent_client.ts";
import { CLIENT_KEY, requestBody } from "./fixtures.ts";

/** The client's output. */
export interface StreamClientResult {
  readonly ttfbMs: number[];
  readonly totalMs: number[];
  readonly failures: number;
  readonly firstFailure?: string;
}

const REQUEST_TIMEOUT_MS = 10_000;
const RUN_TIMEOUT_MS = 120_000;

/** One streamed request: [ttfb, total] in ms, or a failure message. */
async function timeOne(url: string, body: string, key: string): Promise<[number, number] | string> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (response.status !== 200 || response.body === null) {
    const text = await response.text();
    return `HTTP ${response.status}: ${text.slice(0, 300)}`;
  }
  const reader = response.body.getReader();
  let firstByte: number | undefined;
  let tail = new Uint8Array();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value.length === 0) continue;
    firstByte ??= performance.now();
    tail = value.length >= 32 ? value.slice(-32) : Uint8Array.from([...tail, ...value].slice(-32));
  }
  const ended = performance.now();
  if (firstByte === undefined) return "empty body";
  if (!endsWithDone(tail)) {
    return `stream did not end with [DONE]: ${new TextDecoder().decode(tail)}`;
  }
  return [firstByte - started, ended - started];
}

/** Runs `warmup` untimed then `count` timed requests, one after the other. */
export async function runStreamClient(
  url: string,
  model: string,
  count: number,
  warmup: number,
  key: string = CLIENT_KEY,
): Promise<StreamClientResult> {
  const body = requestBody(model, true);
  const deadline = performance.now() + RUN_TIMEOUT_MS;
  const ttfbMs: number[] = [];
  const totalMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  for (let i = 0; i < warmup + count && performance.now() < deadline; i++) {
    let outcome: [number, number] | string;
    try {
      outcome = await timeOne(url, body, key);
    } catch (error) {
      outcome = String(error);
    }
    if (i < warmup) continue;
    if (typeof outcome === "string") {
      failures++;
      firstFailure ??= outcome;
    } else {
      ttfbMs.push(outcome[0]);
      totalMs.push(outcome[1]);
    }
  }
  return { ttfbMs, totalMs, failures, ...(firstFailure === undefined ? {} : { firstFailure }) };
}

function arg(name: string, fallback?: string): string {
  const index = Deno.args.indexOf(name);
  const value = index < 0 ? fallback : Deno.args[index + 1];
  if (value === undefined) throw new Error(`stream_client.ts needs ${name}`);
  return value;
}

function has(name: string): boolean {
  return Deno.args.includes(name);
}

/** A whole number option from `min` to `max`. */
function count(name: string, fallback: string | undefined, min: number, max: number): number {
  const value = Number(arg(name, fallback));
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} needs a whole number from ${min} to ${max}`);
  }
  return value;
}

async function concurrentMain(): Promise<void> {
  const contentEvents = has("--content-events")
    ? count("--content-events", undefined, 0, 10_000)
    : undefined;
  const boundMs = count("--bound-ms", "10000", 100, 120_000);
  const result = await runConcurrent({
    request: {
      url: arg("--url"),
      key: arg("--key", CLIENT_KEY),
      body: requestBody(arg("--model"), true),
      countContent: contentEvents !== undefined,
      boundMs,
    },
    concurrency: count("--concurrency", undefined, 1, 4096),
    warmup: count("--warmup", "0", 0, 100),
    ...(has("--duration") ? { durationS: count("--duration", undefined, 1, 3_600) } : {}),
    ...(has("--per-worker") ? { perWorker: count("--per-worker", undefined, 1, 1_000) } : {}),
    criteria: {
      stallMs: count("--stall-ms", "2000", 1, 120_000),
      boundMs,
      ...(contentEvents === undefined ? {} : { contentEvents }),
    },
    maxStreams: count("--max-streams", "100000", 1, 1_000_000),
  });
  console.log(JSON.stringify(result));
}

if (import.meta.main && has("--concurrency")) {
  if (!has("--duration") && !has("--per-worker")) {
    throw new Error("--concurrency needs --duration S or --per-worker K");
  }
  await concurrentMain();
} else if (import.meta.main) {
  const result = await runStreamClient(
    arg("--url"),
    arg("--model"),
    Number(arg("--count", "200")),
    Number(arg("--warmup", "10")),
    arg("--key", CLIENT_KEY),
  );
  console.log(JSON.stringify(result));
}
