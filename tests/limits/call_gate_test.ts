import assert from "node:assert/strict";
import { BUSY, createCallGate, TIMED_OUT } from "../../src/limits/_call_gate.ts";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A call the test answers by hand; `never` until then. */
function createCall<T>() {
  const answer = Promise.withResolvers<T>();
  let sent = false;
  return {
    send: () => {
      sent = true;
      return answer.promise;
    },
    answer: answer.resolve,
    fail: answer.reject,
    get sent() {
      return sent;
    },
  };
}

Deno.test("createCallGate() sends at most maxInFlight calls at once, in order", async () => {
  const gate = createCallGate({ timeoutMs: 1_000, maxInFlight: 3, maxQueued: 100 });
  try {
    const calls = Array.from({ length: 10 }, () => createCall<number>());
    const results = calls.map((call) => gate.run(call.send));
    await delay(0);
    assert.deepEqual(calls.map((c) => c.sent), [...Array(3).fill(true), ...Array(7).fill(false)]);
    calls[1]?.answer(1);
    await delay(0);
    assert.equal(calls.filter((c) => c.sent).length, 4);
    assert.equal(calls[3]?.sent, true, "the first waiting call goes next");
    calls.forEach((call, i) => call.answer(i));
    assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } finally {
    gate.abort();
  }
});

Deno.test("createCallGate() gives every call up once the server falls silent", async () => {
  const gate = createCallGate({ timeoutMs: 100, maxInFlight: 2, maxQueued: 100 });
  try {
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => gate.run(createCall<number>().send)),
    );
    const took = performance.now() - started;
    assert.deepEqual(results, Array(5).fill(TIMED_OUT));
    assert.ok(took >= 95 && took < 600, `gave up after ${Math.round(took)} ms`);
    // The slots were freed: a new call is sent at once.
    const call = createCall<string>();
    const result = gate.run(call.send);
    await delay(0);
    assert.equal(call.sent, true);
    call.answer("ok");
    assert.equal(await result, "ok");
  } finally {
    gate.abort();
  }
});

Deno.test("createCallGate() waits on a server that keeps answering, past timeoutMs", async () => {
  // One call at a time, each answered after 50 ms: the last one waits ~400 ms in all, twice the
  // timeout, but the server was never silent for 200 ms.
  const gate = createCallGate({ timeoutMs: 200, maxInFlight: 1, maxQueued: 100 });
  try {
    const send = () => delay(50).then(() => "answer");
    const results = await Promise.all(Array.from({ length: 8 }, () => gate.run(send)));
    assert.deepEqual(results, Array(8).fill("answer"));
  } finally {
    gate.abort();
  }
});

Deno.test("createCallGate() gives a call up after 10 × timeoutMs even while others are answered", async () => {
  const gate = createCallGate({ timeoutMs: 30, maxInFlight: 2, maxQueued: 100 });
  try {
    const started = performance.now();
    const stuck = gate.run(createCall<string>().send).then((result) => ({
      result,
      ms: performance.now() - started,
    }));
    let running = true;
    const others = (async () => {
      while (running) await gate.run(() => delay(10));
    })();
    const { result, ms } = await stuck;
    running = false;
    await others;
    assert.equal(result, TIMED_OUT);
    assert.ok(ms >= 295 && ms < 1_000, `gave up after ${Math.round(ms)} ms`);
  } finally {
    gate.abort();
  }
});

Deno.test("createCallGate() refuses a call when too many wait, and passes rejections on", async (t) => {
  await t.step("BUSY past maxQueued", async () => {
    const gate = createCallGate({ timeoutMs: 1_000, maxInFlight: 1, maxQueued: 2 });
    try {
      const calls = Array.from({ length: 3 }, () => createCall<number>());
      const results = calls.map((call) => gate.run(call.send));
      assert.equal(await gate.run(createCall<number>().send), BUSY);
      calls.forEach((call, i) => call.answer(i));
      assert.deepEqual(await Promise.all(results), [0, 1, 2]);
    } finally {
      gate.abort();
    }
  });
  await t.step("a rejected or throwing call rejects and frees its slot", async () => {
    const gate = createCallGate({ timeoutMs: 1_000, maxInFlight: 1, maxQueued: 10 });
    try {
      const failing = createCall<number>();
      const first = gate.run(failing.send);
      const second = gate.run(() => {
        throw new TypeError("thrown");
      });
      failing.fail(new Error("refused"));
      await assert.rejects(first, /refused/);
      await assert.rejects(second, TypeError);
      assert.equal(await gate.run(() => Promise.resolve(7)), 7);
    } finally {
      gate.abort();
    }
  });
  await t.step("abort gives up every call in flight or waiting", async () => {
    const gate = createCallGate({ timeoutMs: 1_000, maxInFlight: 1, maxQueued: 10 });
    try {
      const results = [gate.run(createCall<number>().send), gate.run(createCall<number>().send)];
      gate.abort();
      assert.deepEqual(await Promise.all(results), [TIMED_OUT, TIMED_OUT]);
      assert.equal(await gate.run(() => Promise.resolve(1)), 1);
    } finally {
      gate.abort();
    }
  });
});
