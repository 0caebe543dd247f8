/**
 * Requests too large for a key's tpm: refused before the limiter takes anything, with a message
 * that says what to do and `x-should-retry: false`; the same with the in-process and the Redis
 * limiter (counted once as a request, no tokens taken).
 */
import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.ts";
import { createMemoryLimiter, type LimitSpec, type RateLimiter } from "../../src/limits/limiter.ts";
import { createRedisLimiter } from "../../src/limits/redis.ts";
import { createLogger } from "../../src/log.ts";
import {
  admit,
  countRejected,
  neverFits,
  type RequestLimits,
  type TokenReservation,
} from "../../src/routes/rate_limits.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";

const HAS_REDIS = await hasRedisServer();
const FROZEN = 1_700_000_000_000;

function chat(
  prompt: number,
  perChoice: number,
  options: { choices?: number; setBy?: "max_tokens" | "max_completion_tokens" } = {},
): TokenReservation {
  return {
    prompt,
    completion: { perChoice, choices: options.choices ?? 1, setBy: options.setBy },
  };
}

Deno.test("neverFits() refuses only a reservation over the whole tpm, and says what to do", async (t) => {
  const cases: [string, number, TokenReservation, RegExp[] | undefined][] = [
    ["exactly the limit fits", 2_000, chat(10, 1_990, { setBy: "max_tokens" }), undefined],
    [
      "embeddings input at the limit fits",
      2_000,
      { prompt: 2_000, completion: undefined },
      undefined,
    ],
    ["max_tokens over the limit", 2_000, chat(10, 5_000, { setBy: "max_tokens" }), [
      /^Request too large for key key_1 on tokens per min \(TPM\): Limit 2000, Requested 5010 /,
      /\(about 10 prompt tokens \+ 5000 for max_tokens\)/,
      /It can never fit, so retrying will not help/,
      /lower max_tokens to at most 1990, shorten the prompt, or give the key a higher tpm\.$/,
    ]],
    [
      "max_completion_tokens with n = 2",
      2_000,
      chat(10, 1_500, { choices: 2, setBy: "max_completion_tokens" }),
      [
        /Requested 3010 \(about 10 prompt tokens \+ 2 × 1500 for max_completion_tokens with n = 2\)/,
        /lower max_completion_tokens to at most 995,/,
      ],
    ],
    ["the default completion reserve", 1_000, chat(10, 1_024), [
      /Requested 1034 \(about 10 prompt tokens \+ 1024 reserved by default when max_tokens is not set\)/,
      /set max_tokens to at most 990,/,
    ]],
    ["the prompt alone over the limit", 100, chat(150, 1_024), [
      /Limit 100, Requested 1174/,
      /the prompt alone leaves no room for a completion: shorten the prompt, or give the key a higher tpm\.$/,
    ]],
    ["a prompt that leaves no room for one token per choice", 100, chat(99, 5, { choices: 2 }), [
      /the prompt alone leaves no room/,
    ]],
    ["embeddings input over the limit", 2_000, { prompt: 3_000, completion: undefined }, [
      /Limit 2000, Requested 3000 \(about 3000 input tokens\)/,
      /the input alone is over the limit: shorten it \(or split it across requests\)/,
    ]],
  ];
  for (const [name, tpm, reservation, expected] of cases) {
    await t.step(name, () => {
      const error = neverFits("key_1", tpm, reservation);
      if (expected === undefined) return assert.equal(error, undefined);
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 429);
      assert.equal(error.type, "rate_limit_error");
      assert.equal(error.code, "rate_limit_exceeded");
      assert.deepEqual(error.headers, { "x-should-retry": "false" }, "no Retry-After");
      for (const pattern of expected) assert.match(error.message, pattern);
    });
  }
});

function limitsOf(spec: LimitSpec): RequestLimits {
  return { keyId: "key_1", spec, decision: undefined, reservedTokens: 0, decided: false };
}

/** What admit() must do with a reservation that can never fit, with either limiter. */
async function refusesWhatNeverFits(limiter: RateLimiter): Promise<void> {
  const spec = { rpm: 10, tpm: 1_000 };
  for (const remaining of [9, 8]) {
    const limits = limitsOf(spec);
    await assert.rejects(
      admit(limiter, limits, () => chat(10, 5_000, { setBy: "max_tokens" })),
      (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.headers["x-should-retry"], "false");
        assert.equal(error.headers["retry-after"], undefined);
        return true;
      },
    );
    // The x-ratelimit-* headers come from this decision: one request counted, no token taken.
    assert.deepEqual(limits.decision?.requests, {
      limit: 10,
      remaining,
      resetMs: 6_000 * (10 - remaining),
    });
    assert.deepEqual(limits.decision?.tokens, { limit: 1_000, remaining: 1_000, resetMs: 0 });
    assert.equal(limits.reservedTokens, 0);
    // The server counts failed requests; this one is counted already.
    await countRejected(limiter, limits);
  }
  const whole = await limiter.take("key_1", spec, { requests: 1, tokens: 1_000 });
  assert.equal(whole.allowed, true, "every token is still there");
  assert.equal(whole.requests?.remaining, 7, "each refused request counted once");
}

Deno.test("admit() with the in-process limiter: a reservation that never fits counts once and takes no tokens", async () => {
  await refusesWhatNeverFits(createMemoryLimiter({ now: () => FROZEN }));
});

Deno.test({
  name: "admit() through Redis: a reservation that never fits counts once and takes no tokens" +
    (HAS_REDIS ? "" : ` (${REDIS_SKIPPED})`),
  ignore: !HAS_REDIS,
  async fn() {
    await using redis = await startRedis();
    const now = () => FROZEN;
    const lines: string[] = [];
    const limiter = createRedisLimiter({
      url: redis.url,
      now,
      log: createLogger((line) => lines.push(line), now),
      fallback: createMemoryLimiter({ now }),
      timeoutMs: 2_000,
    });
    try {
      for (let i = 0; i < 500 && limiter.status() !== "ok"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(limiter.status(), "ok");
      await refusesWhatNeverFits(limiter);
      // Redis answered every call: the limiter never fell back to its in-process copy.
      assert.equal(limiter.status(), "ok");
      assert.deepEqual(lines.filter((line) => line.includes("Redis unavailable")), []);
    } finally {
      await limiter.close();
    }
  },
});
