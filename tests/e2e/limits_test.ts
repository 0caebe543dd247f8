/**
 * Per-key rate limits end to end (in process): exact admission under a concurrent burst, OpenAI's
 * headers, 429s that never reach an upstream, token reservations reconciled with real usage, and
 * requests too large for a key's tpm that no client retries.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createKeyListVerifier } from "../../src/keys/verify.ts";
import { compileKeyIndex } from "../../src/keys/verify.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { createMemoryLimiter } from "../../src/limits/mod.ts";
import type { KeyRecord } from "../../src/keys/key_file.ts";
import { startGateway, type TestGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";

/** The parts of an answer these tests read (an error, when there is one). */
interface ErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly code: string };
}

const now = () => performance.timeOrigin + performance.now();

function gatewayWith(records: KeyRecord[], env: Record<string, string> = {}): TestGateway {
  const index = compileKeyIndex(parseKeyFile(keyFileText(records)));
  return startGateway({
    env,
    verifier: createKeyListVerifier(() => index),
    limiter: createMemoryLimiter({ now }),
  });
}

async function chat(
  gateway: TestGateway,
  token: string,
  body: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; body: ErrorBody }> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "choreoai/echo",
      messages: [{ role: "user", content: "hi" }],
      ...body,
    }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("1,000 concurrent requests on a 100 rpm key: 100 admitted plus what refilled, no more", async () => {
  await using upstream = startFakeOpenAI();
  const key = makeKey({ rpm: 100 });
  await using gateway = gatewayWith([key.record], {
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
  });
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: 1_000 }, () => chat(gateway, key.token, { model: "gpt-4o" })),
  );
  const elapsedMs = performance.now() - started;
  const admitted = results.filter((r) => r.status === 200).length;
  const refilled = Math.ceil((100 * elapsedMs) / 60_000);
  assert.ok(admitted >= 100, `only ${admitted} admitted`);
  assert.ok(admitted <= 100 + refilled, `${admitted} admitted in ${elapsedMs} ms`);
  assert.equal(results.filter((r) => r.status === 429).length, 1_000 - admitted);
  assert.equal(upstream.requests.length, admitted, "a refused request never reaches the upstream");
  const refused = results.find((r) => r.status === 429);
  assert.ok(refused);
  assert.equal(refused.body.error.type, "rate_limit_error");
  assert.equal(refused.body.error.code, "rate_limit_exceeded");
  assert.match(refused.body.error.message, /Limit 100, Used 100, Requested 1/);
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  assert.equal(refused.headers.get("x-ratelimit-limit-requests"), "100");
  assert.equal(refused.headers.get("x-ratelimit-remaining-requests"), "0");
  assert.match(refused.headers.get("x-ratelimit-reset-requests") ?? "", /^\d+(ms|s)$|^\d+m\d+s$/);
});

Deno.test("x-ratelimit-remaining moves with every request, failed ones included", async () => {
  await using upstream = startFakeOpenAI({
    onChat: () =>
      Response.json({ error: { message: "boom", type: "server_error", param: null, code: null } }, {
        status: 500,
      }),
  });
  const key = makeKey({ rpm: 10 });
  await using gateway = gatewayWith([key.record], {
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
  });
  const remaining: string[] = [];
  for (let i = 0; i < 3; i++) {
    const ok = await chat(gateway, key.token);
    assert.equal(ok.status, 200);
    remaining.push(ok.headers.get("x-ratelimit-remaining-requests") ?? "");
  }
  const failed = await chat(gateway, key.token, { model: "gpt-4o" });
  assert.equal(failed.status, 502);
  assert.equal(
    failed.headers.get("x-ratelimit-remaining-requests"),
    "6",
    "a failed request counts",
  );
  const invalid = await chat(gateway, key.token, { messages: [] });
  assert.equal(invalid.status, 400);
  assert.equal(
    invalid.headers.get("x-ratelimit-remaining-requests"),
    "5",
    "an invalid request counts",
  );
  assert.deepEqual(remaining, ["9", "8", "7"]);
});

