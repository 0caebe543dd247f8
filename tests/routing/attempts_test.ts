import assert from "node:assert/strict";
import { parseConfig } from "../../src/config.ts";
import { errors, GatewayError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import {
  type Attempt,
  type AttemptDeps,
  type AttemptOutcome,
  backoffMs,
  retryAfterMs,
  runPlan,
  type Served,
  sleep,
} from "../../src/routing/attempts.ts";
import { createBreakers } from "../../src/routing/breaker.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { planRoute, type RoutePlan } from "../../src/routing/route.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import type { Routing } from "../../src/routing/table.ts";

type UpstreamPlan = RoutePlan & { kind: "upstream" };

const START = 1_700_000_000_000; // a whole second, so HTTP dates are exact
const OPENAI = "openai/gpt-4o";
const GEMINI = "gemini/gemini-2.5-flash";
const ANTHROPIC = "anthropic/claude-sonnet-4-5";

const TO_OPENAI = { provider: "openai", model: "gpt-4o" };
const TO_GEMINI = { provider: "gemini", model: "gemini-2.5-flash" };
const TO_ANTHROPIC = { provider: "anthropic", model: "claude-sonnet-4-5" };

/**
 * The routing table of these tests: `smart` (OpenAI, 2 retries, falls back to `claude`),
 * `pair` (OpenAI and Gemini, equal weights), `claude` (Anthropic), `quick` (no retries).
 */
function routingWith(
  extra: { models?: Record<string, unknown>; circuit_breaker?: Record<string, number> } = {},
): Routing {
  const file = {
    ...extra,
    models: {
      smart: {
        targets: [TO_OPENAI],
        retries: 2,
        fallbacks: ["claude"],
        timeout_ms: 10_000,
        deadline_ms: 60_000,
      },
      pair: {
        targets: [TO_OPENAI, TO_GEMINI],
        retries: 1,
        fallbacks: ["claude"],
        deadline_ms: 60_000,
      },
      quick: { targets: [TO_OPENAI], fallbacks: ["claude"] },
      claude: { targets: [TO_ANTHROPIC] },
      ...extra.models,
    },
  };
  return buildRouting(
    parseConfig({
      OPENAI_API_KEY: "sk-openai",
      ANTHROPIC_API_KEY: "sk-ant",
      GEMINI_API_KEY: "gm",
      CHOREOAI_UPSTREAM_TIMEOUT_MS: "600000",
    }),
    parseRoutingFile(JSON.stringify(file)),
  );
}

function planOf(model: string, routing: Routing): UpstreamPlan {
  const plan = planRoute(model, routing);
  assert.ok(!(plan instanceof GatewayError) && plan.kind === "upstream", `${model} should route`);
  return plan;
}

/** One scripted upstream answer. */
interface Step {
  readonly outcome: AttemptOutcome<string>;
  /** Time the attempt takes on the fake clock. */
  readonly tookMs?: number;
  /** Runs during the attempt (to abort, say). */
  readonly during?: () => void;
}

function ok(value = "answer", tookMs = 0): Step {
  return { outcome: { ok: true, value }, tookMs };
}
function fail(error: GatewayError = errors.upstream("Upstream answered 502"), tookMs = 0): Step {
  return { outcome: { ok: false, error, next: "retry" }, tookMs };
}
function skip(
  error: GatewayError = errors.invalidRequest("This provider cannot take n > 1"),
): Step {
  return { outcome: { ok: false, error, next: "skip" } };
}
function stop(error: GatewayError): Step {
  return { outcome: { ok: false, error, next: "stop" } };
}

function rateLimited(retryAfter: string): GatewayError {
  return new GatewayError("Rate limit reached", {
    status: 429,
    type: "rate_limit_error",
    code: "rate_limit_exceeded",
    headers: { "retry-after": retryAfter },
  });
}

/** What the attempt function was called with, and when. */
interface Call {
  readonly key: string;
  readonly model: string;
  readonly timeoutMs: number;
  readonly number: number;
  readonly at: number;
}

/**
 * A gateway process's worth of attempt machinery: a fake clock that only the fake `sleep` and
 * the scripted attempts advance, real breakers on the routing's settings, and collected logs.
 */
function createRunner(routing: Routing, options: { random?: () => number } = {}) {
  const clock = { time: START };
  const now = () => clock.time;
  const waits: number[] = [];
  const sleepSignals: (AbortSignal | undefined)[] = [];
  const hooks: { onSleep?: () => void } = {};
  const lines: Record<string, unknown>[] = [];
  const breakers = createBreakers(() => routing.breaker, now);
  const log = createLogger((line) => lines.push(JSON.parse(line)), now);

  async function run(
    plan: UpstreamPlan,
    script: Record<string, Step[]>,
    extra: Partial<AttemptDeps> = {},
  ): Promise<{ served?: Served<string>; error?: unknown; calls: Call[] }> {
    const calls: Call[] = [];
    const left = new Map(Object.entries(script).map(([key, steps]) => [key, [...steps]]));
    const attempt = (a: Attempt): Promise<AttemptOutcome<string>> => {
      calls.push({
        key: a.target.key,
        model: a.model.name,
        timeoutMs: a.timeoutMs,
        number: a.number,
        at: clock.time,
      });
      const step = left.get(a.target.key)?.shift();
      if (step === undefined) {
        return Promise.reject(new Error(`unexpected attempt on ${a.target.key}`));
      }
      clock.time += step.tookMs ?? 0;
      step.during?.();
      return Promise.resolve(step.outcome);
    };
    const deps: AttemptDeps = {
      now,
      random: options.random ?? (() => 0),
      sleep: (ms, signal) => {
        waits.push(ms);
        sleepSignals.push(signal);
        clock.time += ms;
        hooks.onSleep?.();
        return Promise.resolve();
      },
      breakers,
      log,
      ...extra,
    };
    try {
      return { served: await runPlan(plan, attempt, deps), calls };
    } catch (error) {
      return { error, calls };
    }
  }

  return { run, clock, waits, sleepSignals, hooks, lines, breakers };
}

const keys = (calls: readonly Call[]) => calls.map((c) => c.key);
const warnings = (lines: readonly Record<string, unknown>[]) =>
  lines.filter((l) => l["level"] === "warn");

Deno.test("runPlan() returns the first success", async () => {
  const runner = createRunner(routingWith());
  const { served, calls } = await runner.run(planOf("smart", routingWith()), {
    [OPENAI]: [ok("hello")],
  });
  assert.equal(served?.value, "hello");
  assert.equal(served?.target.key, OPENAI);
  assert.equal(served?.attempts, 1);
  assert.deepEqual(calls, [{
    key: OPENAI,
    model: "smart",
    timeoutMs: 10_000,
    number: 1,
    at: START,
  }]);
  assert.deepEqual(runner.waits, []);
  assert.deepEqual(warnings(runner.lines), []);
});

Deno.test("runPlan() serves a built-in route", async () => {
  const routing = routingWith();
  const runner = createRunner(routing);
  const { served, calls } = await runner.run(planOf("gemini/gemini-2.5-flash", routing), {
    [GEMINI]: [ok()],
  });
  assert.equal(served?.target.key, GEMINI);
  assert.deepEqual(calls.map((c) => c.timeoutMs), [600_000]);
});

Deno.test("runPlan() retries up to `retries`, then falls back to the next model", async (t) => {
  await t.step("three attempts on smart (retries 2), then claude", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { served, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(), fail(), fail()],
      [ANTHROPIC]: [ok("from claude")],
    });
    assert.deepEqual(keys(calls), [OPENAI, OPENAI, OPENAI, ANTHROPIC]);
    assert.deepEqual(calls.map((c) => c.number), [1, 2, 3, 4]);
    assert.deepEqual(calls.map((c) => c.model), ["smart", "smart", "smart", "claude"]);
    assert.equal(served?.value, "from claude");
    assert.equal(served?.target.key, ANTHROPIC);
    assert.equal(served?.attempts, 4);
    assert.deepEqual(runner.waits, [125, 250], "no wait after the last retry");
  });
  await t.step("each failure is logged as a warning", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(), fail(), fail()],
      [ANTHROPIC]: [ok()],
    }, { requestId: "req_42" });
    const logged = warnings(runner.lines).map(({ time: _, ...rest }) => rest);
    const line = (attempt: number) => ({
      level: "warn",
      msg: "upstream attempt failed",
      request_id: "req_42",
      model: "smart",
      target: OPENAI,
      attempt,
      status: 502,
      code: "upstream_error",
    });
    // The third failure in a row opens the breaker (3 failures by default).
    assert.deepEqual(logged, [line(1), line(2), { ...line(3), cooled_down: true }]);
  });
  await t.step("retries 0: one attempt, then the fallback at once", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { served, calls } = await runner.run(planOf("quick", routing), {
      [OPENAI]: [fail()],
      [ANTHROPIC]: [ok()],
    });
    assert.deepEqual(keys(calls), [OPENAI, ANTHROPIC]);
    assert.equal(served?.target.key, ANTHROPIC);
    assert.deepEqual(runner.waits, []);
  });
  await t.step("a retry goes to a target that has not failed yet", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { served, calls } = await runner.run(planOf("pair", routing), {
      [OPENAI]: [fail()],
      [GEMINI]: [ok()],
    });
    assert.deepEqual(keys(calls), [OPENAI, GEMINI]);
    assert.equal(served?.target.key, GEMINI);
    assert.deepEqual(runner.waits, [125]);
  });
  await t.step("once every target has failed, a retry may go to any of them", async () => {
    const routing = routingWith({
      models: { wide: { targets: [TO_OPENAI, TO_GEMINI], retries: 3 } },
    });
    const runner = createRunner(routing);
    const { served, calls } = await runner.run(planOf("wide", routing), {
      [OPENAI]: [fail(), ok()],
      [GEMINI]: [fail()],
    });
    assert.deepEqual(keys(calls), [OPENAI, GEMINI, OPENAI]);
    assert.equal(served?.attempts, 3);
  });
  await t.step("when everything fails, the last upstream error is thrown", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const last = errors.upstreamOverloaded("Anthropic is overloaded");
    const { error, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(), fail(), fail()],
      [ANTHROPIC]: [fail(last)],
    });
    assert.equal(error, last);
    assert.equal(calls.length, 4);
  });
});

