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

Deno.test("createCallGate() lets a call wait for its turn as long as the server answers", async () => {
  // One call at a time, each answered after 20 ms: the last of 40 waits ~800 ms for its turn,
  // 16 times the timeout. Waiting in our own queue says nothing about the server.
  const gate = createCallGate({ timeoutMs: 50, maxInFlight: 1, maxQueued: 100 });
  try {
    const send = () => delay(20).then(() => "answer");
    const results = await Promise.all(Array.from({ length: 40 }, () => gate.run(send)));
    assert.deepEqual(results, Array(40).fill("answer"));
  } finally {
    gate.abort();
  }
});

/** Blocks the event loop, as a burst of other work (or a CPU shared with other processes) does. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

/** Resolves after `count` short turns of the event loop (an answer read through a socket and a client). */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await delay(2);
}

Deno.test("createCallGate() does not take a busy event loop for a silent server", async (t) => {
  await t.step("an answer read late, after the loop was blocked", async () => {
    // The server answers at once, but the loop is blocked for 4 × timeoutMs, and the answer
    // then takes a few more turns to be read.
    const gate = createCallGate({ timeoutMs: 50, maxInFlight: 4, maxQueued: 100 });
    try {
      const results = Array.from(
        { length: 4 },
        () => gate.run(() => delay(1).then(() => turns(5)).then(() => "answer")),
      );
      await delay(0); // sent
      block(200);
      assert.deepEqual(await Promise.all(results), Array(4).fill("answer"));
    } finally {
      gate.abort();
    }
  });
  await t.step("a silent server, while the loop is busy and once it is free again", async () => {
    const gate = createCallGate({ timeoutMs: 50, maxInFlight: 1, maxQueued: 100 });
    try {
      let gaveUpAt: number | undefined;
      const result = gate.run(createCall<string>().send).then((outcome) => {
        gaveUpAt = performance.now();
        return outcome;
      });
      // 600 ms (12 × timeoutMs) of a loop blocked 30 ms at a time, with short breaks.
      for (let i = 0; i < 20; i++) {
        block(30);
        await delay(0);
      }
      assert.equal(gaveUpAt, undefined, "gave up while the loop was busy");
      const freeFrom = performance.now();
      assert.equal(await result, TIMED_OUT);
      const after = (gaveUpAt ?? 0) - freeFrom;
      assert.ok(
        after >= 45 && after < 1_000,
        `gave up ${Math.round(after)} ms after the loop was free`,
      );
    } finally {
      gate.abort();
    }
  });
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
