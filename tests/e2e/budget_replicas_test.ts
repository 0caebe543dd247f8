/**
 * The figure of issue 17 with real gateway processes: two replicas (`main.ts`) on one real
 * `redis-server`, 1,000 concurrent requests of known cost through the official OpenAI client
 * against a budget that fits exactly 100: exactly 100 served, the rest 429
 * `insufficient_quota`, and the spend the two usage databases record (`cost_usd`) equal to the
 * budget to the cent, in 20 runs out of 20.
 *
 * The gateways take their prices from the routing file's `"prices"` of the target, which win
 * over the package's (input free, output 1,000 USD per Mtok; `max_tokens: 10` and a provider
 * answering exactly 10 completion tokens make worst case = real cost = $0.01).
 * `budget_figure_test.ts` is the same figure in process.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import OpenAI from "openai";
import { createClient } from "redis";
import { budgetAccount } from "../../src/spend/budget.ts";
import { budgetKey } from "../../src/spend/redis_ledger.ts";
import { answerMaxTokens, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { type Spawned, spawnGateway } from "../_helpers/process.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";

const RUNS = 20;
const REQUESTS = 1_000;
const MAX_TOKENS = 10;
const BUDGET_USD = 1;
const FITS = 100;

const ROUTING_FILE = {
  models: {
    metered: {
      targets: [{
        provider: "openai",
        model: "gpt-4o",
        prices: { input_per_mtok: 0, output_per_mtok: 1_000 },
      }],
    },
  },
};

const HAS_REDIS = await hasRedisServer();

/** Requests and spend the usage database at `path` records for a key. */
function recorded(path: string, keyId: string): { requests: number; usd: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare(
      "SELECT COUNT(*) AS requests, COALESCE(SUM(cost_usd), 0) AS usd FROM requests WHERE key_id = ?",
    ).get(keyId);
    return { requests: Number(row?.requests ?? 0), usd: Number(row?.usd ?? 0) };
  } finally {
    db.close();
  }
}

async function health(gateway: Spawned): Promise<string> {
  const response = await fetch(`${gateway.url}/health`);
  return (await response.json()).status;
}

Deno.test({
  name: HAS_REDIS
    ? "two gateway processes on one Redis: a budget for 100 of 1,000 requests, exactly 100 served and recorded, 20 runs of 20"
    : `two gateway processes on one Redis: exactly 100 served of 1,000 (${REDIS_SKIPPED})`,
  ignore: !HAS_REDIS,
  async fn() {
    const started = performance.now();
    await using redis = await startRedis();
    await using upstream = startFakeOpenAI({ onChat: answerMaxTokens });
    const dir = await Deno.makeTempDir({ prefix: "choreoai-budget-replicas-" });
    try {
      const keys = Array.from(
        { length: RUNS },
        () => makeKey({ budget: { usd: BUDGET_USD, period: "month" } }),
      );
      await Deno.writeTextFile(`${dir}/keys.json`, keyFileText(keys.map((key) => key.record)));
      await Deno.writeTextFile(`${dir}/routing.json`, JSON.stringify(ROUTING_FILE));
      const env = (name: string) => ({
        CHOREOAI_KEYS_FILE: `${dir}/keys.json`,
        CHOREOAI_CONFIG: `${dir}/routing.json`,
        CHOREOAI_DB: `${dir}/${name}.db`,
        CHOREOAI_REDIS_URL: redis.url,
        OPENAI_API_KEY: PROVIDER_KEY,
        OPENAI_BASE_URL: upstream.baseUrl,
      });
      await using a = await spawnGateway(env("a"));
      await using b = await spawnGateway(env("b"));
      for (let i = 0; i < 100 && (await health(a) !== "ok" || await health(b) !== "ok"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(await health(a), "ok");
      assert.equal(await health(b), "ok");
      const admin = createClient({ url: redis.url });
      await admin.connect();
      try {
        for (const [run, key] of keys.entries()) {
          const clients = [a, b].map((gateway) =>
            new OpenAI({ apiKey: key.token, baseURL: `${gateway.url}/v1`, maxRetries: 0 })
          );
          const statuses = await Promise.all(
            Array.from({ length: REQUESTS }, async (_, i) => {
              try {
                await clients[i % 2]?.chat.completions.create({
                  model: "metered",
                  messages: [{ role: "user", content: `request ${i}` }],
                  max_tokens: MAX_TOKENS,
                });
                return "served";
              } catch (error) {
                assert.ok(error instanceof OpenAI.APIError, String(error));
                return `${error.status} ${error.code}`;
              }
            }),
          );
          const served = statuses.filter((s) => s === "served").length;
          const counts = new Map<string, number>();
          for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
          const label = `run ${run + 1}: ${JSON.stringify(Object.fromEntries(counts))}`;
          assert.equal(served, FITS, label);
          assert.equal(
            statuses.filter((s) => s === "429 insufficient_quota").length,
            REQUESTS - FITS,
            label,
          );
          const account = budgetAccount(
            { id: key.record.id, keyIds: [key.record.id] },
            { usd: BUDGET_USD, period: "month" },
            Date.now(),
          );
          assert.equal(Number(await admin.get(budgetKey(account))), BUDGET_USD * 1_000_000, label);
          // Every request finished: its access log line is written with its usage record.
          const logged = () =>
            [...a.lines, ...b.lines].filter((line) =>
              line.includes('"msg":"request"') && line.includes(`"key":"${key.record.id}"`)
            ).length;
          for (let wait = 0; wait < 200 && logged() < REQUESTS; wait++) {
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          assert.equal(logged(), REQUESTS, `${label}: every request finished`);
        }
      } finally {
        admin.destroy();
      }
      // Usage records are written in batches, and flushed when a gateway stops: stop both
      // (SIGTERM, as a process manager does), then read what they recorded.
      const warned = [...a.errors, ...b.errors, ...a.lines, ...b.lines]
        .filter((line) => /Redis unavailable|"level":"error"/.test(line));
      assert.deepEqual(warned, [], "no replica fell back or failed");
      for (const gateway of [a, b]) gateway.process.kill("SIGTERM");
      assert.deepEqual((await Promise.all([a.exited, b.exited])).map((s) => s.code), [0, 0]);
      const spend = keys.map((key) => {
        const [ra, rb] = [
          recorded(`${dir}/a.db`, key.record.id),
          recorded(`${dir}/b.db`, key.record.id),
        ];
        return { requests: ra.requests + rb.requests, usd: ra.usd + rb.usd };
      });
      for (const [run, { requests, usd }] of spend.entries()) {
        const label = `run ${run + 1}: ${requests} recorded, $${usd}`;
        assert.equal(requests, REQUESTS, label);
        assert.equal(Math.round(usd * 100), BUDGET_USD * 100, `${label}: spend to the cent`);
        assert.equal(Math.round(usd * 1_000_000), BUDGET_USD * 1_000_000, label);
      }
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 60_000, `20 runs took ${Math.round(elapsed)} ms`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