Deno.test("runPlan() answers a `stop` at once", async (t) => {
  const badRequest = errors.invalidRequest("max_tokens is too large for this model", "max_tokens");
  await t.step("on the first attempt: no retry, no fallback", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { error, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [stop(badRequest)],
      [ANTHROPIC]: [ok()],
    });
    assert.equal(error, badRequest);
    assert.deepEqual(keys(calls), [OPENAI]);
    assert.deepEqual(runner.waits, []);
  });
  await t.step("after an upstream failure, the request's own error wins", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { error, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(), stop(badRequest)],
    });
    assert.equal(error, badRequest);
    assert.deepEqual(keys(calls), [OPENAI, OPENAI]);
  });
  await t.step("in a fallback", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { error } = await runner.run(planOf("quick", routing), {
      [OPENAI]: [fail()],
      [ANTHROPIC]: [stop(badRequest)],
    });
    assert.equal(error, badRequest);
  });
  await t.step("the client's mistake does not cool the target down", async () => {
    const routing = routingWith({ circuit_breaker: { failures: 1 } });
    const runner = createRunner(routing);
    await runner.run(planOf("smart", routing), { [OPENAI]: [stop(badRequest)] });
    assert.equal(runner.breakers.allows(OPENAI), true);
  });
});

Deno.test("runPlan() moves on from a `skip` without spending a retry", async (t) => {
  await t.step("another target of the model, whose retries are all still there", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    // pair has retries 1 and picks OpenAI first (random 0).
    const { served, calls } = await runner.run(planOf("pair", routing), {
      [OPENAI]: [skip()],
      [GEMINI]: [fail(), ok("gemini")],
    });
    assert.deepEqual(keys(calls), [OPENAI, GEMINI, GEMINI]);
    assert.equal(served?.value, "gemini");
    assert.equal(served?.attempts, 3);
    assert.deepEqual(runner.waits, [125], "no wait after a skip");
  });
  await t.step("the only target: straight to the fallback, never retried", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { served, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [skip()],
      [ANTHROPIC]: [ok()],
    });
    assert.deepEqual(keys(calls), [OPENAI, ANTHROPIC]);
    assert.equal(served?.target.key, ANTHROPIC);
    assert.deepEqual(runner.waits, []);
  });
  await t.step("a skipped target is not tried again by a later fallback", async () => {
    const routing = routingWith({
      models: { chain: { targets: [TO_OPENAI], fallbacks: ["gpt-4o", "claude"] } },
    });
    const runner = createRunner(routing);
    const { calls } = await runner.run(planOf("chain", routing), {
      [OPENAI]: [skip()],
      [ANTHROPIC]: [ok()],
    });
    assert.deepEqual(keys(calls), [OPENAI, ANTHROPIC]);
  });
  await t.step("when every target skips, the first refusal is the answer", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const first = errors.invalidRequest("OpenAI cannot take this", "n");
    const { error } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [skip(first)],
      [ANTHROPIC]: [skip(errors.invalidRequest("Anthropic cannot take this", "n"))],
    });
    assert.equal(error, first);
  });
  await t.step("an upstream failure is answered rather than a refusal", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const failure = errors.upstream("Upstream answered 500");
    const { error } = await runner.run(planOf("quick", routing), {
      [OPENAI]: [fail(failure)],
      [ANTHROPIC]: [skip()],
    });
    assert.equal(error, failure);
  });
  await t.step("a skip does not cool the target down", async () => {
    const routing = routingWith({ circuit_breaker: { failures: 1 } });
    const runner = createRunner(routing);
    await runner.run(planOf("smart", routing), { [OPENAI]: [skip()], [ANTHROPIC]: [ok()] });
    assert.equal(runner.breakers.allows(OPENAI), true);
  });
});

