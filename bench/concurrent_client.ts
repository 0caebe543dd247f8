/**
 * Many streamed chat requests at once: the concurrent mode of bench/stream_client.ts.
 *
 * `concurrency` workers each run streamed requests one after the other: `warmup` untimed ones
 * (all workers together, so connections are open), then either until `durationS` has passed
 * since the measurement started (no new stream after that) or `perWorker` each. Every stream
 * is timed (first byte, total, the longest wait for a byte) and classified by
 * {@linkcode classifyStream}: completed, stalled or lost. Bounded: each stream is aborted after
 * `boundMs`, and the run starts no stream after its deadline.
 */

/** What happened to one streamed request. */
export interface StreamOutcome {
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** ms from just before `fetch` to the first body chunk; null when none came. */
  readonly ttfbMs: number | null;
  /** ms from just before `fetch` to the end (or the error). */
  readonly totalMs: number;
  /** The longest wait for a byte: before the first one or between two, ms. */
  readonly maxGapMs: number;
  /** Events with non-empty `choices[0].delta.content`; null when not counted. */
  readonly contentEvents: number | null;
  /** Whether the body ended with `data: [DONE]`. */
  readonly done: boolean;
  readonly error?: string;
}

/** When a stream counts as completed. */
export interface StreamCriteria {
  /** A wait for a byte longer than this is a stall. */
  readonly stallMs: number;
  /** A stream not finished within this (it is aborted then) is stalled. */
  readonly boundMs: number;
  /** The content events a stream must carry before `[DONE]`; unchecked when undefined. */
  readonly contentEvents?: number;
}

/** completed; stalled (a byte gap over `stallMs`, or over `boundMs` in all); lost (else). */
export type StreamVerdict = "completed" | "stalled" | "lost";

/** Classifies one stream: stalled first (a stream aborted for its time is stalled), then lost. */
export function classifyStream(outcome: StreamOutcome, criteria: StreamCriteria): StreamVerdict {
  if (outcome.maxGapMs > criteria.stallMs || outcome.totalMs > criteria.boundMs) return "stalled";
  if (outcome.error !== undefined || outcome.status !== 200 || !outcome.done) return "lost";
  if (criteria.contentEvents !== undefined && outcome.contentEvents !== criteria.contentEvents) {
    return "lost";
  }
  return "completed";
}

/** The concurrent client's output (one JSON line). */
export interface ConcurrentResult {
  readonly concurrency: number;
  /** Timed streams started, and how they ended. */
  readonly started: number;
  readonly completed: number;
  readonly stalled: number;
  readonly lost: number;
  /** ms from the start of the measurement to the end of its last stream. */
  readonly wallMs: number;
  /** completed ÷ wall time. */
  readonly streamsPerSecond: number;
  /** First byte and total time of the completed streams, ms. */
  readonly ttfbMs: number[];
  readonly totalMs: number[];
  /** The longest byte gap of any timed stream, ms. */
  readonly maxGapMs: number;
  /** Untimed warm-up streams run before (they count in the proxy's CPU). */
  readonly warmupStreams: number;
  readonly firstProblem?: string;
}

/** Summarises the timed outcomes of a run. */
export function summarizeOutcomes(
  outcomes: readonly StreamOutcome[],
  criteria: StreamCriteria,
  concurrency: number,
  wallMs: number,
  warmupStreams: number,
): ConcurrentResult {
  const counts = { completed: 0, stalled: 0, lost: 0 };
  const ttfbMs: number[] = [];
  const totalMs: number[] = [];
  let maxGapMs = 0;
  let firstProblem: string | undefined;
  for (const outcome of outcomes) {
    const verdict = classifyStream(outcome, criteria);
    counts[verdict]++;
    maxGapMs = Math.max(maxGapMs, outcome.maxGapMs);
    if (verdict === "completed") {
      ttfbMs.push(outcome.ttfbMs ?? outcome.totalMs);
      totalMs.push(outcome.totalMs);
    } else {
      firstProblem ??= `${verdict}: HTTP ${outcome.status}, ${outcome.contentEvents ?? "?"} ` +
        `content events, [DONE] ${outcome.done ? "seen" : "missing"}, longest gap ` +
        `${outcome.maxGapMs.toFixed(0)} ms, ${outcome.totalMs.toFixed(0)} ms in all` +
        (outcome.error === undefined ? "" : `: ${outcome.error.slice(0, 200)}`);
    }
  }
  return {
    concurrency,
    started: outcomes.length,
    ...counts,
    wallMs,
    streamsPerSecond: wallMs > 0 ? (counts.completed * 1000) / wallMs : 0,
    ttfbMs,
    totalMs,
    maxGapMs,
    warmupStreams,
    ...(firstProblem === undefined ? {} : { firstProblem }),
  };
}

/**
 * Reads the concurrent client's output: its last line, a {@linkcode ConcurrentResult}.
 *
 * @throws {Error} when the line is missing or lacks a field.
 */
export function parseConcurrentResult(stdout: string): ConcurrentResult {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`the concurrent stream client printed no result: ${line.slice(0, 300)}`);
  }
  for (
    const name of [
      "concurrency",
      "started",
      "completed",
      "stalled",
      "lost",
      "wallMs",
      "streamsPerSecond",
      "maxGapMs",
      "warmupStreams",
    ]
  ) {
    if (typeof raw[name] !== "number" || !Number.isFinite(raw[name])) {
      throw new Error(`the concurrent stream client's result lacks ${name}: ${line.slice(0, 300)}`);
    }
  }
  for (const name of ["ttfbMs", "totalMs"]) {
    const list = raw[name];
    if (!Array.isArray(list) || !list.every((v) => typeof v === "number")) {
      throw new Error(`the concurrent stream client's result lacks ${name}: ${line.slice(0, 300)}`);
    }
  }
  if (raw.firstProblem !== undefined && typeof raw.firstProblem !== "string") {
    throw new Error(`firstProblem is not a string: ${line.slice(0, 300)}`);
  }
  return raw as unknown as ConcurrentResult;
}

