// deno-lint-ignore-file no-console -- a stress harness: it reports on the console
/**
 * Shared limits under CPU contention: two gateway processes sharing one redis-server, both
 * pinned to one core beside a CPU burner, get bursts of concurrent requests on one key limited
 * to `--rpm` requests per minute; each burst must admit exactly the limit.
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-read --allow-write --allow-run bench/redis_contention.ts
 * deno run … bench/redis_contention.ts --runs 3 --requests 500   # a quick look
 * ```
 *
 * Layout (2 cores): both gateways and the burner (`sh -c 'while :; do :; done'`) on `--cpu`
 * (default 0); redis-server and this runner on the other core. Every run uses a fresh key of the
 * key list (`rpm` = `--rpm`), so every burst starts from a full bucket. The requests are sent all
 * at once, alternately to each gateway (`choreoai/echo`, no upstream), and counted by status.
 *
 * The bucket refills continuously (one request per 60,000 / rpm ms), so a burst that lasts
 * longer than that may rightly admit a few more than the limit. An admitted request's
 * `x-ratelimit-remaining-requests` tells them apart: the shared bucket hands out 99 … 1 (for a
 * limit of 100) once each, and every admission after the one that emptied it says 0. So
 * "from the bucket" = admitted − (admissions saying 0) + 1, which must equal the limit exactly;
 * a replica that answered from its in-process fallback shows up as a second 99, 98, … and
 * makes it larger. "refilled" counts the admissions after the bucket was empty; the run also
 * checks that they are no more than the refill of the burst's duration allows.
 *
 * Also shown: each gateway's /health after the burst, and the reason of any "Redis unavailable"
 * warning it logged (a replica warns at most once a minute).
 * Prints one line per run, then a summary; exit 0 only when every run was exact.
 */
import { parseArgs } from "node:util";
import { digestKey, generateKey, keyHint } from "../src/keys/generate.ts";
import type { KeyRecord } from "../src/keys/key_file.ts";
import { freePort, type Managed, ProcessGroup, sleep, waitForHttp } from "./processes.ts";
import { startRedis } from "./redis.ts";

const ROOT_DIR = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];
const UNAVAILABLE = "Redis unavailable: rate limits are per replica until it answers again";

const USAGE = `Usage: bench/redis_contention.ts [--runs 20] [--requests 2000] [--rpm 100] [--cpu 0]
  --runs N       bursts, each on a fresh key (default 20)
  --requests N   concurrent requests per burst, half to each gateway (default 2000)
  --rpm N        the key's requests-per-minute limit (default 100)
  --cpu N        core of the two gateways and the burner; redis-server and the runner take
                 the other one (default 0)
  --no-burner    no CPU burner beside the gateways`;

interface Options {
  readonly runs: number;
  readonly requests: number;
  readonly rpm: number;
  readonly cpu: number;
  readonly burner: boolean;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      runs: { type: "string", default: "20" },
      requests: { type: "string", default: "2000" },
      rpm: { type: "string", default: "100" },
      cpu: { type: "string", default: "0" },
      "no-burner": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const integer = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`Cannot read --${name}: must be an integer ≥ ${min}, got "${text}"`);
    }
    return value;
  };
  return {
    runs: integer("runs", values.runs, 1),
    requests: integer("requests", values.requests, 1),
    rpm: integer("rpm", values.rpm, 1),
    cpu: integer("cpu", values.cpu, 0),
    burner: !values["no-burner"],
  };
}

function makeKey(index: number, rpm: number): { token: string; record: KeyRecord } {
  const token = generateKey(crypto.getRandomValues(new Uint8Array(24)));
  const record: KeyRecord = {
    id: `key_contention${String(index).padStart(3, "0")}`,
    name: `contention ${index}`,
    digest: digestKey(token),
    hint: keyHint(token),
    created_at: "2026-01-01T00:00:00Z",
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    models: null,
    endpoints: null,
    ips: null,
    rpm,
    tpm: null,
    metadata: {},
  };
  return { token, record };
}

/** One request's outcome: its status, and `x-ratelimit-remaining-requests` when admitted. */
interface Outcome {
  readonly status: number;
  readonly remaining: number | undefined;
}

async function chat(url: string, token: string): Promise<Outcome> {
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "choreoai/echo", messages: [{ role: "user", content: "hi" }] }),
    });
    await response.body?.cancel();
    const remaining = response.headers.get("x-ratelimit-remaining-requests");
    return {
      status: response.status,
      remaining: response.status === 200 && remaining !== null ? Number(remaining) : undefined,
    };
  } catch {
    return { status: 0, remaining: undefined };
  }
}

async function health(url: string): Promise<string> {
  try {
    const response = await fetch(`${url}/health`);
    return (await response.json()).status;
  } catch (error) {
    return `unreachable (${String(error)})`;
  }
}

