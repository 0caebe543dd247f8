/**
 * `deno task vendor:admin`: copies uPlot's minified script and style and its licence from the npm
 * package, at the version deno.json and deno.lock pin, into `src/admin/vendor/`, with the module
 * that imports them. The admin page serves those copies, which are in the repository and so in
 * the compiled binary; `tests/admin/vendor_test.ts` checks that they equal the package's files.
 */
import script from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import style from "uplot/dist/uPlot.min.css" with { type: "text" };
import license from "uplot/LICENSE" with { type: "text" };
import pkg from "uplot/package.json" with { type: "json" };

/** Where the copies go. */
export const VENDOR_DIR = new URL("../src/admin/vendor/", import.meta.url);

/** Every file of {@linkcode VENDOR_DIR} by name, with the text it must hold. */
export function vendoredFiles(): Map<string, string> {
  const { version } = pkg;
  const scriptName = `uplot-${version}.min.js`;
  const styleName = `uplot-${version}.min.css`;
  const module = `// Written by \`deno task vendor:admin\` (tools/vendor_admin.ts): do not edit.
/** uPlot's minified script and style, copied from its npm package, as the admin page serves them. */
import script from "./${scriptName}" with { type: "text" };
import style from "./${styleName}" with { type: "text" };

/** The vendored uPlot version. */
export const UPLOT_VERSION = "${version}";

/** The vendored files: names (with the version, so cached for long) and contents. */
export const UPLOT_FILES = {
  script: { name: "${scriptName}", body: script },
  style: { name: "${styleName}", body: style },
} as const;
`;
  return new Map([
    [scriptName, script],
    [styleName, style],
    ["uplot-LICENSE.txt", license],
    ["mod.ts", module],
  ]);
}

if (import.meta.main) {
  const files = vendoredFiles();
  for await (const entry of Deno.readDir(VENDOR_DIR)) {
    if (!files.has(entry.name)) await Deno.remove(new URL(entry.name, VENDOR_DIR));
  }
  for (const [name, text] of files) await Deno.writeTextFile(new URL(name, VENDOR_DIR), text);
}