Deno.test("runPlan() waits between retries", async (t) => {
  const patient = { targets: [TO_OPENAI], retries: 6, deadline_ms: 600_000 };
  const cases: [string, () => number, number[]][] = [
    ["random 0: half the exponential step", () => 0, [125, 250, 500, 1000, 2000, 2000]],
    ["random 0.5", () => 0.5, [188, 375, 750, 1500, 3000, 3000]],
    ["random near 1: the full step, capped at 4 s", () => 1 - 1e-9, [
      250,
      500,
      1000,
      2000,
      4000,
      4000,
    ]],
  ];
  for (const [name, random, expected] of cases) {
    await t.step(name, async () => {
      const routing = routingWith({ circuit_breaker: { failures: 10 }, models: { patient } });
      const runner = createRunner(routing, { random });
      const { served } = await runner.run(planOf("patient", routing), {
        [OPENAI]: [fail(), fail(), fail(), fail(), fail(), fail(), ok()],
      });
      assert.equal(served?.attempts, 7);
      assert.deepEqual(runner.waits, expected);
      assert.deepEqual(
        runner.waits,
        expected.map((_, i) => backoffMs(i, undefined, random())),
        "the waits are backoffMs()'s",
      );
    });
  }
  await t.step("the wait is passed the request's signal", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const controller = new AbortController();
    await runner.run(planOf("smart", routing), { [OPENAI]: [fail(), ok()] }, {
      signal: controller.signal,
    });
    assert.deepEqual(runner.sleepSignals, [controller.signal]);
  });
});

