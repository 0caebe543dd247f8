// deno-lint-ignore-file no-console -- the figures of the issue are printed for the CI log
/**
 * Issue 18 with real processes: two gateway replicas (`main.ts`) sharing one real PostgreSQL
 * (CHOREOAI_DATABASE_URL, the key list in it: no key file) and one real `redis-server`.
 *
 * - They start together, both migrating the empty database (one applies, the other waits).
 * - A key created with `choreoai keys create` is accepted by both within 1 s, and refused by
 *   both within 1 s of `choreoai keys revoke`; a key created through one replica's admin API is
 *   accepted by the other within 1 s, and revoked through the other, refused by the first.
 * - `choreoai usage` (a third process) shows the requests of both replicas.
 * - A 30-second database outage under 200 requests a second loses no usage record: every
 *   request is answered, `/health` says `degraded` during the outage and `ok` after, the last
 *   good key list keeps being enforced (a revoked key stays refused), and once PostgreSQL is
 *   back every request is in the database exactly once.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { connectDatabase } from "../../src/db/connect.ts";
import { PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { hasPostgres, POSTGRES_SKIPPED, startPostgres } from "../_helpers/postgres.ts";
import { run, type Spawned, spawnGateway } from "../_helpers/process.ts";
import { hasRedisServer, REDIS_SKIPPED, startRedis } from "../_helpers/redis.ts";

const HAS_POSTGRES = await hasPostgres();
const HAS_REDIS = await hasRedisServer();
const SKIPPED = !HAS_POSTGRES ? POSTGRES_SKIPPED : !HAS_REDIS ? REDIS_SKIPPED : undefined;

async function health(gateway: Spawned): Promise<string> {
  const response = await fetch(`${gateway.url}/health`);
  return (await response.json()).status;
}

/** The status a gateway answers `GET /v1/models` with for `token`. */
async function statusFor(gateway: Spawned, token: string): Promise<number> {
  const response = await fetch(`${gateway.url}/v1/models`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

/** Milliseconds until every gateway answers `token` with `status` (polled every 10 ms). */
async function msUntil(
  gateways: readonly Spawned[],
  token: string,
  status: number,
  limitMs = 5_000,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    const statuses = await Promise.all(gateways.map((g) => statusFor(g, token)));
    if (statuses.every((s) => s === status)) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Number.POSITIVE_INFINITY;
}

async function waitFor(check: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return await check();
}

Deno.test({
  name: SKIPPED === undefined
    ? "two replicas on one PostgreSQL and one Redis: keys in force within 1 s, shared usage, a 30 s database outage at 200 req/s loses 0 records"
    : `two replicas on one PostgreSQL and one Redis (${SKIPPED})`,
  ignore: SKIPPED !== undefined,
}, async (t) => {
  await using pg = await startPostgres();
  await using redis = await startRedis();
  await using upstream = startFakeOpenAI();
  const env = {
    CHOREOAI_ENV: "production",
    CHOREOAI_DATABASE_URL: pg.url,
    CHOREOAI_REDIS_URL: redis.url,
    OPENAI_API_KEY: PROVIDER_KEY,
    OPENAI_BASE_URL: upstream.baseUrl,
  };
  const cli = async (args: string[]) => {
    const result = await run(args, env);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return result;
  };
  // Both start at once on an empty database: each migrates under the advisory lock.
  const [a, b] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
  await using _a = a;
  await using _b = b;
  const gateways = [a, b];
  const sql = connectDatabase(pg.url);
  try {
    await t.step("both started on the migrated database, healthy", async () => {
      const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM schema_migrations`;
      assert.ok((row?.n ?? 0) >= 1);
      assert.deepEqual(await Promise.all(gateways.map(health)), ["ok", "ok"]);
    });

    let token = "";
    let keyId = "";
    await t.step("a key created with the CLI is accepted by both replicas within 1 s", async () => {
      const created = JSON.parse(
        (await cli(["keys", "create", "--name", "replicated", "--json"])).stdout,
      );
      token = created.key;
      keyId = created.id;
      const took = await msUntil(gateways, token, 200);
      assert.ok(took < 1_000, `accepted by both after ${Math.round(took)} ms`);
      console.log(`figure: a created key accepted by both replicas after ${Math.round(took)} ms`);
    });

    const perReplica = 5;
    await t.step("requests through both replicas; choreoai usage shows them all", async () => {
      for (const gateway of gateways) {
        const client = new OpenAI({ apiKey: token, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
        for (let i = 0; i < perReplica; i++) {
          const answer = await client.chat.completions.create({
            model: "gpt-4o-mini",
            messages: [{ role: "user", content: `hello ${i}` }],
          });
          assert.equal(answer.object, "chat.completion");
        }
      }
      const chatRequests = async () => {
        const usage = JSON.parse((await cli(["usage", "--key", keyId, "--json"])).stdout);
        return usage.rows
          .filter((row: { model: string }) => row.model === "gpt-4o-mini")
          .reduce((sum: number, row: { requests: number }) => sum + row.requests, 0);
      };
      assert.ok(await waitFor(async () => await chatRequests() === 2 * perReplica, 5_000));
      const list = JSON.parse((await cli(["keys", "list", "--json"])).stdout);
      const view = list.find((k: { id: string }) => k.id === keyId);
      assert.ok(view?.last_used_at, "keys list shows when the key was last used");
    });

    let revoked = "";
    await t.step("a revoked key is refused by both replicas within 1 s", async () => {
      const other = JSON.parse(
        (await cli(["keys", "create", "--name", "to revoke", "--json"])).stdout,
      );
      assert.ok(await msUntil(gateways, other.key, 200) < 1_000);
      await cli(["keys", "revoke", other.id]);
      const took = await msUntil(gateways, other.key, 401);
      assert.ok(took < 1_000, `refused by both after ${Math.round(took)} ms`);
      console.log(`figure: a revoked key refused by both replicas after ${Math.round(took)} ms`);
      revoked = other.key;
    });

    await t.step(
      "a key created through one replica's admin API works on the other within 1 s, and is revoked through the other",
      async () => {
        const admin = JSON.parse(
          (await cli(["keys", "create", "--name", "ops", "--admin", "--json"])).stdout,
        );
        assert.ok(await msUntil(gateways, admin.key, 200) < 1_000);
        const call = async (gateway: Spawned, method: string, path: string, body?: unknown) => {
          const response = await fetch(`${gateway.url}/admin/api/${path}`, {
            method,
            headers: {
              authorization: `Bearer ${admin.key}`,
              ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
          return { status: response.status, json: await response.json() };
        };
        const created = await call(a, "POST", "keys", { name: "made on a" });
        assert.equal(created.status, 201, JSON.stringify(created.json));
        const accepted = await msUntil([b], created.json.secret, 200);
        assert.ok(
          accepted < 1_000,
          `accepted by the other replica after ${Math.round(accepted)} ms`,
        );
        const revokedThere = await call(b, "POST", `keys/${created.json.key.id}/revoke`);
        assert.equal(revokedThere.status, 200, JSON.stringify(revokedThere.json));
        const refused = await msUntil([a], created.json.secret, 401);
        assert.ok(refused < 1_000, `refused by the first replica after ${Math.round(refused)} ms`);
        console.log(
          `figure: a key made through replica a's admin API accepted by b after ` +
            `${Math.round(accepted)} ms; revoked through b, refused by a after ${
              Math.round(refused)
            } ms`,
        );
      },
    );

    await t.step("a 30 s database outage at 200 req/s: all answered, 0 records lost", async () => {
      const [before] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM requests WHERE key_id = ${keyId}`;
      const statuses = new Map<number, number>();
      let sent = 0;
      const inFlight = new Set<Promise<void>>();
      const fire = (gateway: Spawned) => {
        sent++;
        const request = fetch(`${gateway.url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "gpt-4o-mini",
            messages: [{ role: "user", content: `load ${sent}` }],
          }),
        }).then(async (response) => {
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }, () => void statuses.set(0, (statuses.get(0) ?? 0) + 1));
        const tracked = request.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      };
      // 200 requests a second, alternating replicas, for 2 s + 30 s outage + 2 s.
      const RATE = 200;
      const started = performance.now();
      let outage: "before" | "during" | "after" = "before";
      let degradedSeen = false;
      let revokedDuringOutage = 0;
      while (performance.now() - started < 34_000) {
        const elapsed = performance.now() - started;
        while (sent < (elapsed / 1000) * RATE && inFlight.size < 256) {
          fire(gateways[sent % 2] as Spawned);
        }
        if (outage === "before" && elapsed >= 2_000) {
          outage = "during";
          await pg.stop();
        } else if (outage === "during" && elapsed >= 32_000) {
          outage = "after";
          await pg.restart();
        }
        if (outage === "during" && elapsed > 10_000 && !degradedSeen) {
          degradedSeen = (await Promise.all(gateways.map(health))).every((s) => s === "degraded");
          revokedDuringOutage = await statusFor(a, revoked);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await Promise.all(inFlight);
      assert.deepEqual(Object.fromEntries(statuses), { 200: sent }, "every request answered");
      assert.ok(sent >= 6_000, `${sent} requests sent`);
      assert.ok(degradedSeen, "/health said degraded on both replicas during the outage");
      assert.equal(revokedDuringOutage, 401, "the revoked key stayed refused during the outage");
      const recorded = async () => {
        const [row] = await sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM requests WHERE key_id = ${keyId}`;
        return (row?.n ?? 0) - (before?.n ?? 0);
      };
      const back = performance.now();
      assert.ok(await waitFor(async () => await recorded() >= sent, 30_000));
      const catchUp = performance.now() - back;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(await recorded(), sent, "every request recorded exactly once");
      console.log(
        `figure: 30 s database outage, ${sent} requests at ${RATE}/s: all 200, ` +
          `${sent} recorded exactly once, ${Math.round(catchUp)} ms after the load ended`,
      );
      const [stats] = await sql<{ requests: number }[]>`
        SELECT requests::int FROM key_stats WHERE key_id = ${keyId}`;
      assert.equal(stats?.requests, (before?.n ?? 0) + sent, "key_stats counted each once");
      assert.ok(
        await waitFor(
          async () => (await Promise.all(gateways.map(health))).every((s) => s === "ok"),
          15_000,
        ),
      );
      // Errors go to stderr.
      const lines = [...a.lines, ...b.lines, ...a.errors, ...b.errors].flatMap((text) =>
        text.split("\n")
      );
      assert.ok(
        lines.some((line) => line.includes("cannot read the key list from the database")),
        lines.filter((line) => !line.includes('"msg":"request"')).join("\n"),
      );
      assert.ok(!lines.some((line) => line.includes("dropped")), "no record dropped");
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
});
