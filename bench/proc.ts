/**
 * Linux /proc readings: process trees, CPU time, peak memory, per-core busy time, CPU affinity.
 *
 * Deno only lets `--allow-all` programs open /proc, and `deno task bench` runs with named
 * permissions, so /proc is read through a short `sh`/`cat` child ({@linkcode readProcFiles}).
 *
 * CPU time comes from `/proc/<pid>/stat` (utime + stime, all threads of the process, in clock
 * ticks); peak memory from `VmHWM` in `/proc/<pid>/status`, which writing `5` to
 * `/proc/<pid>/clear_refs` resets, so each round measures its own peak.
 */

const decoder = new TextDecoder();

/** Runs `sh -c script` with arguments; its stdout, or undefined if it failed to run. */
async function sh(script: string, args: readonly string[] = []): Promise<string | undefined> {
  try {
    const output = await new Deno.Command("sh", {
      args: ["-c", script, "sh", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(10_000),
    }).output();
    return decoder.decode(output.stdout);
  } catch {
    return undefined;
  }
}

/** The contents of each file (undefined when unreadable), read by one `cat` child. */
export async function readProcFiles(paths: readonly string[]): Promise<(string | undefined)[]> {
  if (paths.length === 0) return [];
  const script = 'for f in "$@"; do if cat "$f" 2>/dev/null; then printf "\\0+"; ' +
    'else printf "\\0-"; fi; done';
  const output = await sh(script, paths);
  if (output === undefined) return paths.map(() => undefined);
  const parts = output.split("\0");
  const contents: (string | undefined)[] = [];
  let text = parts[0] ?? "";
  for (let i = 1; i <= paths.length; i++) {
    const part = parts[i] ?? "-";
    contents.push(part.startsWith("+") ? text : undefined);
    text = part.slice(1);
  }
  return contents;
}

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ). */
export async function clockTicksPerSecond(): Promise<number> {
  const value = Number((await sh("getconf CLK_TCK"))?.trim());
  return Number.isInteger(value) && value > 0 ? value : 100;
}

/** The fields of a stat line after the command name (which may contain spaces). */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
}

/** `pid` and all its living descendants (e.g. nginx's master and worker). */
export async function processTree(pid: number): Promise<number[]> {
  const output = await sh("cat /proc/[0-9]*/stat 2>/dev/null") ?? "";
  const children = new Map<number, number[]>();
  const alive = new Set<number>();
  for (const line of output.split("\n")) {
    const own = Number(line.slice(0, line.indexOf(" ")));
    if (!Number.isInteger(own) || own <= 0) continue;
    const fields = statFields(line);
    if (fields[0] === "Z" || fields[0] === "X") continue; // exited
    alive.add(own);
    const parent = Number(fields[1]); // field 4 of stat: ppid
    const list = children.get(parent) ?? [];
    list.push(own);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && tree.length < 1000) {
    const next = queue.shift() as number;
    if (!alive.has(next)) continue;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** Whether a process exists and has not exited. */
export async function isAlive(pid: number): Promise<boolean> {
  const [text] = await readProcFiles([`/proc/${pid}/stat`]);
  if (text === undefined) return false;
  const state = statFields(text)[0];
  return state !== "Z" && state !== "X";
}

/** utime + stime of each living process, in clock ticks. */
export async function cpuTicks(pids: readonly number[]): Promise<Map<number, number>> {
  const texts = await readProcFiles(pids.map((pid) => `/proc/${pid}/stat`));
  const ticks = new Map<number, number>();
  pids.forEach((pid, i) => {
    const text = texts[i];
    if (text === undefined) return;
    const fields = statFields(text);
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are cut off.
    ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  });
  return ticks;
}

/**
 * cutime + cstime of this process: CPU ticks of its children that have exited and been waited
 * for (e.g. a finished wrk run), in clock ticks.
 */
export async function reapedChildrenTicks(): Promise<number> {
  const [text] = await readProcFiles([`/proc/${Deno.pid}/stat`]);
  if (text === undefined) return Number.NaN;
  const fields = statFields(text);
  // Fields 16 and 17 of stat (cutime, cstime).
  return Number(fields[13]) + Number(fields[14]);
}

/** CPU seconds used between two {@linkcode cpuTicks} readings (new processes count fully). */
export function cpuSecondsBetween(
  before: Map<number, number>,
  after: Map<number, number>,
  ticksPerSecond: number,
): number {
  let ticks = 0;
  for (const [pid, value] of after) ticks += value - (before.get(pid) ?? 0);
  return ticks / ticksPerSecond;
}

/** Sum of `VmHWM` (peak resident memory) over the processes, in KiB. */
export async function peakRssKib(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const text of await readProcFiles(pids.map((pid) => `/proc/${pid}/status`))) {
    const match = text?.match(/^VmHWM:\s+(\d+) kB/m);
    if (match?.[1] !== undefined) total += Number(match[1]);
  }
  return total;
}

/** Sum of `VmRSS` (resident memory now) over the processes, in KiB. */
export async function rssKib(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const text of await readProcFiles(pids.map((pid) => `/proc/${pid}/status`))) {
    const match = text?.match(/^VmRSS:\s+(\d+) kB/m);
    if (match?.[1] !== undefined) total += Number(match[1]);
  }
  return total;
}