Deno.test("runPlan() waits at least as long as Retry-After asks", async (t) => {
  const cases: [string, () => string, number[]][] = [
    ["seconds", () => "3", [3000]],
    ["fractional seconds", () => "1.5", [1500]],
    ["less than the backoff: the backoff", () => "0", [125]],
    ["an HTTP date", () => new Date(START + 5000).toUTCString(), [5000]],
    ["an HTTP date in the past: the backoff", () => new Date(START - 5000).toUTCString(), [125]],
    ["unreadable: the backoff", () => "soon", [125]],
  ];
  for (const [name, value, expected] of cases) {
    await t.step(name, async () => {
      const routing = routingWith();
      const runner = createRunner(routing);
      const { served, calls } = await runner.run(planOf("smart", routing), {
        [OPENAI]: [fail(rateLimited(value())), ok()],
      });
      assert.equal(served?.attempts, 2);
      assert.deepEqual(runner.waits, expected);
      assert.equal(calls[1]?.at, START + (expected[0] ?? 0));
    });
  }
});

Deno.test("runPlan() does not wait past the deadline: the fallback runs at once", async (t) => {
  const cases: [string, string][] = [
    ["a wait beyond the deadline", "120"],
    ["a wait that ends exactly at the deadline", "60"],
  ];
  for (const [name, retryAfter] of cases) {
    await t.step(name, async () => {
      const routing = routingWith(); // smart: deadline 60 s
      const runner = createRunner(routing);
      const { served, calls } = await runner.run(planOf("smart", routing), {
        [OPENAI]: [fail(rateLimited(retryAfter))],
        [ANTHROPIC]: [ok()],
      });
      assert.deepEqual(runner.waits, []);
      assert.deepEqual(keys(calls), [OPENAI, ANTHROPIC]);
      assert.equal(calls[1]?.at, START);
      assert.equal(calls[1]?.timeoutMs, 60_000, "claude's 600 s timeout is cut to the deadline");
      assert.equal(served?.target.key, ANTHROPIC);
    });
  }
  await t.step("a wait that ends just before the deadline is taken", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const { served } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(rateLimited("59.999")), ok()],
    });
    assert.deepEqual(runner.waits, [59_999]);
    assert.equal(served?.target.key, OPENAI);
  });
});

