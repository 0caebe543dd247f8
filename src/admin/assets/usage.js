/** The Usage page: per key or per model over a period, as plots and a table, with CSV export. */
import { download, getJson } from "./api.js";
import { timeChart } from "./charts.js";
import { errorBox, h, num, segmented, table, toast } from "./dom.js";
import * as fmt from "./format.js";

/** At most this many groups are plotted (the table lists them all). */
const MAX_PLOTTED = 8;

function address(params) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== "" && value !== undefined),
  );
  return `#/usage?${query}`;
}

/** The query of the API call: period, grouping and the one key or model to show. */
function apiQuery({ period, by, only }) {
  const query = new URLSearchParams({ period, by });
  if (only !== "") query.set(by === "key" ? "key_id" : "model", only);
  return query;
}

/** Series of every group on one time axis (the union of their times), nulls where missing. */
function aligned(series, metric) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p.time))))]
    .sort((a, b) => a - b);
  return {
    times,
    series: series.slice(0, MAX_PLOTTED).map((s) => {
      const byTime = new Map(s.points.map((p) => [Date.parse(p.time), p[metric]]));
      return { label: s.label, values: times.map((t) => byTime.get(t) ?? null) };
    }),
  };
}

function filters(state, rows, labelOf) {
  const groups = rows.map((row) => [state.by === "key" ? row.key_id : row.model, labelOf(row)]);
  if (state.only !== "" && !groups.some(([value]) => value === state.only)) {
    groups.push([state.only, state.only]);
  }
  const select = h(
    "select",
    { id: "usage-only" },
    h("option", { value: "" }, state.by === "key" ? "All keys" : "All models"),
    groups.map(([value, text]) => h("option", { value, selected: value === state.only }, text)),
  );
  select.addEventListener("change", () => {
    location.hash = address({ ...state, only: select.value });
  });
  return h("label", { for: "usage-only" }, state.by === "key" ? "Key" : "Model", select);
}

function exportButton(state) {
  const button = h("button", { type: "button", class: "secondary" }, "Export CSV");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const query = apiQuery(state);
      query.set("format", "csv");
      const name = await download(
        `usage?${query}`,
        `choreoai-usage-${state.period}-${state.by}.csv`,
      );
      toast(`Downloaded ${name}`);
    } catch (error) {
      if (error.name !== "AuthError") button.after(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** Renders the page into `root`; `params`: `period`, `by` (key or model), `only`. */
export async function renderUsage(root, params) {
  const state = {
    period: fmt.period(params.get("period")),
    by: params.get("by") === "model" ? "model" : "key",
    only: params.get("only") ?? "",
  };
  const toolbar = h(
    "div",
    { class: "toolbar" },
    segmented(
      "Period",
      fmt.PERIODS.map(([value, text]) => [value, text, address({ ...state, period: value })]),
      state.period,
    ),
    segmented("Group by", [
      ["key", "Per key", address({ ...state, by: "key", only: "" })],
      ["model", "Per model", address({ ...state, by: "model", only: "" })],
    ], state.by),
  );
  const loading = h("p", { class: "muted" }, "Loading…");
  root.replaceChildren(h("h1", {}, "Usage"), toolbar, loading);
  const data = await getJson(`usage?${apiQuery(state)}`);
  const isKey = state.by === "key";
  const labelOf = (row) => (isKey ? row.name ?? row.key_id : row.model ?? "(none)");
  const names = new Map(data.rows.map((row) => [isKey ? row.key_id : row.model, labelOf(row)]));
  const series = data.series.map((s) => ({ ...s, label: names.get(s.group) ?? s.group }));
  toolbar.append(filters(state, data.rows, labelOf), exportButton(state));
  const requests = aligned(series, "requests");
  const cost = aligned(series, "cost_usd");
  const groupHead = isKey ? "Key" : "Model";
  loading.replaceWith(
    h(
      "div",
      { class: "grid" },
      timeChart({ id: "usage-requests", title: "Requests", format: fmt.count, ...requests }),
      timeChart({ id: "usage-cost", title: "Cost", format: fmt.usd, ...cost }),
    ),
    series.length > MAX_PLOTTED
      ? h("p", { class: "muted" }, `The plots show the first ${MAX_PLOTTED} groups.`)
      : "",
    table({
      caption: `Usage per ${state.by}, ${fmt.PERIODS.find(([p]) => p === state.period)[1]}`,
      head: [
        groupHead,
        ...["Requests", "Errors", "Prompt", "Completion", "Tokens", "Cost"].map(num),
      ],
      rows: data.rows.map((row) => [
        isKey ? [labelOf(row), h("small", {}, row.key_id)] : labelOf(row),
        num(fmt.count(row.requests)),
        num(fmt.count(row.errors)),
        num(fmt.count(row.prompt_tokens)),
        num(fmt.count(row.completion_tokens)),
        num(fmt.count(row.total_tokens)),
        num(fmt.usd(row.cost_usd)),
      ]),
      empty: "No requests in this period.",
    }),
  );
}
