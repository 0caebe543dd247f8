/**
 * `deno task compile` builds a binary that runs. `deno compile` needs a denort runtime, which it
 * downloads from the internet; these machines cannot reach it, so the test runs only when
 * DENORT_BIN names a local denort binary, and says plainly that it was skipped otherwise.
 */
import assert from "node:assert/strict";

const denort = Deno.env.get("DENORT_BIN");

Deno.test({
  name: denort === undefined
    ? "compiled binary runs --version (SKIPPED: set DENORT_BIN to a denort binary to run it)"
    : "compiled binary runs --version",
  ignore: denort === undefined,
  async fn() {
    // The task's --allow-run names this path, so the binary may be run.
    const output = new URL("../dist/choreoai", import.meta.url).pathname;
    const build = await new Deno.Command("deno", {
      args: [
        "compile",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        "--output",
        output,
        new URL("../main.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const run = await new Deno.Command(output, { args: ["--version"], stdout: "piped" }).output();
    assert.equal(run.code, 0);
    assert.match(new TextDecoder().decode(run.stdout), /^choreoai \d+\.\d+\.\d+/);
  },
});