Deno.test("runPlan() stops at the deadline", async (t) => {
  const tight = {
    targets: [TO_OPENAI],
    retries: 3,
    timeout_ms: 10_000,
    deadline_ms: 15_000,
    fallbacks: ["claude"],
  };
  await t.step("the last upstream error is thrown; no fallback is started late", async () => {
    const routing = routingWith({ models: { tight } });
    const runner = createRunner(routing);
    const timeout = errors.upstreamTimeout("OpenAI sent nothing for 4875 ms");
    const { error, calls } = await runner.run(planOf("tight", routing), {
      [OPENAI]: [fail(errors.upstreamTimeout("first"), 10_000), fail(timeout, 4_875)],
      [ANTHROPIC]: [ok()],
    });
    assert.equal(error, timeout);
    assert.deepEqual(keys(calls), [OPENAI, OPENAI]);
    assert.deepEqual(calls.map((c) => c.timeoutMs), [10_000, 15_000 - 10_125]);
  });
  await t.step("nothing tried: upstream_timeout", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const smart = planOf("smart", routing);
    const { error, calls } = await runner.run({ ...smart, deadlineMs: 0 }, {});
    assert.deepEqual(calls, []);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 504);
    assert.equal(error.code, "upstream_timeout");
    assert.equal(error.type, "api_error");
  });
});

Deno.test("runPlan() gives each attempt the model's timeout or the time left", async () => {
  const routing = routingWith(); // smart: timeout 10 s, deadline 60 s; claude: 600 s
  const runner = createRunner(routing);
  const { served, calls } = await runner.run(planOf("smart", routing), {
    [OPENAI]: [fail(undefined, 10_000), fail(undefined, 10_000), fail(undefined, 10_000)],
    [ANTHROPIC]: [ok()],
  });
  assert.equal(served?.target.key, ANTHROPIC);
  assert.deepEqual(runner.waits, [125, 250]);
  assert.deepEqual(calls.map((c) => c.timeoutMs), [10_000, 10_000, 10_000, 60_000 - 30_375]);
});