/** Resets `VmHWM` of the processes to their current RSS; false when the kernel refused. */
export async function resetPeakRss(pids: readonly number[]): Promise<boolean> {
  if (pids.length === 0) return true;
  const script = 'ok=1; for p in "$@"; do echo 5 2>/dev/null >"/proc/$p/clear_refs" || ok=0; ' +
    "done; echo $ok";
  return (await sh(script, pids.map(String)))?.trim() === "1";
}

/** Busy and total jiffies of one core, from `/proc/stat`. */
export interface CoreTimes {
  readonly busy: number;
  readonly total: number;
}

/** Busy/total time of each core by number. */
export async function coreTimes(): Promise<Map<number, CoreTimes>> {
  const [text] = await readProcFiles(["/proc/stat"]);
  const times = new Map<number, CoreTimes>();
  for (const line of (text ?? "").split("\n")) {
    const match = line.match(/^cpu(\d+)\s+(.*)$/);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const values = match[2].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest times are already in user).
    const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    times.set(Number(match[1]), { busy: total - idle, total });
  }
  return times;
}

/** Percentage of time a core was busy between two {@linkcode coreTimes} readings. */
export function busyPercent(
  before: Map<number, CoreTimes>,
  after: Map<number, CoreTimes>,
  core: number,
): number | null {
  const a = before.get(core);
  const b = after.get(core);
  if (a === undefined || b === undefined || b.total <= a.total) return null;
  return (100 * (b.busy - a.busy)) / (b.total - a.total);
}

/** The CPUs this process may run on (`Cpus_allowed_list`), in ascending order. */
export async function allowedCpus(): Promise<number[]> {
  const [status] = await readProcFiles([`/proc/${Deno.pid}/status`]);
  const list = status?.match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
  if (list === undefined) return [];
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const [low, high] = part.split("-").map(Number);
    if (low === undefined || !Number.isInteger(low)) continue;
    for (let cpu = low; cpu <= (high ?? low) && cpus.length < 4096; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The command name of a process (`/proc/<pid>/comm`), e.g. `deno` or `nginx`. */
export async function processName(pid: number): Promise<string> {
  const [text] = await readProcFiles([`/proc/${pid}/comm`]);
  return text?.trim() ?? "?";
}

/** The 1, 5 and 15 minute load averages. */
export async function loadAverage(): Promise<string> {
  const [text] = await readProcFiles(["/proc/loadavg"]);
  return text?.split(" ").slice(0, 3).join(" ") ?? "?";
}
