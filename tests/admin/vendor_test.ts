/**
 * The vendored uPlot files equal the npm package's, at the version deno.json and deno.lock pin
 * (`deno task vendor:admin` writes them), and nothing else is in the vendor folder.
 */
import assert from "node:assert/strict";
import { VENDOR_DIR, vendoredFiles } from "../../tools/vendor_admin.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { UPLOT_FILES, UPLOT_VERSION } from "../../src/admin/vendor/mod.ts";

Deno.test("src/admin/vendor holds exactly the package's files (run deno task vendor:admin)", async () => {
  const expected = vendoredFiles();
  const present: string[] = [];
  for await (const entry of Deno.readDir(VENDOR_DIR)) present.push(entry.name);
  assert.deepEqual(present.sort(), [...expected.keys()].sort());
  for (const [name, text] of expected) {
    const vendored = await Deno.readTextFile(new URL(name, VENDOR_DIR));
    assert.ok(vendored === text, `${name} differs from the package's file`);
  }
});

Deno.test("the vendored uPlot version is the one deno.json pins", () => {
  assert.equal(denoJson.imports.uplot, `npm:uplot@${UPLOT_VERSION}`);
  assert.equal(UPLOT_FILES.script.name, `uplot-${UPLOT_VERSION}.min.js`);
  assert.match(UPLOT_FILES.script.body, new RegExp(`^/\\*! .*uPlot \\(v${UPLOT_VERSION}\\)`));
});