Deno.test("runPlan() passes cooled-down targets by", async (t) => {
  /** Opens the breaker of `key` by failing it as often as the settings ask. */
  function coolDown(runner: ReturnType<typeof createRunner>, routing: Routing, key: string) {
    for (let i = 0; i < routing.breaker.failures; i++) runner.breakers.failed(key);
    assert.equal(runner.breakers.allows(key), false);
  }
  await t.step("while a fallback is healthy", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    coolDown(runner, routing, OPENAI);
    const { served, calls } = await runner.run(planOf("smart", routing), {
      [ANTHROPIC]: [ok()],
    });
    assert.deepEqual(keys(calls), [ANTHROPIC]);
    assert.equal(served?.attempts, 1);
  });
  await t.step("while another target of the model is healthy", async () => {
    const routing = routingWith();
    const runner = createRunner(routing); // random 0 would pick OpenAI
    coolDown(runner, routing, OPENAI);
    const { calls } = await runner.run(planOf("pair", routing), { [GEMINI]: [ok()] });
    assert.deepEqual(keys(calls), [GEMINI]);
  });
  await t.step("when everything is cooled down, the first model gets one attempt", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    coolDown(runner, routing, OPENAI);
    coolDown(runner, routing, ANTHROPIC);
    const { served, calls } = await runner.run(planOf("smart", routing), { [OPENAI]: [ok()] });
    assert.deepEqual(keys(calls), [OPENAI]);
    assert.equal(served?.target.key, OPENAI);
  });
  await t.step("…and only one, whose error is the answer", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    coolDown(runner, routing, OPENAI);
    coolDown(runner, routing, ANTHROPIC);
    const failure = errors.upstream("still down");
    const { error, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(failure)],
    });
    assert.equal(error, failure);
    assert.deepEqual(keys(calls), [OPENAI]);
    assert.deepEqual(runner.waits, []);
  });
  await t.step("after the cool-down the target is tried again", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    coolDown(runner, routing, OPENAI);
    runner.clock.time += routing.breaker.cooldownMs;
    const { served } = await runner.run(planOf("smart", routing), { [OPENAI]: [ok()] });
    assert.equal(served?.target.key, OPENAI);
  });
});

Deno.test("runPlan() goes to the fallback at once when a failure cools the last target down", async () => {
  const routing = routingWith({ circuit_breaker: { failures: 1, cooldown_ms: 120_000 } });
  const runner = createRunner(routing);
  const { served, calls } = await runner.run(planOf("smart", routing), {
    [OPENAI]: [fail(rateLimited("30"))],
    [ANTHROPIC]: [ok()],
  });
  assert.deepEqual(keys(calls), [OPENAI, ANTHROPIC]);
  assert.equal(served?.target.key, ANTHROPIC);
  assert.deepEqual(runner.waits, [], "no wait before a retry that cannot happen");
  assert.equal(calls[1]?.at, START);
});

Deno.test("runPlan() opens the breaker after the configured failures across requests", async () => {
  const routing = routingWith({ circuit_breaker: { failures: 2, cooldown_ms: 10_000 } });
  const runner = createRunner(routing);
  const plan = planOf("quick", routing);

  const first = await runner.run(plan, { [OPENAI]: [fail()], [ANTHROPIC]: [ok()] });
  assert.deepEqual(keys(first.calls), [OPENAI, ANTHROPIC]);
  assert.equal(runner.breakers.allows(OPENAI), true, "one failure is not enough");

  const second = await runner.run(plan, { [OPENAI]: [fail()], [ANTHROPIC]: [ok()] });
  assert.deepEqual(keys(second.calls), [OPENAI, ANTHROPIC]);
  assert.equal(warnings(runner.lines).at(-1)?.["cooled_down"], true);

  const third = await runner.run(plan, { [ANTHROPIC]: [ok()] });
  assert.deepEqual(keys(third.calls), [ANTHROPIC], "OpenAI is cooled down");

  runner.clock.time += 9_999;
  const fourth = await runner.run(plan, { [ANTHROPIC]: [ok()] });
  assert.deepEqual(keys(fourth.calls), [ANTHROPIC]);

  runner.clock.time += 1;
  const fifth = await runner.run(plan, { [OPENAI]: [ok()] });
  assert.deepEqual(keys(fifth.calls), [OPENAI], "tried again after the cool-down");
});

