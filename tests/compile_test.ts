/**
 * `deno task compile` builds a binary that runs and serves the admin page from inside itself.
 * `deno compile` needs a denort runtime, which it downloads from the internet; these machines
 * cannot reach it, so the test runs only when DENORT_BIN names a local denort binary, and says
 * plainly that it was skipped otherwise. (tests/admin/module_graph_test.ts shows without a build
 * that every page file is in the module graph, which is what `deno compile` embeds.)
 */
import assert from "node:assert/strict";
import { ADMIN_ASSETS, ADMIN_INDEX } from "../src/admin/assets.ts";
import { processEnv, watchGateway } from "./_helpers/process.ts";
import denoJson from "../deno.json" with { type: "json" };

const denort = Deno.env.get("DENORT_BIN");

/** The compile task's flags (all but `--output` and the entry point), as deno.json has them. */
function compileFlags(): string[] {
  const words = denoJson.tasks.compile.split(/\s+/).slice(2);
  const output = words.indexOf("--output");
  assert.ok(output >= 0 && words.at(-1) === "main.ts", denoJson.tasks.compile);
  words.splice(output, 2);
  return words.slice(0, -1);
}

Deno.test({
  name: denort === undefined
    ? "compiled binary runs --version and serves the admin page (SKIPPED: set DENORT_BIN to a denort binary to run it)"
    : "compiled binary runs --version and serves the admin page",
  ignore: denort === undefined,
  async fn(t) {
    // Built into a temporary directory (never the checkout's dist/) and run through bash, which
    // the test task may run.
    const dir = await Deno.makeTempDir({ prefix: "choreoai-compile-" });
    const output = `${dir}/choreoai`;
    try {
      const build = await new Deno.Command("deno", {
        args: [
          "compile",
          ...compileFlags(),
          "--output",
          output,
          new URL("../main.ts", import.meta.url).pathname,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      await t.step("--version", async () => {
        const run = await new Deno.Command("bash", {
          args: ["-c", '"$0" --version', output],
          stdout: "piped",
        }).output();
        assert.equal(run.code, 0);
        assert.match(new TextDecoder().decode(run.stdout), /^choreoai \d+\.\d+\.\d+/);
      });
      await t.step("the admin page and its files, from inside the binary", async () => {
        const process = new Deno.Command("bash", {
          args: ["-c", 'cd "$1" && exec "$0"', output, dir],
          env: processEnv({ CHOREOAI_PORT: "0", CHOREOAI_DB: `${dir}/usage.db` }),
          clearEnv: true,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        await using gateway = await watchGateway(process);
        const page = await fetch(`${gateway.url}/admin`);
        assert.equal(page.status, 200);
        assert.equal(await page.text(), ADMIN_INDEX.body);
        for (const [name, asset] of ADMIN_ASSETS) {
          const response = await fetch(`${gateway.url}/admin/assets/${name}`);
          assert.equal(response.status, 200, name);
          assert.equal(await response.text(), asset.body, name);
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
