/**
 * The admin API's usage pages from known traffic through the official `openai` client: exact
 * request, error, token and cost totals (routing-file prices, so every micro-dollar is known),
 * series that add up, top keys and models, usage by key and by model, filters, and the CSV export.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { createPricing } from "../../src/spend/create_pricing.ts";
import { startAdminGateway } from "../_helpers/admin.ts";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { eventually } from "../_helpers/usage_records.ts";

/** Input 2 USD and output 10 USD per Mtok for gpt-4o; 1 and 4 for gpt-4o-mini. */
const ROUTING_FILE = {
  models: {
    "gpt-4o": {
      targets: [{ provider: "openai", model: "gpt-4o" }],
      prices: { input_per_mtok: 2, output_per_mtok: 10 },
    },
    "gpt-4o-mini": {
      targets: [{ provider: "openai", model: "gpt-4o-mini" }],
      prices: { input_per_mtok: 1, output_per_mtok: 4 },
    },
  },
};
/** Every answer: 9 prompt and 20 completion tokens. */
const USAGE = { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 };
/** 9 × 2 + 20 × 10 micro-dollars; 9 × 1 + 20 × 4. */
const GPT_4O_COST = 0.000218;
const MINI_COST = 0.000089;

function chat(client: OpenAI, model: string, content = "Hello") {
  return client.chat.completions.create({ model, messages: [{ role: "user", content }] });
}

