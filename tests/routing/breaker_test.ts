import assert from "node:assert/strict";
import { createBreakers } from "../../src/routing/breaker.ts";
import type { BreakerSettings } from "../../src/routing/table.ts";

/** Breakers on a fake clock, with settings that a test may change. */
function setup(initial: BreakerSettings = { failures: 3, cooldownMs: 30_000 }) {
  const clock = { time: 1_700_000_000_000 };
  const state = { settings: initial };
  const breakers = createBreakers(() => state.settings, () => clock.time);
  return { breakers, clock, state };
}

const KEY = "openai/gpt-4o";

Deno.test("createBreakers() opens after N consecutive failures, not before", async (t) => {
  for (const failures of [1, 2, 3, 5]) {
    await t.step(`${failures} failures`, () => {
      const { breakers } = setup({ failures, cooldownMs: 1000 });
      for (let i = 1; i < failures; i++) {
        assert.equal(breakers.failed(KEY), false, `failure ${i} does not open`);
        assert.equal(breakers.allows(KEY), true);
      }
      assert.equal(breakers.failed(KEY), true, `failure ${failures} opens`);
      assert.equal(breakers.allows(KEY), false);
    });
  }
  await t.step("an unknown target is allowed", () => {
    assert.equal(setup().breakers.allows("never/seen"), true);
  });
});

Deno.test("createBreakers() resets the count on a success", () => {
  const { breakers } = setup({ failures: 3, cooldownMs: 1000 });
  breakers.failed(KEY);
  breakers.failed(KEY);
  breakers.succeeded(KEY);
  assert.equal(breakers.failed(KEY), false);
  assert.equal(breakers.failed(KEY), false);
  assert.equal(breakers.allows(KEY), true);
  assert.equal(breakers.failed(KEY), true);
  assert.equal(breakers.allows(KEY), false);
});

Deno.test("createBreakers() allows the target again after the cool-down", () => {
  const { breakers, clock } = setup({ failures: 2, cooldownMs: 30_000 });
  breakers.failed(KEY);
  breakers.failed(KEY);
  clock.time += 29_999;
  assert.equal(breakers.allows(KEY), false);
  clock.time += 1;
  assert.equal(breakers.allows(KEY), true);
});

Deno.test("createBreakers() reopens at once on one failure after the cool-down", async (t) => {
  await t.step("a failure reopens it for a new cool-down", () => {
    const { breakers, clock } = setup({ failures: 3, cooldownMs: 10_000 });
    for (let i = 0; i < 3; i++) breakers.failed(KEY);
    clock.time += 10_000;
    assert.equal(breakers.allows(KEY), true);
    assert.equal(breakers.failed(KEY), true);
    assert.equal(breakers.allows(KEY), false);
    clock.time += 9_999;
    assert.equal(breakers.allows(KEY), false);
    clock.time += 1;
    assert.equal(breakers.allows(KEY), true);
  });
  await t.step("a success closes it: N failures are needed again", () => {
    const { breakers, clock } = setup({ failures: 3, cooldownMs: 10_000 });
    for (let i = 0; i < 3; i++) breakers.failed(KEY);
    clock.time += 10_000;
    breakers.succeeded(KEY);
    assert.equal(breakers.failed(KEY), false);
    assert.equal(breakers.failed(KEY), false);
    assert.equal(breakers.allows(KEY), true);
    assert.equal(breakers.failed(KEY), true);
  });
});

Deno.test("createBreakers() reads its settings on each call", async (t) => {
  await t.step("a lower failure count takes effect", () => {
    const { breakers, state } = setup({ failures: 5, cooldownMs: 1000 });
    breakers.failed(KEY);
    assert.equal(breakers.allows(KEY), true);
    state.settings = { failures: 2, cooldownMs: 1000 };
    assert.equal(breakers.failed(KEY), true);
    assert.equal(breakers.allows(KEY), false);
  });
  await t.step("a new cool-down applies to the next opening", () => {
    const { breakers, clock, state } = setup({ failures: 1, cooldownMs: 1000 });
    state.settings = { failures: 1, cooldownMs: 60_000 };
    breakers.failed(KEY);
    clock.time += 59_999;
    assert.equal(breakers.allows(KEY), false);
    clock.time += 1;
    assert.equal(breakers.allows(KEY), true);
  });
});

Deno.test("createBreakers() keeps targets independent", () => {
  const { breakers } = setup({ failures: 2, cooldownMs: 1000 });
  const other = "anthropic/claude-sonnet-4-5";
  breakers.failed(KEY);
  breakers.failed(other);
  breakers.succeeded(other);
  assert.equal(breakers.failed(KEY), true);
  assert.equal(breakers.allows(KEY), false);
  assert.equal(breakers.allows(other), true);
  assert.equal(breakers.failed(other), false);
  assert.equal(breakers.allows("openai/gpt-4o-mini"), true);
});

Deno.test("createBreakers() instances do not share state", () => {
  const a = setup({ failures: 1, cooldownMs: 1000 });
  const b = setup({ failures: 1, cooldownMs: 1000 });
  a.breakers.failed(KEY);
  assert.equal(a.breakers.allows(KEY), false);
  assert.equal(b.breakers.allows(KEY), true);
});

Deno.test("createBreakers() lets one probe through after the cool-down, then waits for it", async (t) => {
  await t.step("the probe succeeds: closed for everyone", () => {
    const { breakers, clock } = setup({ failures: 2, cooldownMs: 10_000 });
    breakers.failed(KEY);
    breakers.failed(KEY);
    clock.time += 10_000;
    assert.equal(breakers.allows(KEY), true, "half-open: a probe may go");
    breakers.attempting(KEY);
    assert.equal(breakers.allows(KEY), false, "others keep away while it runs");
    breakers.succeeded(KEY);
    assert.equal(breakers.allows(KEY), true);
    breakers.attempting(KEY);
    assert.equal(breakers.allows(KEY), true, "a closed breaker has no probe");
  });
  await t.step("the probe fails: open again for a whole cool-down", () => {
    const { breakers, clock } = setup({ failures: 2, cooldownMs: 10_000 });
    breakers.failed(KEY);
    breakers.failed(KEY);
    clock.time += 10_000;
    breakers.attempting(KEY);
    assert.equal(breakers.failed(KEY), true);
    clock.time += 9_999;
    assert.equal(breakers.allows(KEY), false);
    clock.time += 1;
    assert.equal(breakers.allows(KEY), true);
  });
  await t.step("a probe that never reports back frees the target after a cool-down", () => {
    const { breakers, clock } = setup({ failures: 1, cooldownMs: 5_000 });
    breakers.failed(KEY);
    clock.time += 5_000;
    breakers.attempting(KEY);
    clock.time += 4_999;
    assert.equal(breakers.allows(KEY), false);
    clock.time += 1;
    assert.equal(breakers.allows(KEY), true);
  });
  await t.step("a probe that ends without a verdict releases its claim", () => {
    const { breakers, clock } = setup({ failures: 1, cooldownMs: 5_000 });
    breakers.failed(KEY);
    clock.time += 5_000;
    breakers.attempting(KEY);
    breakers.released(KEY);
    assert.equal(breakers.allows(KEY), true);
  });
  await t.step("attempts before the breaker ever opened claim nothing", () => {
    const { breakers } = setup({ failures: 3, cooldownMs: 5_000 });
    breakers.failed(KEY);
    breakers.attempting(KEY);
    assert.equal(breakers.allows(KEY), true);
  });
});
