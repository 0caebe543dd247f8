/**
 * SIGHUP to the real process: `deno run main.ts` with a key list and a routing file in a
 * temporary directory reloads both and logs one line saying what is in force.
 */
import assert from "node:assert/strict";
import { waitFor } from "./_helpers/gateway.ts";
import { keyFileText, makeKey } from "./_helpers/keys.ts";
import { type Spawned, spawnGateway } from "./_helpers/process.ts";
import { parseExposition, sumOf } from "./_helpers/prometheus.ts";

const SUMMARY = "reloaded on SIGHUP";

/**
 * Replaces a file as the CLI and config tools do (a temp file renamed over it): a plain write
 * truncates first, and a watcher reading in between sees an empty file and counts a failed reload.
 */
async function replaceFile(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

/** The JSON lines the gateway wrote so far: stdout's, then stderr's (warnings and errors). */
function logLines(gateway: Spawned): [Record<string, unknown>[], Record<string, unknown>[]] {
  const stderr = gateway.errors.join("").split("\n").filter((line) => line.startsWith("{"));
  return [gateway.lines.map((l) => JSON.parse(l)), stderr.map((l) => JSON.parse(l))];
}

/** Sends SIGHUP and returns the one summary line it logs, and the other lines logged meanwhile. */
async function hangUp(gateway: Spawned): Promise<{
  summary: Record<string, unknown>;
  others: Record<string, unknown>[];
}> {
  const [stdout, stderr] = logLines(gateway);
  const since = () => {
    const [out, err] = logLines(gateway);
    return [...out.slice(stdout.length), ...err.slice(stderr.length)];
  };
  gateway.process.kill("SIGHUP");
  await waitFor(() => since().some((line) => line.msg === SUMMARY), 10_000);
  const lines = since();
  const summaries = lines.filter((line) => line.msg === SUMMARY);
  assert.equal(summaries.length, 1);
  return { summary: summaries[0] ?? {}, others: lines.filter((line) => line.msg !== SUMMARY) };
}

Deno.test("SIGHUP reloads the key list and the routing file, logging one line", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "choreoai-sighup-" });
  try {
    const keysFile = `${dir}/keys.json`;
    const routingFile = `${dir}/routing.json`;
    const routing = (models: string[]) =>
      JSON.stringify({
        models: Object.fromEntries(
          models.map((name) => [name, { targets: [{ provider: "openai", model: "gpt-4o" }] }]),
        ),
      });
    const admin = makeKey({ role: "admin" });
    const records = [admin.record];
    await Deno.writeTextFile(keysFile, keyFileText(records));
    await Deno.writeTextFile(routingFile, routing(["smart"]));
    await using gateway = await spawnGateway({
      CHOREOAI_KEYS_FILE: keysFile,
      CHOREOAI_CONFIG: routingFile,
      CHOREOAI_DB: `${dir}/usage.db`,
      OPENAI_API_KEY: "sk-test",
    });

    await t.step("with nothing changed", async () => {
      const { summary, others } = await hangUp(gateway);
      assert.equal(summary.level, "info");
      assert.equal(summary.keys, 1);
      assert.equal(summary.routing_models, 1);
      assert.deepEqual(summary.changed, []);
      assert.deepEqual(summary.failed, []);
      assert.deepEqual(others, []);
    });

    await t.step("with a changed key list", async () => {
      records.push(makeKey().record);
      await replaceFile(keysFile, keyFileText(records));
      const { summary, others } = await hangUp(gateway);
      assert.equal(summary.keys, 2);
      assert.deepEqual(summary.failed, []);
      // The watcher may have seen the change first: either way it is reported once.
      const byWatcher = others.filter((line) => line.msg === "key list reloaded").length;
      const bySignal = (summary.changed as string[]).filter((f) => f === "key list").length;
      assert.equal(byWatcher + bySignal, 1, JSON.stringify({ summary, others }));
    });

    await t.step("with a broken routing file: its failure, the last good table kept", async () => {
      await replaceFile(routingFile, routing(["my model"]));
      const { summary, others } = await hangUp(gateway);
      assert.equal(summary.level, "warn");
      assert.equal(summary.routing_models, 1);
      assert.deepEqual(summary.failed, ["routing file"]);
      const failures = others.filter((line) =>
        line.msg === "routing file reload failed; " +
            "keeping the last good routing file" && line.reason === "SIGHUP"
      );
      assert.equal(failures.length, 1);
      assert.match(String(failures[0]?.error), /models\.my model/);
    });

    await t.step("/metrics counts the reloads, by file and result", async () => {
      const response = await fetch(`${gateway.url}/metrics`, {
        headers: { authorization: `Bearer ${admin.token}` },
      });
      assert.equal(response.status, 200);
      const samples = parseExposition(await response.text());
      // The watcher may see a change before the signal does: at least once each.
      assert.ok(sumOf(samples, "choreoai_reloads_total", { file: "keys", result: "success" }) >= 1);
      assert.equal(
        sumOf(samples, "choreoai_reloads_total", { file: "keys", result: "failure" }),
        0,
      );
      assert.ok(
        sumOf(samples, "choreoai_reloads_total", { file: "routing", result: "failure" }) >= 1,
      );
    });

    gateway.process.kill("SIGTERM");
    assert.equal((await gateway.exited).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
