/** The forms of the Keys page: create, edit, rotate and revoke, and what each sends. */
import { sendJson } from "./api.js";
import { choice, field, formDialog, secretDialog } from "./dialogs.js";
import { h } from "./dom.js";

const BUDGET_PERIODS = [["month", "per month"], ["day", "per day"], ["total", "in total"]];
const EXPIRY = [["", "Never"], ["7d", "In 7 days"], ["30d", "In 30 days"], ["90d", "In 90 days"], [
  "365d",
  "In a year",
]];
const GRACE = [["0", "At once"], ["1h", "In 1 hour"], ["24h", "In 24 hours"], ["7d", "In 7 days"]];

/** A comma-separated list, or null when blank (no restriction). */
function list(text) {
  const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
  return items.length === 0 ? null : items;
}

/** A whole number, or null when blank. */
function whole(text) {
  return text.trim() === "" ? null : Number(text);
}

function value(form, name) {
  return form.elements.namedItem(name).value;
}

function budgetOf(form) {
  const usd = value(form, "budget_usd").trim();
  return usd === "" ? null : { usd: Number(usd), period: value(form, "budget_period") };
}

/** Fields shared by create and edit; `key` fills them in for an edit. */
function limitFields(key) {
  return [
    field("Models (comma-separated; blank: all)", {
      name: "models",
      value: key?.models?.join(", ") ?? "",
      placeholder: "gpt-4o, claude-sonnet-4",
    }),
    h(
      "div",
      { class: "form-row" },
      field("Requests per minute (blank: default)", {
        name: "rpm",
        type: "number",
        min: 1,
        step: 1,
        value: key?.rpm ?? "",
      }),
      field("Tokens per minute (blank: default)", {
        name: "tpm",
        type: "number",
        min: 1,
        step: 1,
        value: key?.tpm ?? "",
      }),
    ),
    h(
      "div",
      { class: "form-row" },
      field("Budget in US dollars (blank: none)", {
        name: "budget_usd",
        type: "number",
        min: 0,
        step: "any",
        value: key?.budget?.usd ?? "",
      }),
      choice("Budget period", "budget_period", BUDGET_PERIODS, key?.budget?.period ?? "month"),
    ),
  ];
}

/** Create a key: the secret is shown once when it is made. */
export function createKey(refresh) {
  formDialog({
    title: "Create a key",
    submitLabel: "Create key",
    fields: [
      field("Name", { name: "name", required: true, autofocus: true, maxlength: 200 }),
      h(
        "div",
        { class: "form-row" },
        choice("Role", "role", [["client", "Client (model calls)"], ["admin", "Admin"]], "client"),
        choice("Expires", "expires_in", EXPIRY, ""),
      ),
      ...limitFields(undefined),
    ],
    submit: (form) => {
      const body = { name: value(form, "name").trim(), role: value(form, "role") };
      const expiresIn = value(form, "expires_in");
      if (expiresIn !== "") body.expires_in = expiresIn;
      const models = list(value(form, "models"));
      if (models !== null) body.models = models;
      for (const name of ["rpm", "tpm"]) {
        const number = whole(value(form, name));
        if (number !== null) body[name] = number;
      }
      const budget = budgetOf(form);
      if (budget !== null) body.budget = budget;
      return sendJson("POST", "keys", body);
    },
    done: ({ key, secret }) => {
      refresh();
      secretDialog("Key created", secret, `Key “${key.name}” (${key.id}) is ready to use.`);
    },
  });
}

/** Change a key's name, limits, models, expiry and budget: only changed fields are sent. */
export function editKey(key, refresh) {
  formDialog({
    title: `Edit ${key.name}`,
    submitLabel: "Save",
    fields: [
      field("Name", { name: "name", required: true, value: key.name, maxlength: 200 }),
      field("Expires at (ISO 8601, UTC; blank: never)", {
        name: "expires_at",
        value: key.expires_at ?? "",
        placeholder: "2027-01-31T00:00:00Z",
      }),
      ...limitFields(key),
    ],
    submit: (form) => {
      const next = {
        name: value(form, "name").trim(),
        expires_at: value(form, "expires_at").trim() || null,
        models: list(value(form, "models")),
        rpm: whole(value(form, "rpm")),
        tpm: whole(value(form, "tpm")),
        budget: budgetOf(form),
      };
      const before = { ...key, budget: key.budget ?? null };
      const body = Object.fromEntries(
        Object.entries(next).filter(([name, v]) =>
          JSON.stringify(v) !== JSON.stringify(before[name] ?? null)
        ),
      );
      if (Object.keys(body).length === 0) return Promise.resolve(null);
      return sendJson("PATCH", `keys/${encodeURIComponent(key.id)}`, body);
    },
    done: refresh,
  });
}

/** Rotate: a new key now, the old one valid for a grace period. */
export function rotateKey(key, refresh) {
  formDialog({
    title: `Rotate ${key.name}`,
    submitLabel: "Rotate key",
    fields: [
      h("p", {}, "A new key replaces this one. Its limits and budget carry over."),
      choice("The old key stops working", "grace", GRACE, "24h"),
    ],
    submit: (form) =>
      sendJson("POST", `keys/${encodeURIComponent(key.id)}/rotate`, {
        grace: value(form, "grace"),
      }),
    done: ({ key: next, previous, secret }) => {
      refresh();
      const until = previous.expires_at === null ? "" : ` until ${previous.expires_at}`;
      secretDialog(
        "Key rotated",
        secret,
        `New key ${next.id}; the old key ${previous.id} works${until}.`,
      );
    },
  });
}

/** Revoke, after confirmation: requests with the key are refused from then on. */
export function revokeKey(key, refresh) {
  formDialog({
    title: `Revoke ${key.name}?`,
    submitLabel: "Revoke key",
    danger: true,
    fields: [
      h(
        "p",
        {},
        `Requests with ${key.hint} (${key.id}) are refused from now on. This cannot be undone.`,
      ),
    ],
    submit: () => sendJson("POST", `keys/${encodeURIComponent(key.id)}/revoke`),
    done: refresh,
  });
}
