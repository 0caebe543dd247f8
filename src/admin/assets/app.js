/**
 * The admin page's entry: sign-in with an admin key (kept in this tab's sessionStorage only),
 * sign-out, and hash routing between the pages (`#/overview?period=day`, `#/keys`, …).
 */
import { forgetKey, getJson, onUnauthorized, storedKey, storeKey } from "./api.js";
import { clearCharts } from "./charts.js";
import { errorBox, h, toast } from "./dom.js";
import { renderKeys } from "./keys.js";
import { renderOverview } from "./overview.js";
import { renderProviders } from "./providers.js";
import { renderUsage } from "./usage.js";

const PAGES = {
  overview: ["Overview", renderOverview],
  keys: ["Keys", renderKeys],
  usage: ["Usage", renderUsage],
  providers: ["Providers", renderProviders],
};

const main = document.querySelector("main");
const nav = document.querySelector(".tabs");
const signOutButton = document.querySelector(".sign-out");

/** The page and its parameters from the address: `#/usage?by=model` → ["usage", params]. */
function currentRoute() {
  const match = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash);
  const name = match !== null && match[1] in PAGES ? match[1] : "overview";
  return [name, new URLSearchParams(match?.[2] ?? "")];
}

function setSignedIn(signedIn) {
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
}

/** Shows the sign-in form, with `message` (why: an error, or a `notice`) if any. */
function showSignIn(message, kind = "error") {
  clearCharts();
  setSignedIn(false);
  document.title = "Sign in · ChoreoAI admin";
  const input = h("input", {
    id: "admin-key",
    name: "admin-key",
    type: "password",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "admin-key-help",
  });
  const form = h(
    "form",
    { class: "sign-in card", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    message === undefined ? null : h("p", { class: kind, role: "alert" }, message),
    h("label", { for: "admin-key" }, "Admin key", input),
    h(
      "p",
      { id: "admin-key-help", class: "muted" },
      "An admin key of this gateway. It is kept in this browser tab only and sent to the " +
        "gateway's admin API; closing the tab or signing out forgets it.",
    ),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === "") return;
    storeKey(key);
    signIn();
  });
  main.replaceChildren(form);
  input.focus();
}

/** Checks the stored key against the API, then shows the page asked for. */
async function signIn() {
  try {
    await getJson("overview?period=hour");
  } catch (error) {
    if (error.name !== "AuthError") main.replaceChildren(errorBox(error));
    return;
  }
  await show({ focus: true });
}

let generation = 0;

/** Shows the page of the address (or the sign-in form without a key). */
async function show({ focus = false } = {}) {
  if (storedKey() === null) return showSignIn();
  setSignedIn(true);
  const [name, params] = currentRoute();
  const [title, render] = PAGES[name];
  document.title = `${title} · ChoreoAI admin`;
  for (const link of nav.querySelectorAll("a")) {
    link.setAttribute("aria-current", link.dataset.route === name ? "page" : "false");
  }
  clearCharts();
  toast("");
  generation += 1;
  const mine = generation;
  const root = h("div", { "data-page": name });
  main.replaceChildren(root);
  if (focus) main.focus();
  try {
    await render(root, params);
    if (mine === generation) root.dataset.ready = "true";
  } catch (error) {
    if (error.name !== "AuthError" && mine === generation) root.append(errorBox(error));
  }
}

onUnauthorized((error) => showSignIn(error.message));

signOutButton.addEventListener("click", () => {
  forgetKey();
  showSignIn("Signed out: this tab no longer holds the admin key.", "notice");
});

addEventListener("hashchange", () => show({ focus: true }));

document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

show();
