// Written by `deno task vendor:admin` (tools/vendor_admin.ts): do not edit.
/** uPlot's minified script and style, copied from its npm package, as the admin page serves them. */
import script from "./uplot-1.6.32.min.js" with { type: "text" };
import style from "./uplot-1.6.32.min.css" with { type: "text" };

/** The vendored uPlot version. */
export const UPLOT_VERSION = "1.6.32";

/** The vendored files: names (with the version, so cached for long) and contents. */
export const UPLOT_FILES = {
  script: { name: "uplot-1.6.32.min.js", body: script },
  style: { name: "uplot-1.6.32.min.css", body: style },
} as const;
