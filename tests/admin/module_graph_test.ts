/**
 * The admin page's files are modules of main.ts's graph (imported as text), which is what `deno
 * compile` puts in the binary: no `--include` needed, and nothing is read from disk at run time.
 * And main.ts serves the page.
 */
import assert from "node:assert/strict";
import { spawnGateway } from "../_helpers/process.ts";

const ADMIN_DIR = new URL("../../src/admin/", import.meta.url);

async function filesUnder(dir: URL): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && !entry.name.endsWith(".txt")) files.push(new URL(entry.name, dir).href);
  }
  return files;
}

Deno.test("every file of src/admin/assets and src/admin/vendor is in main.ts's module graph", async () => {
  const info = await new Deno.Command("deno", {
    args: ["info", "--json", new URL("../../main.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout));
  const modules = new Set(graph.modules.map((module: { specifier: string }) => module.specifier));
  const files = [
    ...await filesUnder(new URL("assets/", ADMIN_DIR)),
    ...await filesUnder(new URL("vendor/", ADMIN_DIR)),
  ];
  assert.ok(files.length >= 18);
  for (const file of files) assert.ok(modules.has(file), `${file} is in the graph`);
});

Deno.test("main.ts serves the admin page", async () => {
  await using gateway = await spawnGateway({});
  const response = await fetch(`${gateway.url}/admin`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /<title>ChoreoAI admin<\/title>/);
});
