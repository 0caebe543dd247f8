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
 */
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
const DONE = new TextEncoder().encode("data: [DONE]");

function endsWithDone(tail: Uint8Array): boolean {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 10 || tail[end - 1] === 13)) end--;
  if (end < DONE.length) return false;
  return DONE.every((byte, i) => tail[end - DONE.length + i] === byte);
}

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

if (import.meta.main) {
  const result = await runStreamClient(
    arg("--url"),
    arg("--model"),
    Number(arg("--count", "200")),
    Number(arg("--warmup", "10")),
    arg("--key", CLIENT_KEY),
  );
  console.log(JSON.stringify(result));
}
