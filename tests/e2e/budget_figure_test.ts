/**
 * The figure of issue 17, in process: two gateway handlers (two replicas, each with its own
 * Redis link and in-process fallback) on one real `redis-server`, 1,000 concurrent requests of
 * known cost through the official OpenAI client against a budget that fits exactly 100 of
 * them: exactly 100 served, the other 900 refused with 429 `insufficient_quota`, and the spend
 * recorded equal to the budget to the cent, in 20 runs out of 20.
 *
 * "Known cost" is exact: the routing file prices gpt-4o's input at 0 and its output at 1,000 USD
 * per Mtok (1,000 µ$ a token), every request sets `max_tokens: 10` and the fake provider answers
 * exactly 10 completion tokens, so a request's worst case and its real cost are both $0.01, and
 * $1.00 fits 100. Each replica prices with the gateway's own pricing (`createPricing`).
 * `budget_replicas_test.ts` is the same figure with two real gateway processes.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createLogger } from "../../src/log.ts";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { parseKeyFile } from "../../src/keys/key_file.ts";
import { createRedisLink } from "../../src/redis/link.ts";
import { createMemoryLedger } from "../../src/spend/ledger.ts";
import { budgetKey, createRedisLedger } from "../../src/spend/redis_ledger.ts";
import { budgetAccount } from "../../src/spend/budget.ts";
import { createPricing } from "../../src/spend/create_pricing.ts";
import type { UsageRecord } from "../../src/usage/store.ts";
import { createClient } from "redis";
import { answerMaxTokens, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { startGateway } from "../_helpers/gateway.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";

const HAS_REDIS = await hasRedisServer();

const RUNS = 20;
const REQUESTS = 1_000;
const MAX_TOKENS = 10;
/** µ$ a completion token: 1,000 USD per Mtok. A request costs 10,000 µ$ = $0.01. */
const OUTPUT_PER_MTOK = 1_000;
const BUDGET_USD = 1;
const FITS = 100;

/** The routing file's prices for gpt-4o, which win over the package's. */
const ROUTING_FILE = {
  models: {
    "gpt-4o": {
      targets: [{
        provider: "openai",
        model: "gpt-4o",
        prices: { input_per_mtok: 0, output_per_mtok: OUTPUT_PER_MTOK },
      }],
    },
  },
};

/** The spend a replica's usage records add up to for a key (their `cost_usd`), in micro-USD. */
function recordedSpend(records: readonly UsageRecord[], keyId: string): number {
  return records
    .filter((record) => record.key_id === keyId)
    .reduce((sum, record) => sum + Math.round((record.cost_usd ?? 0) * 1_000_000), 0);
}

Deno.test({
  name: HAS_REDIS
    ? "two replicas on one Redis: 1,000 concurrent requests, a budget for 100, exactly 100 served, 20 runs of 20"
    : `two replicas on one Redis: exactly 100 served of 1,000 (${REDIS_SKIPPED})`,
  ignore: !HAS_REDIS,
  async fn() {
    const started = performance.now();
    await using redis = await startRedis();
    await using upstream = startFakeOpenAI({ onChat: answerMaxTokens });
    const keys = Array.from(
      { length: RUNS },
      () => makeKey({ budget: { usd: BUDGET_USD, period: "month" } }),
    );
    const index = compileKeyIndex(parseKeyFile(keyFileText(keys.map((key) => key.record))));
    const now = () => performance.timeOrigin + performance.now();

    /** One replica: its own link, fallback ledger and usage records, as a process has. */
    const replica = () => {
      const warnings: string[] = [];
      const log = createLogger((line) => {
        const parsed = JSON.parse(line);
        if (parsed.level === "warn" || parsed.level === "error") warnings.push(parsed.msg);
      }, now);
      const link = createRedisLink({ url: redis.url, now, log, serves: "budgets" });
      const ledger = createRedisLedger({
        link,
        fallback: createMemoryLedger({ recorded: () => 0, now }),
        recorded: () => 0,
      });
      const records: UsageRecord[] = [];
      const gateway = startGateway({
        env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
        routingFile: ROUTING_FILE,
        verifier: createKeyListVerifier(() => index),
        usage: { record: (entry) => void records.push(entry) },
        ledger,
        pricing: createPricing({ now }),
      });
      return {
        link,
        records,
        warnings,
        gateway,
        async [Symbol.asyncDispose]() {
          await gateway[Symbol.asyncDispose]();
          await link.close();
        },
      };
    };
    await using a = replica();
    await using b = replica();
    while (a.link.status() !== "ok" || b.link.status() !== "ok") {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      const results: string[] = [];
      for (const [run, key] of keys.entries()) {
        const clients = [a, b].map((r) =>
          new OpenAI({ apiKey: key.token, baseURL: `${r.gateway.url}/v1`, maxRetries: 0 })
        );
        const upstreamBefore = upstream.requests.length;
        const outcomes = await Promise.all(
          Array.from({ length: REQUESTS }, async (_, i) => {
            try {
              const { response } = await clients[i % 2]?.chat.completions
                .create({
                  model: "gpt-4o",
                  messages: [{ role: "user", content: `request ${i}` }],
                  max_tokens: MAX_TOKENS,
                })
                .withResponse() ?? assert.fail();
              return { status: 200, cost: response.headers.get("x-choreoai-cost-usd") };
            } catch (error) {
              assert.ok(error instanceof OpenAI.APIError, String(error));
              return { status: error.status, code: error.code, cost: null };
            }
          }),
        );
        const served = outcomes.filter((o) => o.status === 200);
        const refused = outcomes.filter((o) =>
          o.status === 429 && "code" in o && o.code === "insufficient_quota"
        );
        const account = budgetAccount(
          { id: key.record.id, keyIds: [key.record.id] },
          { usd: BUDGET_USD, period: "month" },
          now(),
        );
        const counter = Number(await admin.get(budgetKey(account)));
        const recorded = recordedSpend(a.records, key.record.id) +
          recordedSpend(b.records, key.record.id);
        const charged = served.reduce((sum, o) => sum + Number(o.cost), 0);
        results.push(
          `run ${run + 1}: ${served.length} served, ${refused.length} refused, counter ` +
            `${counter} µ$, recorded ${recorded} µ$`,
        );
        assert.equal(served.length, FITS, results.at(-1));
        assert.equal(refused.length, REQUESTS - FITS, results.at(-1));
        assert.equal(upstream.requests.length - upstreamBefore, FITS, "refusals never go upstream");
        assert.equal(counter, BUDGET_USD * 1_000_000, "the shared counter holds the budget");
        assert.equal(recorded, BUDGET_USD * 1_000_000, "recorded spend = budget, to the µ$");
        assert.equal(
          Math.round(charged * 100),
          BUDGET_USD * 100,
          "costs charged = budget, to the cent",
        );
      }
      assert.deepEqual([...a.warnings, ...b.warnings], [], "no replica fell back or failed");
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 60_000, `20 runs took ${Math.round(elapsed)} ms`);
    } finally {
      admin.destroy();
    }
  },
});
