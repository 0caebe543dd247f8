/**
 * The admin page's files, imported as text: they are part of the module graph, so `deno compile`
 * puts them in the binary with the code, and serving them reads no file at run time.
 */
import index from "./assets/index.html" with { type: "text" };
import adminCss from "./assets/admin.css" with { type: "text" };
import componentsCss from "./assets/components.css" with { type: "text" };
import icon from "./assets/icon.svg" with { type: "text" };
import api from "./assets/api.js" with { type: "text" };
import app from "./assets/app.js" with { type: "text" };
import charts from "./assets/charts.js" with { type: "text" };
import dialogs from "./assets/dialogs.js" with { type: "text" };
import dom from "./assets/dom.js" with { type: "text" };
import format from "./assets/format.js" with { type: "text" };
import keyForms from "./assets/key_forms.js" with { type: "text" };
import keys from "./assets/keys.js" with { type: "text" };
import overview from "./assets/overview.js" with { type: "text" };
import providers from "./assets/providers.js" with { type: "text" };
import usage from "./assets/usage.js" with { type: "text" };
import { UPLOT_FILES } from "./vendor/mod.ts";

/** One file of the page. */
export interface AdminAsset {
  readonly body: string;
  readonly type: string;
  /** Its name holds its version: it may be cached for long. */
  readonly immutable: boolean;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

function asset(body: string, type: string, immutable = false): AdminAsset {
  return { body, type, immutable };
}

/** The page (`/admin`), naming the vendored files it loads. */
export const ADMIN_INDEX: AdminAsset = asset(
  index.replaceAll("%UPLOT_SCRIPT%", UPLOT_FILES.script.name)
    .replaceAll("%UPLOT_STYLE%", UPLOT_FILES.style.name),
  "text/html; charset=utf-8",
);

/** The files under `/admin/assets/`, by name. */
export const ADMIN_ASSETS: ReadonlyMap<string, AdminAsset> = new Map([
  ["admin.css", asset(adminCss, CSS)],
  ["components.css", asset(componentsCss, CSS)],
  ["icon.svg", asset(icon, "image/svg+xml")],
  ["api.js", asset(api, JS)],
  ["app.js", asset(app, JS)],
  ["charts.js", asset(charts, JS)],
  ["dialogs.js", asset(dialogs, JS)],
  ["dom.js", asset(dom, JS)],
  ["format.js", asset(format, JS)],
  ["key_forms.js", asset(keyForms, JS)],
  ["keys.js", asset(keys, JS)],
  ["overview.js", asset(overview, JS)],
  ["providers.js", asset(providers, JS)],
  ["usage.js", asset(usage, JS)],
  [UPLOT_FILES.script.name, asset(UPLOT_FILES.script.body, JS, true)],
  [UPLOT_FILES.style.name, asset(UPLOT_FILES.style.body, CSS, true)],
]);
