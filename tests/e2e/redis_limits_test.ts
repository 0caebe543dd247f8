/**
 * Two gateway processes sharing one real `redis-server`: limits hold for both together; Redis
 * killed mid-run leaves each replica limiting on its own, from where the shared limit was
 * (health degraded, no 5xx); Redis back makes them shared again. Needs the Debian package
 * redis-server (`.ci/run` installs it).
 */
import assert from "node:assert/strict";
import { keyFileText, makeKey } from "../_helpers/keys.ts";
import { type Spawned, spawnGateway } from "../_helpers/process.ts";
import { parseExposition, sumOf } from "../_helpers/prometheus.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";

const available = await hasRedisServer();

async function chat(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "choreoai/echo", messages: [{ role: "user", content: "hi" }] }),
  });
  await response.body?.cancel();
  return response.status;
}

async function health(gateway: Spawned): Promise<string> {
  const response = await fetch(`${gateway.url}/health`);
  return (await response.json()).status;
}

Deno.test({
  name: available
    ? "two replicas share limits through Redis, and survive losing it"
    : `two replicas share limits through Redis (${REDIS_SKIPPED})`,
  ignore: !available,
  async fn() {
    await using redis = await startRedis();
    const dir = await Deno.makeTempDir({ prefix: "choreoai-redis-" });
    try {
      const key = makeKey({ rpm: 100 });
      const admin = makeKey({ role: "admin" });
      await Deno.writeTextFile(`${dir}/keys.json`, keyFileText([key.record, admin.record]));
      const metric = async (gateway: Spawned, name: string, labels = {}) => {
        const response = await fetch(`${gateway.url}/metrics`, {
          headers: { authorization: `Bearer ${admin.token}` },
        });
        return sumOf(parseExposition(await response.text()), name, labels);
      };
      const env = (name: string) => ({
        CHOREOAI_KEYS_FILE: `${dir}/keys.json`,
        CHOREOAI_DB: `${dir}/${name}.db`,
        CHOREOAI_REDIS_URL: redis.url,
      });
      await using a = await spawnGateway(env("a"));
      await using b = await spawnGateway(env("b"));
      // Each replica serves from its first second on; wait until both have reached Redis.
      for (let i = 0; i < 100 && (await health(a) !== "ok" || await health(b) !== "ok"); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await health(a), "ok");
      assert.equal(await health(b), "ok");

      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => chat(i % 2 === 0 ? a.url : b.url, key.token)),
      );
      const elapsedMs = performance.now() - started;
      const admitted = statuses.filter((s) => s === 200).length;
      const bound = 100 + Math.ceil((100 * elapsedMs) / 60_000);
      assert.ok(admitted >= 100 && admitted <= bound, `${admitted} admitted, bound ${bound}`);
      assert.equal(statuses.filter((s) => s === 429).length, 1_000 - admitted);
      const warned = [...a.errors, ...b.errors].join("");
      assert.ok(!warned.includes("Redis unavailable"), `a busy replica left Redis: ${warned}`);
      assert.equal(await metric(a, "choreoai_redis_fallback"), 0);
      assert.equal(
        (await metric(a, "choreoai_limit_refusals_total", { limit: "rate_limit" })) +
          (await metric(b, "choreoai_limit_refusals_total", { limit: "rate_limit" })),
        1_000 - admitted,
      );

      await redis.stop();
      const during = await Promise.all(
        Array.from({ length: 400 }, (_, i) => chat(i % 2 === 0 ? a.url : b.url, key.token)),
      );
      assert.ok(during.every((s) => s === 200 || s === 429), `statuses ${[...new Set(during)]}`);
      const admittedAlone = during.filter((s) => s === 200).length;
      // Each replica limits on its own, going on from the shared bucket as it last saw it (empty),
      // not from a full one: at most what refilled since, never a new allowance of 100 each.
      const refilled = Math.ceil((100 * (performance.now() - started)) / 60_000);
      assert.ok(admittedAlone <= 2 * (1 + refilled), `${admittedAlone} admitted without Redis`);
      assert.equal(await health(a), "degraded");
      assert.equal(await health(b), "degraded");
      assert.equal(await metric(b, "choreoai_redis_fallback"), 1);

      await redis.restart();
      let status = "degraded";
      for (let i = 0; i < 100 && status !== "ok"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await health(a);
      }
      assert.equal(status, "ok", "shared again once Redis is back");
      assert.equal(await metric(a, "choreoai_redis_fallback"), 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
