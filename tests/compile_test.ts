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
    // Built into a temporary directory (never the checkout's dist/) and run through bash, which
    // the test task may run.
    const dir = await Deno.makeTempDir({ prefix: "choreoai-compile-" });
    const output = `${dir}/choreoai`;
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
    if (build.code !== 0) await Deno.remove(dir, { recursive: true });
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    try {
      const run = await new Deno.Command("bash", {
        args: ["-c", '"$0" --version', output],
        stdout: "piped",
      }).output();
      assert.equal(run.code, 0);
      assert.match(new TextDecoder().decode(run.stdout), /^choreoai \d+\.\d+\.\d+/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
