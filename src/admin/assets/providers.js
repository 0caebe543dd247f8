/** The Providers page: per target, error rate, latency, breaker state and recent errors. */
import { getJson } from "./api.js";
import { h, num, table } from "./dom.js";
import * as fmt from "./format.js";

/** A target's health: [class, text]. An open breaker or half the attempts failing is failing. */
export function health(target) {
  if (target.breaker === "open") return ["bad", "Failing (breaker open)"];
  if (target.attempts > 0 && target.error_rate >= 0.5) return ["bad", "Failing"];
  if (target.breaker === "half_open") return ["warn", "Recovering (half open)"];
  if (target.errors > 0) return ["warn", "Some errors"];
  return ["ok", target.attempts > 0 ? "Healthy" : "Idle"];
}

function recentErrors(target) {
  if (target.recent_errors.length === 0) return h("span", { class: "muted" }, "None");
  return h(
    "details",
    {},
    h("summary", {}, `${target.recent_errors.length} recent`),
    h(
      "ul",
      {},
      target.recent_errors.map((error) =>
        h(
          "li",
          {},
          h("time", { datetime: error.time }, fmt.time(error.time)),
          ` ${error.status ?? ""} ${error.code ?? ""}: ${error.message}`,
        )
      ),
    ),
  );
}

/** Renders the page into `root`. */
export async function renderProviders(root) {
  const loading = h("p", { class: "muted" }, "Loading…");
  root.replaceChildren(h("h1", {}, "Providers"), loading);
  const data = await getJson("providers");
  const minutes = Math.round(data.window_seconds / 60);
  const targets = data.data;
  const failing = targets.filter((target) => health(target)[0] === "bad").length;
  loading.replaceWith(
    h(
      "p",
      { class: failing > 0 ? "error" : "muted", role: failing > 0 ? "alert" : null },
      failing > 0
        ? `${failing} of ${targets.length} targets failing in the last ${minutes} minutes.`
        : `${targets.length} targets; none failing in the last ${minutes} minutes.`,
    ),
    table({
      caption: `Targets, last ${minutes} minutes`,
      head: [
        "Target",
        "Health",
        "Breaker",
        ...["Attempts", "Errors", "Error rate", "p50", "p99"].map(num),
        "Recent errors",
      ],
      rows: targets.map((target) => {
        const [kind, text] = health(target);
        return [
          [target.target, h("small", {}, target.provider)],
          h("span", { class: `badge ${kind}` }, text),
          target.breaker.replace("_", " "),
          num(fmt.count(target.attempts)),
          num(fmt.count(target.errors)),
          num(fmt.percent(target.attempts > 0 ? target.error_rate : null)),
          num(fmt.ms(target.latency_p50_ms)),
          num(fmt.ms(target.latency_p99_ms)),
          recentErrors(target),
        ];
      }),
      rowProps: (index) => {
        const bad = health(targets[index])[0] === "bad";
        return {
          "data-target": targets[index].target,
          "data-health": bad ? "failing" : "ok",
          class: bad ? "failing" : null,
        };
      },
      empty: "No targets configured.",
    }),
  );
}