Deno.test("admin API: overview and usage from known traffic", async (t) => {
  await using upstream = startFakeOpenAI({
    onChat: (body) => {
      const messages = body.messages as Array<{ content: string }>;
      if (messages[0]?.content === "fail") {
        return Response.json({ error: { message: "boom", type: "server_error" } }, {
          status: 500,
        });
      }
      return Response.json({ ...completionBody(String(body.model)), usage: USAGE });
    },
  });
  await using setup = await startAdminGateway({
    env: { OPENAI_API_KEY: PROVIDER_KEY, OPENAI_BASE_URL: upstream.baseUrl },
    routingFile: ROUTING_FILE,
    pricing: createPricing({ now: () => Date.now() }),
  });
  const { url } = setup.gateway;
  const second = await setup.api("/admin/api/keys", { body: { name: "second" } });
  const secondId: string = second.body.key.id;
  const app = new OpenAI({ apiKey: setup.clientToken, baseURL: `${url}/v1`, maxRetries: 0 });
  const other = new OpenAI({ apiKey: second.body.secret, baseURL: `${url}/v1`, maxRetries: 0 });
  for (let i = 0; i < 3; i++) await chat(app, "gpt-4o");
  for (let i = 0; i < 2; i++) await chat(other, "gpt-4o-mini");
  await assert.rejects(chat(other, "gpt-4o", "fail"), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    return true;
  });
  await eventually("6 requests recorded", async () => {
    await setup.usage.flush();
    return (await setup.api("/admin/api/overview?period=hour")).body.totals.requests === 6;
  });

  await t.step("overview: exact totals, and series that add up to them", async () => {
    const { status, body } = await setup.api("/admin/api/overview?period=hour");
    assert.equal(status, 200);
    assert.equal(body.period, "hour");
    assert.equal(body.bucket_seconds, 60);
    assert.equal(body.series.length, 60);
    assert.equal(body.sampled, false);
    const { totals } = body;
    assert.deepEqual(
      [totals.requests, totals.errors, totals.prompt_tokens, totals.completion_tokens],
      [6, 1, 45, 100],
    );
    assert.equal(totals.total_tokens, 145);
    assert.equal(totals.cost_usd, 0.000832);
    assert.equal(Math.round((3 * GPT_4O_COST + 2 * MINI_COST) * 1e6), 832);
    for (const name of ["latency_p50_ms", "latency_p99_ms", "ttfb_p50_ms", "ttfb_p99_ms"]) {
      assert.equal(typeof totals[name], "number", name);
      assert.ok(totals[name] >= 0, name);
    }
    assert.ok(totals.latency_p99_ms >= totals.latency_p50_ms);
    const sum = (field: string) =>
      body.series.reduce((n: number, point: Record<string, number>) => n + (point[field] ?? 0), 0);
    assert.equal(sum("requests"), 6);
    assert.equal(sum("errors"), 1);
    assert.equal(sum("completion_tokens"), 100);
    const busy = body.series.filter((point: { requests: number }) => point.requests > 0);
    assert.ok(busy.every((point: { latency_p50_ms: unknown }) => point.latency_p50_ms !== null));
    const idle = body.series.find((point: { requests: number }) => point.requests === 0);
    assert.equal(idle?.latency_p50_ms, null);
    const times = body.series.map((point: { time: string }) => Date.parse(point.time));
    assert.ok(times.every((time: number, i: number) => i === 0 || time - times[i - 1] === 60_000));
    assert.equal(body.since, body.series[0].time);
  });

  await t.step("overview: top keys and models by cost", async () => {
    const { body } = await setup.api("/admin/api/overview?period=day");
    assert.equal(body.series.length, 96);
    assert.equal(body.bucket_seconds, 900);
    assert.deepEqual(body.top_keys, [
      { key_id: setup.clientId, name: "app", requests: 3, total_tokens: 87, cost_usd: 0.000654 },
      { key_id: secondId, name: "second", requests: 3, total_tokens: 58, cost_usd: 0.000178 },
    ]);
    assert.deepEqual(body.top_models, [
      { model: "gpt-4o", requests: 4, total_tokens: 87, cost_usd: 0.000654 },
      { model: "gpt-4o-mini", requests: 2, total_tokens: 58, cost_usd: 0.000178 },
    ]);
    const month = await setup.api("/admin/api/overview?period=month");
    assert.equal(month.body.series.length, 30);
    assert.equal(month.body.totals.requests, 6);
  });

  await t.step("usage by key: rows and series", async () => {
    const { body } = await setup.api("/admin/api/usage?period=hour&by=key");
    assert.equal(body.by, "key");
    assert.deepEqual(body.rows, [
      {
        key_id: setup.clientId,
        name: "app",
        requests: 3,
        errors: 0,
        prompt_tokens: 27,
        completion_tokens: 60,
        total_tokens: 87,
        cost_usd: 0.000654,
      },
      {
        key_id: secondId,
        name: "second",
        requests: 3,
        errors: 1,
        prompt_tokens: 18,
        completion_tokens: 40,
        total_tokens: 58,
        cost_usd: 0.000178,
      },
    ]);
    assert.deepEqual(body.series.map((s: { group: string }) => s.group), [
      setup.clientId,
      secondId,
    ]);
    for (const series of body.series) {
      assert.equal(series.points.length, 60);
      const requests = series.points.reduce(
        (n: number, p: { requests: number }) => n + p.requests,
        0,
      );
      assert.equal(requests, 3);
    }
  });

  await t.step("usage by model, filtered by key and by model", async () => {
    const byModel = await setup.api(`/admin/api/usage?period=day&by=model&key_id=${secondId}`);
    assert.deepEqual(
      byModel.body.rows.map((
        row: { model: string; requests: number },
      ) => [row.model, row.requests]),
      [["gpt-4o-mini", 2], ["gpt-4o", 1]],
    );
    const oneModel = await setup.api("/admin/api/usage?period=day&by=key&model=gpt-4o-mini");
    assert.deepEqual(
      oneModel.body.rows.map((
        row: { key_id: string; cost_usd: number },
      ) => [row.key_id, row.cost_usd]),
      [[secondId, 0.000178]],
    );
    assert.deepEqual(oneModel.body.series.map((s: { group: string }) => s.group), [secondId]);
  });

  await t.step("CSV export of the rows", async () => {
    const { status, headers, body } = await setup.api(
      "/admin/api/usage?period=day&by=key&format=csv",
    );
    assert.equal(status, 200);
    assert.equal(headers.get("content-type"), "text/csv; charset=utf-8");
    assert.equal(
      headers.get("content-disposition"),
      'attachment; filename="choreoai-usage-day-key.csv"',
    );
    assert.equal(headers.get("cache-control"), "no-store");
    assert.equal(
      body,
      "key_id,name,requests,errors,prompt_tokens,completion_tokens,total_tokens,cost_usd\r\n" +
        `${setup.clientId},app,3,0,27,60,87,0.000654\r\n` +
        `${secondId},second,3,1,18,40,58,0.000178\r\n`,
    );
    const models = await setup.api("/admin/api/usage?period=month&by=model&format=csv");
    assert.equal(
      models.body,
      "model,requests,errors,prompt_tokens,completion_tokens,total_tokens,cost_usd\r\n" +
        "gpt-4o,4,1,27,60,87,0.000654\r\ngpt-4o-mini,2,0,18,40,58,0.000178\r\n",
    );
  });

  await t.step("bad parameters: 400 naming them", async () => {
    for (
      const [query, param] of [["period=week", "period"], ["by=day", "by"], [
        "format=xml",
        "format",
      ]]
    ) {
      const { status, body } = await setup.api(`/admin/api/usage?${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.error.param, param);
    }
    assert.equal((await setup.api("/admin/api/overview?period=year")).status, 400);
  });

  await t.step("the admin API's own calls are not recorded as usage", async () => {
    await setup.usage.flush();
    const { body } = await setup.api("/admin/api/overview?period=hour");
    assert.equal(body.totals.requests, 6);
  });

  await t.step("keys list: last use and request counts", async () => {
    const { body } = await setup.api("/admin/api/keys");
    const app = body.data.find((key: { id: string }) => key.id === setup.clientId);
    assert.equal(app.requests, 3);
    assert.ok(Date.now() - Date.parse(app.last_used_at) < 60_000);
    assert.deepEqual(body.warnings, []);
  });
});