/** The `reason` of each "Redis unavailable" warning in a gateway's stderr (JSON lines). */
async function warnings(path: string): Promise<string[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return [];
  }
  return text.split("\n").filter((line) => line.includes(UNAVAILABLE)).map((line) => {
    try {
      return String(JSON.parse(line).reason);
    } catch {
      return line;
    }
  });
}

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  const otherCpu = options.cpu === 0 ? 1 : 0;
  const dir = await Deno.makeTempDir({ prefix: "choreoai-contention-" });
  const group = new ProcessGroup(dir);
  const stopAll = () => void group.stopAll();
  Deno.addSignalListener("SIGINT", stopAll);
  try {
    const keys = Array.from({ length: options.runs }, (_, i) => makeKey(i + 1, options.rpm));
    await Deno.writeTextFile(
      `${dir}/keys.json`,
      `${JSON.stringify({ version: 1, keys: keys.map((k) => k.record) }, null, 2)}\n`,
    );
    const redis = await startRedis(group, "redis-server", `${dir}/redis`, otherCpu);
    const gateways: { process: Managed; url: string }[] = [];
    for (const name of ["a", "b"]) {
      const port = freePort();
      const process = group.spawn(`gateway-${name}`, "deno", ["run", ...PERMISSIONS, "main.ts"], {
        cpu: options.cpu,
        cwd: ROOT_DIR,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: Deno.env.get("HOME") ?? dir,
          ...(Deno.env.has("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR") ?? "" } : {}),
          NO_COLOR: "1",
          CHOREOAI_PORT: String(port),
          CHOREOAI_KEYS_FILE: `${dir}/keys.json`,
          CHOREOAI_DB: `${dir}/${name}.db`,
          CHOREOAI_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
        },
      });
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/health`, process);
      gateways.push({ process, url });
    }
    for (
      let i = 0;
      i < 100 && (await Promise.all(gateways.map((g) => health(g.url)))).some(
        (status) => status !== "ok",
      );
      i++
    ) await sleep(100);
    if (options.burner) {
      group.spawn("burner", "sh", ["-c", "while :; do :; done"], { cpu: options.cpu });
    }
    console.log(
      `${options.runs} runs: ${options.requests} concurrent requests, rpm ${options.rpm}; ` +
        `2 gateways${options.burner ? " + CPU burner" : ""} on core ${options.cpu}, ` +
        `redis-server and runner on core ${otherCpu}`,
    );

    const refillMs = 60_000 / options.rpm;
    let exact = 0;
    for (const [index, key] of keys.entries()) {
      const before = await Promise.all(gateways.map((g) => warnings(g.process.stderrPath)));
      const started = performance.now();
      const outcomes = await Promise.all(
        Array.from(
          { length: options.requests },
          (_, i) => chat(gateways[i % gateways.length]?.url ?? "", key.token),
        ),
      );
      const elapsedMs = performance.now() - started;
      const after = await Promise.all(gateways.map((g) => warnings(g.process.stderrPath)));
      const admitted = outcomes.filter((o) => o.status === 200);
      const refused = outcomes.filter((o) => o.status === 429).length;
      const other = outcomes.length - admitted.length - refused;
      const zeros = admitted.filter((o) => o.remaining === 0).length;
      const refilled = Math.max(0, zeros - 1);
      const fromBucket = admitted.length - refilled;
      const maxRefill = Math.floor(elapsedMs / refillMs);
      const warned = after.flatMap((reasons, i) => reasons.slice(before[i]?.length ?? 0));
      const statuses = await Promise.all(gateways.map((g) => health(g.url)));
      const ok = fromBucket === options.rpm && refilled <= maxRefill && other === 0;
      if (ok) exact++;
      console.log(
        `run ${String(index + 1).padStart(2)}: ${String(admitted.length).padStart(4)} admitted ` +
          `(${fromBucket} from the bucket + ${refilled} refilled, refill allows ${maxRefill}), ` +
          `${refused} refused, ${other} other; ${(elapsedMs / 1_000).toFixed(1)} s; ` +
          `health ${statuses.join("/")}` +
          (warned.length === 0 ? "" : `; warned: ${warned.join(" | ")}`) +
          (ok ? "" : "  <-- NOT EXACT"),
      );
      // Let a tripped replica rejoin before the next burst, so each run stands on its own.
      for (let i = 0; i < 50 && statuses.some((s) => s !== "ok"); i++) {
        await sleep(100);
        statuses.splice(
          0,
          statuses.length,
          ...await Promise.all(gateways.map((g) => health(g.url))),
        );
      }
    }
    console.log(`exact: ${exact} of ${options.runs} runs`);
    return exact === options.runs ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", stopAll);
    await group.stopAll();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
