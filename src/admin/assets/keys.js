/** The Keys page: every key with its status, expiry, last use and spend; create and manage. */
import { getJson } from "./api.js";
import { errorBox, h, num, table } from "./dom.js";
import * as fmt from "./format.js";
import { createKey, editKey, revokeKey, rotateKey } from "./key_forms.js";

const STATUS_CLASS = { active: "ok", rotating: "warn", expired: "bad", revoked: "bad" };

function spend(key) {
  const budget = key.budget_status;
  if (budget === null || budget === undefined) return h("span", { class: "muted" }, "No budget");
  const spent = budget.spent_usd ?? 0;
  const text = `${fmt.usd(budget.spent_usd)} of ${fmt.usd(budget.usd)} ${
    budget.period === "total" ? "in total" : `this ${budget.period}`
  }${budget.source === "default" ? " (default)" : ""}`;
  return [
    h("meter", {
      min: 0,
      max: budget.usd,
      value: Math.min(spent, budget.usd),
      low: budget.usd * 0.75,
      high: budget.usd * 0.9,
      optimum: 0,
      "aria-label": text,
    }),
    h("small", {}, text),
  ];
}

function actions(key, writable, refresh) {
  if (!writable) return h("span", { class: "muted" }, "Read only");
  // A revoked, expired or already rotated key cannot be rotated (the API answers 409).
  const ended = key.status !== "active";
  const button = (label, run, disabled) =>
    h("button", {
      type: "button",
      class: label === "Revoke" ? "danger" : "secondary",
      disabled,
      "aria-label": `${label} key ${key.name} (${key.id})`,
      onclick: () => run(key, refresh),
    }, label);
  return h(
    "div",
    { class: "actions" },
    button("Edit", editKey, key.status === "revoked"),
    button("Rotate", rotateKey, ended),
    button("Revoke", revokeKey, key.status === "revoked"),
  );
}

/** Why keys cannot be changed here, and why last use or spend may be missing. */
function notices(data) {
  const texts = [...(data.warnings ?? [])];
  if (!data.writable) {
    texts.unshift(
      data.source === "none"
        ? "No key list is configured (development mode): keys cannot be created or changed " +
          "here. Serve with CHOREOAI_KEYS_FILE or CHOREOAI_DATABASE_URL."
        : "The key list is read only on this gateway.",
    );
  }
  return texts.map((text) => h("p", { class: "notice" }, text));
}

/** Renders the page into `root`. */
export async function renderKeys(root) {
  const refresh = () =>
    renderKeys(root).catch((error) => {
      if (error.name !== "AuthError") root.append(errorBox(error));
    });
  const create = h("button", { type: "button", disabled: true }, "Create key");
  const loading = h("p", { class: "muted" }, "Loading…");
  root.replaceChildren(h("h1", {}, "Keys"), h("div", { class: "toolbar" }, create), loading);
  const data = await getJson("keys");
  create.disabled = !data.writable;
  create.addEventListener("click", () => createKey(refresh));
  const keys = data.data;
  loading.replaceWith(
    ...notices(data),
    table({
      caption: `${keys.length} ${keys.length === 1 ? "key" : "keys"}`,
      head: ["Name", "Role", "Status", "Expires", "Last used", num("Requests"), "Spend", "Actions"],
      rows: keys.map((key) => [
        [key.name, h("small", {}, `${key.id} · ${key.hint}`)],
        key.role,
        h("span", { class: `badge ${STATUS_CLASS[key.status] ?? ""}` }, key.status),
        fmt.time(key.expires_at, "never"),
        h("span", { title: fmt.time(key.last_used_at, "never") }, fmt.ago(key.last_used_at)),
        num(fmt.count(key.requests)),
        spend(key),
        actions(key, data.writable, refresh),
      ]),
      rowProps: (index) => ({ "data-key-id": keys[index].id, "data-status": keys[index].status }),
      empty: "No keys yet.",
    }),
  );
}
