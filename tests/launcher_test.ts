/**
 * `bin/choreoai`, the production start command, run the way systemd or a container runtime runs
 * it: started without a shell, and stopped by a signal to its PID alone (never to its group).
 */
import assert from "node:assert/strict";
import { completionBody, PROVIDER_KEY, startFakeOpenAI } from "./_helpers/fake_openai.ts";
import { launcherCommand, watchGateway } from "./_helpers/process.ts";
import { parseConfig } from "../src/config.ts";

/** `pid (comm) state ppid …` of every process, from /proc (Deno itself may not read /proc). */
async function processTable(): Promise<{ pid: number; ppid: number; running: boolean }[]> {
  const { stdout } = await new Deno.Command("bash", {
    args: ["-c", 'for f in /proc/[0-9]*/stat; do read -r line < "$f" && echo "$line"; done'],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).trim().split("\n").map((line) => {
    // comm may hold spaces and parentheses: the fields that follow start after the last ")".
    const [state, ppid] = line.slice(line.lastIndexOf(")") + 2).split(" ");
    return { pid: parseInt(line), ppid: Number(ppid), running: state !== "Z" };
  });
}

/** Those of `pids` that still run. */
async function stillRunning(pids: readonly number[]): Promise<number[]> {
  const running = new Set((await processTable()).filter((p) => p.running).map((p) => p.pid));
  return pids.filter((pid) => running.has(pid));
}

/** Every process under `pid`: its children, theirs, and so on. */
async function descendantsOf(pid: number): Promise<number[]> {
  const table = await processTable();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    const children = table.filter((p) => p.ppid === parent).map((p) => p.pid);
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

async function isPortOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "bin/choreoai stops on a signal to its PID alone: drains, exits 0, leaves nothing behind",
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      await t.step(signal, async () => {
        const dir = await Deno.makeTempDir({ prefix: "choreoai-launcher-" });
        const received = Promise.withResolvers<void>();
        const release = Promise.withResolvers<void>();
        await using upstream = startFakeOpenAI({
          onChat: async (body) => {
            received.resolve();
            await release.promise;
            return Response.json(completionBody(String(body.model), "drained"));
          },
        });
        const process = launcherCommand({
          CHOREOAI_PORT: "0",
          CHOREOAI_DB: `${dir}/usage.db`,
          CHOREOAI_DRAIN_MS: "20000",
          OPENAI_API_KEY: PROVIDER_KEY,
          OPENAI_BASE_URL: upstream.baseUrl,
        }).spawn();
        let tree = [process.pid];
        const gateway = await watchGateway(process);
        try {
          const port = Number(new URL(gateway.url).port);
          const answer = fetch(`${gateway.url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: "Bearer sk-client", "content-type": "application/json" },
            body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] }),
          });
          answer.catch(() => {}); // awaited below; a failed assertion before that must not mask it
          await received.promise;
          tree = [process.pid, ...await descendantsOf(process.pid)];

          process.kill(signal); // kill(2) on this PID only, as systemd's KillSignal does.
          // The listener closes at once; the request in flight is still being served.
          for (let i = 0; i < 250 && await isPortOpen(port); i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          assert.ok(!await isPortOpen(port), "the listener closes on the signal");
          release.resolve();
          const response = await answer;
          assert.equal(response.status, 200);
          assert.match(await response.text(), /"content":"drained"/);

          let deadline: ReturnType<typeof setTimeout> | undefined;
          const status = await Promise.race([
            gateway.exited,
            new Promise<never>((_, reject) => {
              deadline = setTimeout(
                () => reject(new Error(`no exit 15 s after ${signal}`)),
                15_000,
              );
            }),
          ]).finally(() => clearTimeout(deadline));
          assert.equal(status.code, 0);
          assert.match(
            gateway.lines.join("\n"),
            new RegExp(`"shutting down","signal":"${signal}"`),
          );
          assert.deepEqual(await stillRunning(tree), [], "processes left running");
        } finally {
          release.resolve();
          // Whatever a failed run left behind still holds the output pipes: end it, by PID.
          const left = await stillRunning(tree);
          if (left.length > 0) {
            const args = ["-c", 'kill -KILL "$@"', "kill", ...left.map(String)];
            await new Deno.Command("bash", { args }).output();
          }
          await gateway[Symbol.asyncDispose]();
          await Deno.remove(dir, { recursive: true });
        }
      });
    }
  },
});

Deno.test("README's systemd unit and Dockerfile run bin/choreoai as the main process, with time to drain", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Operating it"));
  const block = (lang: string) =>
    section.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"))?.[1] ?? "";
  const unit = block("ini");
  const setting = (name: string) => unit.match(new RegExp(`^\\s*${name}=(.*)$`, "m"))?.[1];
  assert.match(setting("ExecStart") ?? "", /\/bin\/choreoai$/);
  assert.equal(setting("KillSignal"), "SIGTERM");
  // After CHOREOAI_DRAIN_MS the gateway allows 2 s more before it exits on its own.
  const { drainMs } = parseConfig({});
  assert.ok(Number(setting("TimeoutStopSec")) * 1000 > drainMs + 2_000, "TimeoutStopSec > drain");
  // Exec form: no shell between the runtime and the launcher, which then execs Deno.
  const entrypoint = block("dockerfile").match(/^\s*ENTRYPOINT (\[.*\])$/m)?.[1];
  assert.ok(entrypoint !== undefined, "the Dockerfile has an exec-form ENTRYPOINT");
  assert.match(JSON.parse(entrypoint)[0], /\/bin\/choreoai$/);
});
