/**
 * A tiny DOM builder. Text always goes in as text nodes (never HTML), so data from the API cannot
 * inject markup; no inline styles (the page's CSP forbids them).
 */

/**
 * Creates an element. `props`: attributes (`true` sets an empty one; null, undefined and false
 * leave it out), and `on<event>` listeners.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node | string | number | null | undefined | false | Array<unknown>)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

class Numeric {
  constructor(content) {
    this.content = content;
  }
}

/** A right-aligned table cell. */
export function num(content) {
  return new Numeric(content);
}

/**
 * A table in a scrollable, focusable region (so that it scrolls by keyboard on a phone).
 * @param {{ caption: string, head: Array<unknown>, rows: Array<Array<unknown>>,
 *   rowProps?: (index: number) => Record<string, unknown>, empty?: string }} spec
 *   a cell is a node, text, an array of them, or `num(value)` (right-aligned)
 */
export function table({ caption, head, rows, rowProps, empty = "Nothing yet." }) {
  const cell = (tag, value) =>
    value instanceof Numeric ? h(tag, { class: "num" }, value.content) : h(tag, {}, value);
  const body = rows.length === 0
    ? [h("tr", {}, h("td", { colspan: head.length, class: "empty" }, empty))]
    : rows.map((row, index) => h("tr", rowProps?.(index) ?? {}, row.map((v) => cell("td", v))));
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((v) => cell("th", v)))),
      h("tbody", {}, body),
    ),
  );
}

/**
 * Links that pick one value (the period), as a labelled group; the current one is marked.
 * @param {string} label
 * @param {Array<[string, string, string]>} options [value, text, href]
 * @param {string} current
 */
export function segmented(label, options, current) {
  return h(
    "nav",
    { class: "segmented", "aria-label": label },
    options.map(([value, text, href]) =>
      h("a", { href, "aria-current": value === current ? "true" : null, "data-value": value }, text)
    ),
  );
}

let toastTimer = 0;

/** Shows a short message at the bottom of the screen, announced to screen readers. */
export function toast(message) {
  const box = document.querySelector(".toast");
  if (box === null) return;
  box.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.textContent = ""), 4000);
}

/** An error box for a failed load or action. */
export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : error);
}
