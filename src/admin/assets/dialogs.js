/**
 * Modal dialogs (`<dialog>`: focus kept inside, Escape closes) and the form fields they hold.
 */
import { errorBox, h, toast } from "./dom.js";

let counter = 0;

/** A unique id for labels and headings. */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Opens a modal dialog titled `title` holding `content`; it is removed once closed. */
export function openDialog(title, ...content) {
  const id = uid("dialog-title");
  const dialog = h("dialog", { "aria-labelledby": id }, h("h2", { id }, title), ...content);
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/** A labelled input; `props` go to the input. */
export function field(label, props = {}) {
  return h("label", {}, label, h("input", { type: "text", ...props }));
}

/** A labelled select of [value, text] options. */
export function choice(label, name, options, selected) {
  return h(
    "label",
    {},
    label,
    h(
      "select",
      { name },
      options.map(([value, text]) => h("option", { value, selected: value === selected }, text)),
    ),
  );
}

/**
 * A dialog with a form: `submit(form)` runs on submit; its error is shown in the dialog, which
 * stays open; on success the dialog closes and `done(result)` runs.
 */
export function formDialog({ title, fields, submitLabel, danger = false, submit, done }) {
  const problem = h("div");
  const button = h("button", { type: "submit", class: danger ? "danger" : null }, submitLabel);
  const form = h(
    "form",
    {},
    fields,
    problem,
    h(
      "div",
      { class: "dialog-buttons" },
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel"),
      button,
    ),
  );
  const dialog = openDialog(title, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    problem.replaceChildren();
    try {
      const result = await submit(form);
      dialog.close();
      done?.(result);
    } catch (error) {
      if (error.name !== "AuthError") problem.replaceChildren(errorBox(error));
      else dialog.close();
    } finally {
      button.disabled = false;
    }
  });
  return dialog;
}

async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    input.select();
    document.execCommand("copy");
  }
  toast("Copied to the clipboard");
}

/** Shows a new key's secret, once, with a copy button. */
export function secretDialog(title, secret, note) {
  const input = h("input", {
    type: "text",
    readonly: true,
    value: secret,
    "aria-label": "The new key",
    "data-secret": "",
    spellcheck: "false",
  });
  const dialog = openDialog(
    title,
    h("p", {}, note),
    h(
      "p",
      { class: "notice" },
      "This is the only time the key is shown. Copy it now and keep it somewhere safe.",
    ),
    h(
      "div",
      { class: "secret" },
      input,
      h("button", { type: "button", onclick: () => copy(secret, input) }, "Copy"),
    ),
    h(
      "div",
      { class: "dialog-buttons" },
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Done"),
    ),
  );
  input.select();
  return dialog;
}
