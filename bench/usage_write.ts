// deno-lint-ignore-file no-console -- a benchmark CLI: it reports on the console
/**
 * How fast usage records reach each store: N records queued at once, then the time until the
 * recorder has written them all (`flush()`), for SQLite (a temp file) and PostgreSQL (a cluster
 * of its own, started here), interleaved over several rounds; median and range in records/s.
 *
 *   deno run -A bench/usage_write.ts [--records 20000] [--rounds 5]
 *
 * Needs PostgreSQL's server binaries (Debian `postgresql`); without them only SQLite is measured.
 */
import { parseArgs } from "node:util";
import { connectDatabase } from "../src/db/connect.ts";
import { migrate } from "../src/db/migrations.ts";
import { openPostgresUsageRecorder } from "../src/db/usage_recorder.ts";
import { createLogger } from "../src/log.ts";
import { openUsageRecorder, type UsageRecorder } from "../src/usage/recorder.ts";
import { hasPostgres, startPostgres } from "../tests/_helpers/postgres.ts";
import { usageRecord } from "../tests/_helpers/usage_records.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    records: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
  },
});
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
const log = createLogger((line) => console.error(line), Date.now);

async function timeWrites(recorder: UsageRecorder): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < RECORDS; i++) {
    recorder.record(usageRecord({ key_id: `key_${i % 50}`, time: Date.now(), model: `m${i % 7}` }));
  }
  await recorder.flush();
  const seconds = (performance.now() - started) / 1000;
  await recorder.close();
  return RECORDS / seconds;
}

function summary(rates: number[]): string {
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const k = (n: number) => `${Math.round(n).toLocaleString("en")}`;
  return `${k(median)} records/s (${k(sorted[0] ?? 0)}–${k(sorted.at(-1) ?? 0)})`;
}

const dir = await Deno.makeTempDir({ prefix: "choreoai-usage-bench-" });
const pg = await hasPostgres() ? await startPostgres() : undefined;
const sql = pg === undefined ? undefined : connectDatabase(pg.url, { max: 4 });
try {
  if (sql !== undefined) await migrate(sql);
  const rates = { sqlite: [] as number[], postgres: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    rates.sqlite.push(await timeWrites(openUsageRecorder(`${dir}/usage-${round}.db`, { log })));
    if (sql !== undefined) {
      rates.postgres.push(await timeWrites(openPostgresUsageRecorder(sql, { log })));
    }
  }
  console.log(`${RECORDS} records per round, ${ROUNDS} rounds, interleaved`);
  console.log(`SQLite:     ${summary(rates.sqlite)}`);
  console.log(`PostgreSQL: ${sql === undefined ? "not installed" : summary(rates.postgres)}`);
} finally {
  await sql?.end({ timeout: 1 });
  await pg?.[Symbol.asyncDispose]();
  await Deno.remove(dir, { recursive: true });
}
