import assert from "node:assert/strict";
import type { Deadline, Deadlines } from "../src/deadlines.ts";
import { createDeadlines } from "../src/deadlines.ts";
import { GatewayError } from "../src/errors.ts";
import { readUpstreamText, sendUpstream } from "../src/upstream.ts";
import { ProviderRequest } from "../src/http/provider_request.ts";

/** Deadlines driven by a hand-moved clock: the timer fires when the clock passes it. */
function manualDeadlines() {
  const clock = { time: 0 };
  const timers: { at: number; ms: number; onExpire: () => void; live: boolean }[] = [];
  const deadlines: Deadlines = {
    start(ms, onExpire): Deadline {
      const timer = { at: clock.time + ms, ms, onExpire, live: true };
      timers.push(timer);
      return {
        reset(next) {
          if (next !== undefined) timer.ms = next;
          timer.at = clock.time + timer.ms;
        },
        cancel() {
          timer.live = false;
        },
      };
    },
  };
  const advance = (ms: number) => {
    clock.time += ms;
    for (const timer of timers) {
      if (timer.live && timer.at <= clock.time) {
        timer.live = false;
        timer.onExpire();
      }
    }
  };
  return { deadlines, advance, timers };
}

/** A fetch whose response headers come at once and whose body never sends anything. */
function silentFetch(): typeof fetch {
  return (_input, init) => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        init?.signal?.addEventListener("abort", () => controller.error(init.signal?.reason));
      },
    });
    return Promise.resolve(
      new Response(body, { headers: { "content-type": "text/event-stream" } }),
    );
  };
}

const REQUEST = () =>
  new ProviderRequest("http://127.0.0.1:1/v1/chat/completions", { method: "POST" });

Deno.test("sendUpstream() under a deadline: the wait for the first event counts from the start", async () => {
  const { deadlines, advance } = manualDeadlines();
  const headers = Promise.withResolvers<void>();
  const silent = silentFetch();
  const pending = sendUpstream(REQUEST(), {
    fetch: async (input, init) => {
      await headers.promise;
      return silent(input, init);
    },
    idleTimeoutMs: 10_000,
    firstTimeoutMs: 300,
    deadlines,
    provider: "test",
  });
  advance(200); // the headers take 200 ms of the 300
  headers.resolve();
  const call = await pending;
  const reader = call.response.body?.getReader();
  const read = reader?.read().then(() => "data", (error) => call.explain(error));
  advance(100);
  const outcome = await read;
  assert.ok(outcome instanceof GatewayError, "the headers restarted the deadline");
  assert.equal(outcome.code, "upstream_timeout");
  assert.match(outcome.message, /300 ms/);
});

Deno.test("sendUpstream() without a deadline: headers, then each event, restart the idle timer", async () => {
  const { deadlines, advance, timers } = manualDeadlines();
  const call = await sendUpstream(REQUEST(), {
    fetch: silentFetch(),
    idleTimeoutMs: 1_000,
    deadlines,
    provider: "test",
  });
  advance(900);
  call.touch();
  advance(900);
  assert.equal(timers[0]?.live, true, "an event restarted the idle timer");
  call.close();
  assert.equal(timers[0]?.live, false);
  await call.response.body?.cancel();
});

Deno.test("sendUpstream() after the first event switches to the idle timeout", async () => {
  const { deadlines, advance, timers } = manualDeadlines();
  const call = await sendUpstream(REQUEST(), {
    fetch: silentFetch(),
    idleTimeoutMs: 5_000,
    firstTimeoutMs: 300,
    deadlines,
    provider: "test",
  });
  advance(200);
  call.touch(); // the first event
  advance(4_000);
  assert.equal(timers[0]?.live, true, "the idle timeout, not the deadline, runs after an event");
  call.close();
  await call.response.body?.cancel();
});

Deno.test("sendUpstream() names why a call ended", async (t) => {
  const deadlines = createDeadlines(() => performance.now());
  await t.step("the client left: 499 client_closed_request", async () => {
    const client = new AbortController();
    client.abort();
    const error = await sendUpstream(REQUEST(), {
      fetch: silentFetch(),
      idleTimeoutMs: 1_000,
      deadlines,
      provider: "test",
      clientSignal: client.signal,
    }).catch((e) => e);
    assert.equal(error.status, 499);
    assert.equal(error.code, "client_closed_request");
  });
  await t.step("the server shuts down: 503 server_shutting_down", async () => {
    const error = await sendUpstream(REQUEST(), {
      fetch: silentFetch(),
      idleTimeoutMs: 1_000,
      deadlines,
      provider: "test",
      signal: AbortSignal.abort(),
    }).catch((e) => e);
    assert.equal(error.code, "server_shutting_down");
  });
  await t.step("the connection fails: 502 upstream_error naming the provider", async () => {
    const error = await sendUpstream(REQUEST(), {
      fetch: () => Promise.reject(new TypeError("connection refused")),
      idleTimeoutMs: 1_000,
      deadlines,
      provider: "local-vllm",
    }).catch((e) => e);
    assert.equal(error.status, 502);
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /local-vllm/);
  });
});

/** An answer body of `chunks` chunks of 1 KiB, made on demand, recording pulls and cancellation. */
function kibChunks(chunks: number) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled++;
      controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { body, seen };
}

Deno.test("readUpstreamText() reads at most CHOREOAI_MAX_RESPONSE_BYTES of an answer", async (t) => {
  const deadlines = createDeadlines(() => performance.now());
  const call = (response: Response) =>
    sendUpstream(REQUEST(), {
      fetch: () => Promise.resolve(response),
      idleTimeoutMs: 1_000,
      deadlines,
      provider: "local-vllm",
      maxAnswerBytes: 4 * 1024,
    });
  await t.step("within the limit: the whole text", async () => {
    const { body, seen } = kibChunks(4);
    const text = await readUpstreamText(await call(new Response(body)));
    assert.equal(text.length, 4 * 1024);
    assert.equal(seen.cancelled, false);
  });
  await t.step("past it: 502 upstream_error naming the limit; the rest is never read", async () => {
    const { body, seen } = kibChunks(100_000);
    const error = await readUpstreamText(await call(new Response(body))).catch((e) => e);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 502);
    assert.equal(error.type, "api_error");
    assert.equal(error.code, "upstream_error");
    assert.match(error.message, /local-vllm/);
    assert.match(error.message, /4096 bytes/);
    assert.match(error.message, /CHOREOAI_MAX_RESPONSE_BYTES/);
    assert.equal(seen.cancelled, true);
    assert.equal(seen.pulled, 5);
  });
  await t.step("a Content-Length past it: refused before reading", async () => {
    const { body, seen } = kibChunks(100);
    const response = new Response(body, { headers: { "content-length": String(100 * 1024) } });
    const error = await readUpstreamText(await call(response)).catch((e) => e);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "upstream_error");
    assert.equal(seen.cancelled, true);
    assert.equal(seen.pulled, 0);
  });
});