Deno.test("token limits: reserve before the call, refuse what cannot fit, reconcile with usage", async (t) => {
  await using upstream = startFakeOpenAI(); // reports total_tokens 15
  const key = makeKey({ tpm: 2_000 });
  await using gateway = gatewayWith([key.record], {
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
  });
  await t.step(
    "a request whose reservation can never fit is refused before any upstream call",
    async () => {
      const result = await chat(gateway, key.token, { model: "gpt-4o", max_tokens: 5_000 });
      assert.equal(result.status, 429);
      assert.equal(result.body.error.code, "rate_limit_exceeded");
      assert.match(
        result.body.error.message,
        /^Request too large for key \S+ on tokens per min \(TPM\): Limit 2000, Requested \d+ .*never fit.*lower max_tokens to at most \d+, shorten the prompt, or give the key a higher tpm\.$/,
      );
      assert.equal(result.headers.get("retry-after"), null, "no wait makes it fit");
      assert.equal(result.headers.get("x-should-retry"), "false");
      assert.equal(result.headers.get("x-ratelimit-limit-tokens"), "2000");
      assert.equal(result.headers.get("x-ratelimit-remaining-tokens"), "2000", "no token taken");
      assert.equal(upstream.requests.length, 0);
    },
  );
  await t.step("an admitted request gives back what it did not use", async () => {
    const result = await chat(gateway, key.token, { model: "gpt-4o", max_tokens: 1_000 });
    assert.equal(result.status, 200);
    assert.equal(result.headers.get("x-ratelimit-limit-tokens"), "2000");
    const afterReserve = Number(result.headers.get("x-ratelimit-remaining-tokens"));
    assert.ok(afterReserve <= 1_000, String(afterReserve));
    await new Promise((r) => setTimeout(r, 20)); // reconciliation runs when the answer is sent
    const next = await chat(gateway, key.token, { model: "gpt-4o", max_tokens: 1 });
    assert.equal(next.status, 200);
    const remaining = Number(next.headers.get("x-ratelimit-remaining-tokens"));
    // 2,000 − 15 used − the new reservation (prompt estimate + 1), give or take refill.
    assert.ok(
      remaining > 1_900,
      `only ${remaining} tokens left: the reservation was not reconciled`,
    );
  });
  await t.step("a stream's reservation is settled with the usage it reported", async () => {
    const streamKey = makeKey({ tpm: 2_000 });
    await using streaming = gatewayWith([streamKey.record], {
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: upstream.baseUrl,
    });
    const response = await fetch(`${streaming.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${streamKey.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "gpt-4o",
        stream: true,
        max_tokens: 1_500,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assert.ok(Number(response.headers.get("x-ratelimit-remaining-tokens")) <= 500);
    assert.match(await response.text(), /\[DONE\]/);
    await new Promise((r) => setTimeout(r, 20));
    const next = await chat(streaming, streamKey.token, { model: "gpt-4o", max_tokens: 1 });
    // The fake upstream's stream reports 9 + 4 tokens: the rest of the 1,500 came back.
    assert.ok(Number(next.headers.get("x-ratelimit-remaining-tokens")) > 1_900);
  });
  await t.step(
    "tokens run out while a reservation is in flight: 429 with Retry-After",
    async () => {
      const gate = Promise.withResolvers<void>();
      await using slow = startFakeOpenAI({
        onChat: async () => {
          await gate.promise;
          return undefined;
        },
      });
      const other = makeKey({ tpm: 2_000 });
      await using limited = gatewayWith([other.record], {
        OPENAI_API_KEY: PROVIDER_KEY,
        OPENAI_BASE_URL: slow.baseUrl,
      });
      const first = chat(limited, other.token, { model: "gpt-4o", max_tokens: 1_900 });
      while (slow.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      const second = await chat(limited, other.token, { model: "gpt-4o", max_tokens: 1_900 });
      gate.resolve();
      assert.equal((await first).status, 200);
      assert.equal(second.status, 429);
      assert.match(second.body.error.message, /tokens per min \(TPM\): Limit 2000/);
      assert.ok(Number(second.headers.get("retry-after")) >= 1);
      assert.equal(second.headers.get("x-ratelimit-limit-tokens"), "2000");
      assert.equal(slow.requests.length, 1, "the refused request never reached the upstream");
    },
  );
});

/** A fetch that counts the requests an SDK sends, then sends them. */
function countingFetch(): { fetch: typeof fetch; readonly count: () => number } {
  let sent = 0;
  return {
    fetch: (input, init) => {
      sent += 1;
      return fetch(input, init);
    },
    count: () => sent,
  };
}

Deno.test("a request too large for the key's tpm: the openai SDK does not retry it, it counts once and takes no tokens", async (t) => {
  await using upstream = startFakeOpenAI();
  const key = makeKey({ rpm: 10, tpm: 2_000 });
  await using gateway = gatewayWith([key.record], {
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
  });
  const tooLarge = {
    model: "gpt-4o",
    messages: [{ role: "user" as const, content: "hi" }],
    max_tokens: 5_000,
  };
  const counter = countingFetch();
  const client = (maxRetries?: number) =>
    new OpenAI({
      apiKey: key.token,
      baseURL: `${gateway.url}/v1`,
      fetch: counter.fetch,
      ...(maxRetries === undefined ? {} : { maxRetries }),
    });
  const refused = (remaining: string) => (error: unknown) => {
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.code, "rate_limit_exceeded");
    assert.match(error.message, /never fit/);
    assert.equal(error.headers.get("retry-after"), null);
    assert.equal(error.headers.get("x-should-retry"), "false");
    assert.equal(error.headers.get("x-ratelimit-remaining-requests"), remaining);
    assert.equal(error.headers.get("x-ratelimit-remaining-tokens"), "2000");
    return true;
  };

  await t.step("maxRetries: 0", async () => {
    await assert.rejects(client(0).chat.completions.create(tooLarge), refused("9"));
    assert.equal(counter.count(), 1);
  });
  await t.step("a default client (maxRetries 2) sends it once", async () => {
    await assert.rejects(client().chat.completions.create(tooLarge), refused("8"));
    assert.equal(counter.count(), 2, "the SDK did not retry");
  });
  await t.step("embeddings whose input alone is over the tpm", async () => {
    await assert.rejects(
      client().embeddings.create({ model: "choreoai/echo", input: "word ".repeat(2_500) }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        assert.match(error.message, /the input alone is over the limit/);
        assert.equal(error.headers.get("x-should-retry"), "false");
        assert.equal(error.headers.get("x-ratelimit-remaining-requests"), "7");
        return true;
      },
    );
    assert.equal(counter.count(), 3, "the SDK did not retry");
  });
  await t.step("what fits still passes, with every token there", async () => {
    const { data, response } = await client(0).chat.completions
      .create({ ...tooLarge, max_tokens: 1_000 })
      .withResponse();
    assert.equal(data.object, "chat.completion");
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "6");
    // 2,000 less this reservation (1,000 + a prompt of a few tokens): nothing was taken before.
    const tokens = Number(response.headers.get("x-ratelimit-remaining-tokens"));
    assert.ok(tokens >= 980 && tokens < 1_000, String(tokens));
    assert.equal(counter.count(), 4);
  });
  assert.equal(upstream.requests.length, 1, "only the request that fits reached the upstream");
});

Deno.test("CHOREOAI_DEFAULT_RPM limits keys that set none, development mode included", async () => {
  await using gateway = startGateway({
    env: { CHOREOAI_DEFAULT_RPM: "2" },
    limiter: createMemoryLimiter({ now }),
  });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await chat(gateway, "any-dev-key")).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  const models = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: "Bearer any-dev-key" },
  });
  assert.equal(models.status, 200, "listing models is not a limited endpoint");
  await models.body?.cancel();
});

Deno.test("a key without limits gets no rate-limit headers", async () => {
  const key = makeKey();
  await using gateway = gatewayWith([key.record]);
  const result = await chat(gateway, key.token);
  assert.equal(result.status, 200);
  assert.equal(result.headers.get("x-ratelimit-limit-requests"), null);
});