Deno.test("runPlan() makes no further attempt once the signal is aborted", async (t) => {
  await t.step("aborted before the first attempt", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const controller = new AbortController();
    controller.abort();
    const { error, calls } = await runner.run(planOf("smart", routing), {}, {
      signal: controller.signal,
    });
    assert.deepEqual(calls, []);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 503);
    assert.equal(error.code, "server_shutting_down");
  });
  await t.step("aborted during a failing attempt: no retry, no fallback", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const controller = new AbortController();
    const failure = errors.upstream("connection reset");
    const { error, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [{ ...fail(failure), during: () => controller.abort() }],
      [ANTHROPIC]: [ok()],
    }, { signal: controller.signal });
    assert.deepEqual(keys(calls), [OPENAI]);
    // What ended the attempts is said, not the failure it cut short.
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "server_shutting_down");
  });
  await t.step("aborted during the wait before a retry", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const controller = new AbortController();
    runner.hooks.onSleep = () => controller.abort();
    const { error, calls } = await runner.run(planOf("smart", routing), {
      [OPENAI]: [fail(), ok()],
      [ANTHROPIC]: [ok()],
    }, { signal: controller.signal });
    assert.deepEqual(keys(calls), [OPENAI]);
    assert.ok(error instanceof GatewayError);
  });
  await t.step("a skip then an abort: no more attempts", async () => {
    const routing = routingWith();
    const runner = createRunner(routing);
    const controller = new AbortController();
    const { calls } = await runner.run(planOf("pair", routing), {
      [OPENAI]: [{ ...skip(), during: () => controller.abort() }],
      [GEMINI]: [ok()],
    }, { signal: controller.signal });
    assert.deepEqual(keys(calls), [OPENAI]);
  });
});

Deno.test("runPlan() with a route built by hand", async () => {
  const routing = routingWith();
  const provider = routing.providers.get("openai");
  assert.ok(provider !== undefined);
  const plan: UpstreamPlan = {
    kind: "upstream",
    chain: [{
      name: "by-hand",
      targets: [
        { provider, model: "a", weight: 1, key: "openai/a" },
        { provider, model: "b", weight: 3, key: "openai/b" },
      ],
      retries: 0,
      timeoutMs: 1_000,
      deadlineMs: 5_000,
    }],
    deadlineMs: 5_000,
  };
  // 0.3 × 4 = 1.2 falls in b's share (1..4).
  const runner = createRunner(routing, { random: () => 0.3 });
  const { served, calls } = await runner.run(plan, { "openai/b": [ok("b")] });
  assert.equal(served?.value, "b");
  assert.deepEqual(calls.map((c) => c.timeoutMs), [1_000]);
});

Deno.test("retryAfterMs() reads seconds and HTTP dates", async (t) => {
  const now = START;
  const cases: [string | undefined, number | undefined][] = [
    [undefined, undefined],
    ["0", 0],
    ["3", 3000],
    [" 7 ", 7000],
    ["1.5", 1500],
    ["0.0001", 1],
    [new Date(now + 120_000).toUTCString(), 120_000],
    [new Date(now - 1_000).toUTCString(), 0],
    ["soon", undefined],
    ["", undefined],
  ];
  for (const [value, expected] of cases) {
    await t.step(JSON.stringify(value) ?? "undefined", () => {
      assert.equal(retryAfterMs(value, now), expected);
    });
  }
});

Deno.test("backoffMs() grows exponentially with equal jitter, capped, never below Retry-After", async (t) => {
  const cases: [number, number | undefined, number, number][] = [
    [0, undefined, 0, 125],
    [0, undefined, 1, 250],
    [1, undefined, 0, 250],
    [2, undefined, 0.5, 750],
    [4, undefined, 1, 4000],
    [10, undefined, 0, 2000],
    [10, undefined, 1, 4000],
    [0, 3000, 0, 3000],
    [3, 100, 1, 2000],
  ];
  for (const [retry, retryAfter, random, expected] of cases) {
    await t.step(
      `retry ${retry}, Retry-After ${retryAfter}, random ${random} → ${expected}`,
      () => {
        assert.equal(backoffMs(retry, retryAfter, random), expected);
      },
    );
  }
});

Deno.test("sleep() waits, or stops early when the signal aborts", async (t) => {
  await t.step("waits about ms", async () => {
    const started = performance.now();
    await sleep(20);
    assert.ok(performance.now() - started >= 15);
  });
  await t.step("an aborted signal: at once", async () => {
    const started = performance.now();
    await sleep(60_000, AbortSignal.abort());
    assert.ok(performance.now() - started < 1_000);
  });
  await t.step("an abort during the wait ends it (and its timer)", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await waiting;
    assert.ok(performance.now() - started < 1_000);
  });
});
