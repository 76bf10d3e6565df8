/**
 * CPU time and memory of a process, read from Linux's `/proc`: how the load
 * generator measures the server it drives (`--spawn`, `--pid`) and itself.
 *
 * @module
 */

let clockTicks: number | undefined;

/**
 * Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`,
 * almost always 100). Asked once, then cached.
 *
 * @example
 * ```ts ignore
 * import { clockTicksPerSecond } from "./proc_stats.ts";
 * console.log(await clockTicksPerSecond()); // 100
 * ```
 */
export async function clockTicksPerSecond(): Promise<number> {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const output = await new Deno.Command("getconf", {
      args: ["CLK_TCK"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const value = Number(new TextDecoder().decode(output.stdout).trim());
    clockTicks = Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** One reading of a process's (or thread's) resource use. */
export interface ProcSample {
  /** When it was read (`performance.now()`, ms). */
  atMs: number;
  /** User plus system CPU time so far, in seconds. */
  cpuSeconds: number;
  /** Resident set size in bytes (`VmRSS`); 0 for a thread sample. */
  rssBytes: number;
}

/**
 * Parses the user + system time (in clock ticks) out of a
 * `/proc/<pid>/stat` line. The command name may hold spaces and
 * parentheses, so fields are counted from the last `)`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseStatTicks } from "./proc_stats.ts";
 *
 * const line = "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
 * deepEqual(parseStatTicks(line), 300);
 * ```
 */
export function parseStatTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot parse /proc stat line: ${stat.slice(0, 80)}`);
  }
  return utime + stime;
}

/**
 * Parses `VmRSS` (in bytes) out of a `/proc/<pid>/status` text; 0 when it
 * is absent (a zombie process).
 *
 * @example
 * ```ts
 * import { parseRssBytes } from "./proc_stats.ts";
 * console.log(parseRssBytes("Name:\tdeno\nVmRSS:\t  2048 kB\n")); // 2097152
 * ```
 */
export function parseRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Reads the CPU time and RSS of process `pid` (`"self"` for this one).
 * Throws `Deno.errors.NotFound` once the process is gone.
 *
 * @example
 * ```ts
 * import { sampleProcess } from "./proc_stats.ts";
 * const sample = await sampleProcess("self");
 * console.log(sample.rssBytes > 0);
 * ```
 */
export async function sampleProcess(
  pid: number | "self",
): Promise<ProcSample> {
  const ticks = await clockTicksPerSecond();
  // Synchronous reads (tens of µs for /proc files): an async read's result
  // can wait behind a busy event loop, and a timestamp taken then would
  // shrink the interval and inflate the CPU share.
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const atMs = performance.now();
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return {
    atMs,
    cpuSeconds: parseStatTicks(stat) / ticks,
    rssBytes: parseRssBytes(status),
  };
}

/**
 * Reads the CPU time of one thread: this process's main thread by default,
 * the one that runs JavaScript and (in Deno) polls the sockets. Its use
 * near 100 % of a core means the program is saturated, whatever its helper
 * threads do.
 *
 * @example
 * ```ts
 * import { sampleThread } from "./proc_stats.ts";
 * console.log((await sampleThread()).cpuSeconds >= 0);
 * ```
 */
export async function sampleThread(
  pid: number = Deno.pid,
  tid: number = pid,
): Promise<ProcSample> {
  const ticks = await clockTicksPerSecond();
  // Synchronous, for the reason given in sampleProcess.
  const stat = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/stat`);
  return {
    atMs: performance.now(),
    cpuSeconds: parseStatTicks(stat) / ticks,
    rssBytes: 0,
  };
}

/**
 * CPU used between two samples as a fraction of one core (1 = one core
 * busy all the time); 0 when no time passed.
 *
 * @example
 * ```ts
 * import { cpuShare } from "./proc_stats.ts";
 * const a = { atMs: 0, cpuSeconds: 1, rssBytes: 0 };
 * const b = { atMs: 2000, cpuSeconds: 2.5, rssBytes: 0 };
 * console.log(cpuShare(a, b)); // 0.75
 * ```
 */
export function cpuShare(from: ProcSample, to: ProcSample): number {
  const seconds = (to.atMs - from.atMs) / 1000;
  return seconds > 0 ? (to.cpuSeconds - from.cpuSeconds) / seconds : 0;
}

/** CPU time of the whole machine, from the first line of `/proc/stat`. */
export interface SystemCpuSample {
  /** When it was read (`performance.now()`, ms). */
  atMs: number;
  /** CPU seconds spent on anything but idling, summed over all CPUs. */
  busySeconds: number;
}

/**
 * Parses the busy clock ticks (all but idle and iowait) of the aggregate
 * `cpu` line of `/proc/stat`.
 *
 * @example
 * ```ts
 * import { parseSystemBusyTicks } from "./proc_stats.ts";
 * console.log(parseSystemBusyTicks("cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 2 3")); // 160
 * ```
 */
export function parseSystemBusyTicks(stat: string): number {
  const line = stat.split("\n", 1)[0];
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (line.split(/\s+/)[0] !== "cpu" || fields.length < 4) {
    throw new Error(`cannot parse /proc/stat: ${line.slice(0, 80)}`);
  }
  // user nice system idle iowait irq softirq steal (guest time is already
  // counted in user).
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

/**
 * Reads how much CPU the whole machine has used so far, to tell how much
 * of it went to processes other than the ones being measured.
 *
 * @example
 * ```ts
 * import { sampleSystem } from "./proc_stats.ts";
 * console.log((await sampleSystem()).busySeconds > 0);
 * ```
 */
export async function sampleSystem(): Promise<SystemCpuSample> {
  const ticks = await clockTicksPerSecond();
  // Synchronous, for the reason given in sampleProcess.
  const stat = Deno.readTextFileSync("/proc/stat");
  return {
    atMs: performance.now(),
    busySeconds: parseSystemBusyTicks(stat) / ticks,
  };
}
