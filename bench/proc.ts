/**
 * Linux /proc readings: process trees, CPU time, peak memory, per-core busy time, CPU affinity.
 *
 * CPU time comes from `/proc/<pid>/stat` (utime + stime, all threads of the process, in clock
 * ticks); peak memory from `VmHWM` in `/proc/<pid>/status`, which writing `5` to
 * `/proc/<pid>/clear_refs` resets, so each round measures its own peak.
 */

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ). */
export async function clockTicksPerSecond(): Promise<number> {
  try {
    const output = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" })
      .output();
    const value = Number(new TextDecoder().decode(output.stdout).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** The fields of `/proc/<pid>/stat` after the command name (which may contain spaces). */
function statFields(pid: number): string[] | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
}

/** `pid` and all its living descendants (e.g. nginx's master and worker). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const fields = statFields(Number(entry.name));
    if (fields === undefined) continue;
    const parent = Number(fields[1]); // field 4 of stat: ppid
    const list = children.get(parent) ?? [];
    list.push(Number(entry.name));
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && tree.length < 1000) {
    const next = queue.shift() as number;
    if (readText(`/proc/${next}/stat`) === undefined) continue;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** utime + stime of each living process, in clock ticks. */
export function cpuTicks(pids: readonly number[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const fields = statFields(pid);
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are cut off.
    if (fields !== undefined) ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
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
export function peakRssKib(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const match = readText(`/proc/${pid}/status`)?.match(/^VmHWM:\s+(\d+) kB/m);
    if (match?.[1] !== undefined) total += Number(match[1]);
  }
  return total;
}

/** Resets `VmHWM` of the processes to their current RSS; false when the kernel refused. */
export function resetPeakRss(pids: readonly number[]): boolean {
  let ok = true;
  for (const pid of pids) {
    try {
      Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** Busy and total jiffies of one core, from `/proc/stat`. */
export interface CoreTimes {
  readonly busy: number;
  readonly total: number;
}

/** Busy/total time of each core by number. */
export function coreTimes(): Map<number, CoreTimes> {
  const times = new Map<number, CoreTimes>();
  for (const line of (readText("/proc/stat") ?? "").split("\n")) {
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
export function allowedCpus(): number[] {
  const list = readText("/proc/self/status")?.match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
  if (list === undefined) return [];
  const cpus: number[] = [];
  for (const part of list.split(",")) {
    const [low, high] = part.split("-").map(Number);
    if (low === undefined || !Number.isInteger(low)) continue;
    for (let cpu = low; cpu <= (high ?? low) && cpus.length < 4096; cpu++) cpus.push(cpu);
  }
  return cpus;
}