/**
 * Counts the content events of an SSE body fed in pieces, and whether `data: [DONE]` was its
 * last event.
 */
export class SseCounter {
  #buffer = "";
  #content = 0;
  #doneLast = false;

  /** Feeds the next piece of decoded text. */
  push(text: string): void {
    this.#buffer += text;
    let end = this.#buffer.search(/\r?\n\r?\n/);
    while (end >= 0) {
      this.#event(this.#buffer.slice(0, end));
      this.#buffer = this.#buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      end = this.#buffer.search(/\r?\n\r?\n/);
    }
  }

  /** Content events so far, and whether the last complete event was `[DONE]`. */
  result(): { contentEvents: number; done: boolean } {
    if (this.#buffer.trim() !== "") this.#event(this.#buffer); // a last event without "\n\n"
    this.#buffer = "";
    return { contentEvents: this.#content, done: this.#doneLast };
  }

  #event(block: string): void {
    const data = block.split(/\r?\n/).filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trimStart()).join("\n");
    if (data === "") return;
    if (data === "[DONE]") {
      this.#doneLast = true;
      return;
    }
    this.#doneLast = false;
    try {
      const chunk = JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[] };
      const content = chunk.choices?.[0]?.delta?.content;
      if (typeof content === "string" && content !== "") this.#content++;
    } catch {
      // Not JSON: not a content event.
    }
  }
}

const DONE = new TextEncoder().encode("data: [DONE]");

/** Whether the last bytes of a body are `data: [DONE]` (trailing newlines allowed). */
export function endsWithDone(tail: Uint8Array): boolean {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 10 || tail[end - 1] === 13)) end--;
  if (end < DONE.length) return false;
  return DONE.every((byte, i) => tail[end - DONE.length + i] === byte);
}

/** One request of a run. */
export interface StreamRequest {
  readonly url: string;
  readonly key: string;
  readonly body: string;
  /** Count content events (parses every event); else only the `[DONE]` ending is checked. */
  readonly countContent: boolean;
  readonly boundMs: number;
}

/** Runs one streamed request to its end, its error or its bound. */
export async function streamOnce(request: StreamRequest): Promise<StreamOutcome> {
  const started = performance.now();
  let last = started;
  let maxGapMs = 0;
  let firstByte: number | undefined;
  let status = 0;
  let tail = new Uint8Array();
  const counter = request.countContent ? new SseCounter() : undefined;
  const decoder = new TextDecoder();
  const outcome = (error?: string): StreamOutcome => {
    const now = performance.now();
    if (error !== undefined) maxGapMs = Math.max(maxGapMs, now - last);
    const counted = counter?.result();
    return {
      status,
      ttfbMs: firstByte === undefined ? null : firstByte - started,
      totalMs: now - started,
      maxGapMs,
      contentEvents: counted?.contentEvents ?? null,
      done: counted?.done ?? endsWithDone(tail),
      ...(error === undefined ? {} : { error }),
    };
  };
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${request.key}` },
      body: request.body,
      signal: AbortSignal.timeout(request.boundMs),
    });
    status = response.status;
    if (status !== 200 || response.body === null) {
      return outcome(`HTTP ${status}: ${(await response.text()).slice(0, 200)}`);
    }
    const reader = response.body.getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      firstByte ??= now;
      counter?.push(decoder.decode(value, { stream: true }));
      if (counter === undefined) {
        tail = value.length >= 32
          ? value.slice(-32)
          : Uint8Array.from([...tail, ...value].slice(-32));
      }
    }
    return outcome();
  } catch (error) {
    return outcome(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }
}

/** How to run the concurrent client. */
export interface ConcurrentRun {
  readonly request: StreamRequest;
  readonly concurrency: number;
  /** Untimed streams per worker first. */
  readonly warmup: number;
  /** Run until this many seconds passed (closed loop); or `perWorker` streams each. */
  readonly durationS?: number;
  readonly perWorker?: number;
  readonly criteria: StreamCriteria;
  /** At most this many timed streams in all. */
  readonly maxStreams: number;
}

/** Runs the workers and summarises the timed streams. */
export async function runConcurrent(run: ConcurrentRun): Promise<ConcurrentResult> {
  const workers = Array.from({ length: run.concurrency }, (_, i) => i);
  await Promise.all(workers.map(async () => {
    for (let i = 0; i < run.warmup; i++) await streamOnce(run.request);
  }));
  const outcomes: StreamOutcome[] = [];
  const started = performance.now();
  const deadline = started + (run.durationS ?? 3_600) * 1000;
  const perWorker = run.perWorker ?? Number.POSITIVE_INFINITY;
  let launched = 0;
  await Promise.all(workers.map(async () => {
    for (
      let i = 0;
      i < perWorker && performance.now() < deadline && launched < run.maxStreams;
      i++
    ) {
      launched++;
      outcomes.push(await streamOnce(run.request));
    }
  }));
  const wallMs = performance.now() - started;
  return summarizeOutcomes(
    outcomes,
    run.criteria,
    run.concurrency,
    wallMs,
    run.warmup * run.concurrency,
  );
}
