/**
 * The Grafana dashboard in the repository refers only to metrics and labels a running gateway
 * exports: every query's metric names and label names are looked up in a real `/metrics`.
 */
import assert from "node:assert/strict";
import { createMetrics } from "../../src/observe/metrics.ts";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "../_helpers/fake_openai.ts";
import { CLIENT_KEY, delay, startGateway } from "../_helpers/gateway.ts";
import { parseExposition } from "../_helpers/prometheus.ts";

const DASHBOARD = new URL("../../src/observe/grafana_dashboard.json", import.meta.url);

interface Panel {
  readonly title: string;
  readonly datasource: { readonly type: string };
  readonly targets: ReadonlyArray<{ readonly expr: string }>;
}

/** Metric names a PromQL expression reads (ours and the process's). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:choreoai|process|nodejs)_[a-z0-9_]+\b/g)].map((m) => m[0]);
}

/** Label names an expression groups by or selects on. */
function labelNames(expr: string): string[] {
  const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) =>
    (m[1] as string).split(",").map((label) => label.trim())
  );
  const selected = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...(m[1] as string).matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=)/g)].map((l) => l[1] as string)
  );
  return [...grouped, ...selected].filter((label) => label !== "");
}

Deno.test("the Grafana dashboard refers only to exported metrics and labels", async (t) => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const panels: Panel[] = dashboard.panels;
  await using broken = startFakeOpenAI({
    onChat: () =>
      Response.json({ error: { message: "down", type: "server_error" } }, { status: 500 }),
  });
  await using good = startFakeOpenAI({
    onChat: (body) => Response.json(completionBody(String(body.model))),
  });
  await using gateway = startGateway({
    env: { PROVIDER_KEY, CHOREOAI_DEFAULT_RPM: "2" },
    metrics: createMetrics({ version: "test", processMetrics: true }),
    limiter: (await import("../../src/limits/mod.ts")).createMemoryLimiter({
      now: () => performance.timeOrigin + performance.now(),
    }),
    routingFile: {
      providers: {
        broken: {
          kind: "openai-compatible",
          base_url: broken.baseUrl,
          api_key_env: "PROVIDER_KEY",
        },
        good: { kind: "openai-compatible", base_url: good.baseUrl, api_key_env: "PROVIDER_KEY" },
      },
      models: {
        flaky: { targets: [{ provider: "broken", model: "m" }], retries: 0, fallbacks: ["steady"] },
        steady: { targets: [{ provider: "good", model: "gpt-4o" }] },
      },
    },
  });
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "flaky", messages: [{ role: "user", content: "Hi" }] }),
    });
    await response.body?.cancel();
  }
  await delay(10);
  const text = await (await fetch(`${gateway.url}/metrics`, {
    headers: { authorization: `Bearer ${CLIENT_KEY}` },
  })).text();
  const samples = parseExposition(text);
  const labelsOf = new Map<string, Set<string>>();
  for (const sample of samples) {
    const labels = labelsOf.get(sample.name) ?? new Set<string>();
    for (const label of Object.keys(sample.labels)) labels.add(label);
    labelsOf.set(sample.name, labels);
  }
  assert.ok(PROVIDER_KEY.length > 0 && !text.includes(PROVIDER_KEY));

  await t.step("it is a dashboard with Prometheus panels", () => {
    assert.equal(typeof dashboard.title, "string");
    assert.ok(panels.length >= 8);
    for (const panel of panels) {
      assert.equal(panel.datasource.type, "prometheus", panel.title);
      assert.ok(panel.targets.length > 0, panel.title);
    }
  });
  const titles = panels.map((panel) => panel.title.toLowerCase()).join(" | ");
  await t.step("it shows requests, errors, latency, TTFB, tokens, overhead and breakers", () => {
    for (
      const topic of [
        "requests",
        "errors",
        "latency",
        "first byte",
        "tokens",
        "overhead",
        "breaker",
      ]
    ) {
      assert.ok(titles.includes(topic), topic);
    }
  });
  for (const panel of panels) {
    await t.step(panel.title, () => {
      for (const { expr } of panel.targets) {
        const names = metricNames(expr);
        assert.ok(names.length > 0, `no metric in ${expr}`);
        for (const name of names) {
          const labels = labelsOf.get(name);
          assert.ok(labels !== undefined, `${name} is not exported`);
          for (const label of labelNames(expr)) {
            assert.ok(labels.has(label), `${name} has no label ${label} (${expr})`);
          }
        }
      }
    });
  }
});
