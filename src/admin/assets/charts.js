/**
 * Time-series plots drawn with uPlot (vendored; its classic script defines `globalThis.uPlot`).
 * Colours come from the page's CSS variables, so plots follow light and dark; a plot follows its
 * box's width and is drawn again when the colour scheme changes.
 */
import { h } from "./dom.js";

/** Plots on screen: their box, spec and uPlot instance. */
const live = new Set();

const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    for (const chart of live) {
      if (chart.box === entry.target) draw(chart);
    }
  }
});

matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const chart of live) {
    chart.plot?.destroy();
    chart.plot = undefined;
    draw(chart);
  }
});

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Room for the longest tick label of the value axis (about 7 px a character). */
function axisWidth(_u, values) {
  const longest = Math.max(0, ...(values ?? []).map((value) => String(value).length));
  return Math.max(40, longest * 7 + 22);
}

function options(spec, width, box) {
  const muted = cssVar("--muted");
  const grid = { stroke: cssVar("--grid"), width: 1 };
  const axis = { stroke: muted, grid, ticks: grid };
  return {
    width,
    height: width < 480 ? 180 : 220,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [axis, { ...axis, size: axisWidth, values: (_u, splits) => splits.map(spec.format) }],
    series: [
      {},
      ...spec.series.map((series, index) => ({
        label: series.label,
        stroke: cssVar(`--chart-${(index % 8) + 1}`),
        width: 2,
        spanGaps: false,
        // Gaps (no requests) split a line: single values between them show as points.
        points: spec.points
          ? { show: true, size: 6, fill: cssVar(`--chart-${(index % 8) + 1}`) }
          : {},
        value: (_u, value) => (value === null || value === undefined ? "–" : spec.format(value)),
      })),
    ],
    hooks: {
      draw: [() => (box.dataset.drawn = "true")],
    },
  };
}

function draw(entry) {
  const width = Math.floor(entry.box.clientWidth);
  if (width <= 0) return;
  if (entry.plot !== undefined) {
    if (entry.plot.width !== width) entry.plot.setSize({ width, height: width < 480 ? 180 : 220 });
    return;
  }
  const { spec } = entry;
  const data = [spec.times.map((t) => t / 1000), ...spec.series.map((s) => s.values)];
  entry.plot = new globalThis.uPlot(options(spec, width, entry.box), data, entry.box);
}

/**
 * A figure with a titled time-series plot, drawn as soon as it is on screen.
 * @param {{ id: string, title: string, times: number[], format: (value: number) => string,
 *   series: Array<{ label: string, values: Array<number | null> }>, points?: boolean }} spec
 *   times in milliseconds since the epoch; one value per time in each series (null: none);
 *   `points`: mark every value (for series with gaps)
 * @returns {HTMLElement}
 */
export function timeChart(spec) {
  const summary = spec.series.map((s) => {
    const total = s.values.reduce((sum, v) => sum + (v ?? 0), 0);
    return `${s.label}: ${spec.format(total)} in all`;
  }).join("; ");
  const box = h("div", {
    class: "chart",
    "data-chart": spec.id,
    role: "img",
    "aria-label": `${spec.title}. ${summary}`,
  });
  if (globalThis.uPlot === undefined) box.textContent = "The plotting library did not load.";
  else {
    live.add({ box, spec, plot: undefined });
    resizer.observe(box);
  }
  return h("figure", { class: "card" }, h("h2", {}, spec.title), box);
}

/** Forgets the plots of the page being left. */
export function clearCharts() {
  for (const entry of live) {
    resizer.unobserve(entry.box);
    entry.plot?.destroy();
  }
  live.clear();
}
