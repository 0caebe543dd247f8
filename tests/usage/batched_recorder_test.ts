/**
 * The queue every usage recorder shares, with a writer under the test's control: async writes,
 * status while writes fail, the bound and `onDropped`, and the retry backoff's 10 s cap.
 */
import assert from "node:assert/strict";
import { createLogger, type Logger } from "../../src/log.ts";
import { type BatchWriter, createBatchedRecorder } from "../../src/usage/batched_recorder.ts";
import type { UsageRecord } from "../../src/usage/recorder.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function collectingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger((line) => void lines.push(JSON.parse(line)), () => T0);
  return { log, lines };
}

function usageRecord(time: number): UsageRecord {
  return {
    time,
    key_id: "key_a",
    endpoint: "/v1/chat/completions",
    model: "gpt-4o",
    provider: "openai",
    status: 200,
    prompt_tokens: 1,
    completion_tokens: 1,
    total_tokens: 2,
    latency_ms: 1,
    ttfb_ms: null,
  };
}

/** An async writer that fails while `failing` is set, and keeps what it wrote. */
function controlledWriter(): { write: BatchWriter; written: number[]; failing: boolean } {
  const state = {
    written: [] as number[],
    failing: false,
    write: (async (records, { start, end }) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (state.failing) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
      for (let i = start; i < end; i++) state.written.push((records[i] as UsageRecord).time);
    }) as BatchWriter,
  };
  return state;
}

Deno.test("createBatchedRecorder() keeps records while an async writer fails, and says so", async () => {
  const { log, lines } = collectingLogger();
  const writer = controlledWriter();
  const recorder = createBatchedRecorder(writer, { log, flushIntervalMs: HOUR });
  try {
    assert.equal(recorder.status(), "ok");
    writer.failing = true;
    recorder.record(usageRecord(1));
    recorder.record(usageRecord(2));
    assert.equal(recorder.queued(), 2);
    assert.equal(recorder.status(), "ok", "nothing has failed yet");
    await recorder.flush();
    assert.equal(recorder.status(), "failing");
    assert.equal(recorder.queued(), 2);
    // Recorded while a retry is in flight: kept behind the records being retried.
    const retry = recorder.flush();
    recorder.record(usageRecord(3));
    await retry;
    assert.equal(recorder.queued(), 3);
    assert.equal(recorder.status(), "failing");
    assert.deepEqual(writer.written, []);

    writer.failing = false;
    await recorder.flush();
    assert.deepEqual(writer.written, [1, 2, 3]);
    assert.equal(recorder.queued(), 0);
    assert.equal(recorder.status(), "ok");
    const errors = lines.filter((line) => line.level === "error");
    assert.equal(errors.length, 2);
    assert.match(String(errors[0]?.msg), /cannot write usage records: keeping them/);
    assert.match(String(errors[0]?.error), /ECONNREFUSED/);
  } finally {
    await recorder.close();
  }
});

Deno.test("createBatchedRecorder() drops the oldest past its bound and reports the count", async () => {
  const { log, lines } = collectingLogger();
  const writer = controlledWriter();
  const dropped: number[] = [];
  const recorder = createBatchedRecorder(writer, {
    log,
    flushIntervalMs: HOUR,
    maxBatch: 10,
    maxQueued: 100,
    onDropped: (count) => void dropped.push(count),
  });
  try {
    writer.failing = true;
    for (let i = 0; i < 150; i++) recorder.record(usageRecord(i));
    await recorder.flush();
    assert.equal(dropped.reduce((sum, n) => sum + n, 0), 50);
    assert.equal(recorder.queued(), 100);
    writer.failing = false;
    await recorder.flush();
    assert.deepEqual(writer.written, Array.from({ length: 100 }, (_, i) => 50 + i));
    const full = lines.filter((line) => String(line.msg).startsWith("usage queue full"));
    assert.deepEqual(full.map((line) => line.dropped), [50]);
  } finally {
    await recorder.close();
  }
});

Deno.test("createBatchedRecorder() backs off after failures, never more than 10 s", async () => {
  const { log, lines } = collectingLogger();
  const writer = controlledWriter();
  const recorder = createBatchedRecorder(writer, { log, flushIntervalMs: 250 });
  try {
    writer.failing = true;
    recorder.record(usageRecord(1));
    for (let i = 0; i < 8; i++) await recorder.flush();
    assert.deepEqual(
      lines.map((line) => line.retry_in_ms),
      [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000],
    );
  } finally {
    writer.failing = false;
    await recorder.close();
  }
  assert.deepEqual(writer.written, [1]);
});

Deno.test("createBatchedRecorder() closes its sink once, after the last flush", async () => {
  const { log } = collectingLogger();
  const events: string[] = [];
  const recorder = createBatchedRecorder({
    write: (_records, { start, end }) => void events.push(`write ${end - start}`),
    close: () => void events.push("close"),
  }, { log, flushIntervalMs: HOUR });
  recorder.record(usageRecord(1));
  await Promise.all([recorder.close(), recorder.close()]);
  assert.deepEqual(events, ["write 1", "close"]);
});
