/** The Overview page: totals, plots over the period, top keys and models. */
import { getJson } from "./api.js";
import { timeChart } from "./charts.js";
import { h, num, segmented, table } from "./dom.js";
import * as fmt from "./format.js";

/** "per minute", "per 15 minutes", "per day". */
export function bucketLabel(seconds) {
  if (seconds === 60) return "per minute";
  if (seconds === 86400) return "per day";
  if (seconds % 3600 === 0) return `per ${seconds / 3600} hours`;
  return `per ${Math.round(seconds / 60)} minutes`;
}

function stat(id, label, value, detail) {
  return h(
    "div",
    {},
    h("dt", {}, label),
    h("dd", { "data-stat": id }, value),
    detail === undefined ? null : h("dd", { class: "muted" }, detail),
  );
}

function stats(totals) {
  const errorRate = totals.requests > 0 ? totals.errors / totals.requests : null;
  return h(
    "dl",
    { class: "stats" },
    stat("requests", "Requests", fmt.count(totals.requests)),
    stat("errors", "Errors", fmt.count(totals.errors), `${fmt.percent(errorRate)} of requests`),
    stat(
      "tokens",
      "Tokens",
      fmt.count(totals.total_tokens),
      `${fmt.count(totals.prompt_tokens)} in, ${fmt.count(totals.completion_tokens)} out`,
    ),
    stat("cost", "Cost", fmt.usd(totals.cost_usd)),
    stat(
      "latency",
      "Latency p50 / p99",
      `${fmt.ms(totals.latency_p50_ms)} / ${fmt.ms(totals.latency_p99_ms)}`,
    ),
    stat(
      "ttfb",
      "Time to first byte p50 / p99",
      `${fmt.ms(totals.ttfb_p50_ms)} / ${fmt.ms(totals.ttfb_p99_ms)}`,
    ),
  );
}

function charts(data) {
  const times = data.series.map((point) => Date.parse(point.time));
  const column = (name) => data.series.map((point) => point[name]);
  const per = bucketLabel(data.bucket_seconds);
  return h(
    "div",
    { class: "grid" },
    timeChart({
      id: "requests",
      title: `Requests and errors ${per}`,
      times,
      format: fmt.count,
      series: [
        { label: "Requests", values: column("requests") },
        { label: "Errors", values: column("errors") },
      ],
    }),
    timeChart({
      id: "tokens",
      title: `Tokens ${per}`,
      times,
      format: fmt.count,
      series: [
        { label: "Prompt", values: column("prompt_tokens") },
        { label: "Completion", values: column("completion_tokens") },
      ],
    }),
    timeChart({
      id: "cost",
      title: `Cost ${per}`,
      times,
      format: fmt.usd,
      series: [{ label: "Cost (USD)", values: column("cost_usd") }],
    }),
    timeChart({
      id: "latency",
      title: "Latency and time to first byte",
      times,
      points: true,
      format: fmt.ms,
      series: [
        { label: "Latency p50", values: column("latency_p50_ms") },
        { label: "Latency p99", values: column("latency_p99_ms") },
        { label: "TTFB p50", values: column("ttfb_p50_ms") },
        { label: "TTFB p99", values: column("ttfb_p99_ms") },
      ],
    }),
  );
}

function topTables(data) {
  const usage = (row) => [
    num(fmt.count(row.requests)),
    num(fmt.count(row.total_tokens)),
    num(fmt.usd(row.cost_usd)),
  ];
  const numbers = [num("Requests"), num("Tokens"), num("Cost")];
  return h(
    "div",
    { class: "grid" },
    table({
      caption: "Top keys",
      head: ["Key", ...numbers],
      rows: data.top_keys.map((row) => [
        [row.name ?? row.key_id, h("small", {}, row.key_id)],
        ...usage(row),
      ]),
      empty: "No requests in this period.",
    }),
    table({
      caption: "Top models",
      head: ["Model", ...numbers],
      rows: data.top_models.map((row) => [row.model ?? "(none)", ...usage(row)]),
      empty: "No requests in this period.",
    }),
  );
}

/** Renders the page into `root`; `params` come from the address (`period`). */
export async function renderOverview(root, params) {
  const period = fmt.period(params.get("period"));
  const loading = h("p", { class: "muted" }, "Loading…");
  root.replaceChildren(
    h("h1", {}, "Overview"),
    h(
      "div",
      { class: "toolbar" },
      segmented(
        "Period",
        fmt.PERIODS.map(([value, text]) => [value, text, `#/overview?period=${value}`]),
        period,
      ),
    ),
    loading,
  );
  const data = await getJson(`overview?period=${period}`);
  loading.replaceWith(
    stats(data.totals),
    data.sampled
      ? h("p", { class: "muted" }, "Percentiles are computed from the most recent requests only.")
      : "",
    charts(data),
    topTables(data),
  );
}
