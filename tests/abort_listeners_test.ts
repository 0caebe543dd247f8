import assert from "node:assert/strict";
import { whenAborted } from "../src/abort_listeners.ts";

Deno.test("whenAborted() calls each registered callback once, unless it stopped listening", async (t) => {
  await t.step("registered, then aborted: called once", () => {
    const controller = new AbortController();
    let calls = 0;
    whenAborted(controller.signal, () => calls++);
    controller.abort();
    controller.abort();
    assert.equal(calls, 1);
  });
  await t.step("stopped before the abort: not called; the others still are", () => {
    const controller = new AbortController();
    const called: string[] = [];
    const stopA = whenAborted(controller.signal, () => called.push("a"));
    whenAborted(controller.signal, () => called.push("b"));
    stopA();
    stopA();
    controller.abort();
    assert.deepEqual(called, ["b"]);
  });
  await t.step("already aborted: called at once", () => {
    let calls = 0;
    const stop = whenAborted(AbortSignal.abort(), () => calls++);
    assert.equal(calls, 1);
    stop();
  });
  await t.step("10,000 callers registering and leaving, then one abort", () => {
    const controller = new AbortController();
    let calls = 0;
    for (let i = 0; i < 10_000; i++) whenAborted(controller.signal, () => calls++)();
    const kept = Array.from({ length: 100 }, () => whenAborted(controller.signal, () => calls++));
    controller.abort();
    assert.equal(calls, kept.length);
  });
  await t.step("a callback registered after the abort fired is called at once", () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    whenAborted(controller.signal, () => calls++);
    assert.equal(calls, 1);
  });
});
