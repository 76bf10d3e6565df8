/**
 * CPU time, memory and open files of processes, read from Linux's `/proc`:
 * how the tools measure the servers they drive (and themselves).
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

/** Machine-wide counters: CPU time, and the network's loss signals. */
export interface SystemCpuSample {
  /** When it was read (`performance.now()`, ms). */
  atMs: number;
  /** CPU seconds spent on anything but idling, summed over all CPUs. */
  busySeconds: number;
  /** TCP segments retransmitted so far (`/proc/net/snmp`); null if unknown. */
  tcpRetransmits: number | null;
  /**
   * Packets dropped so far because a CPU's input backlog was full
   * (`/proc/net/softnet_stat`); null if unknown. On loopback a burst of
   * writes to thousands of sockets can overflow it, and each drop comes
   * back as a retransmission 200 ms or more later: a latency tail that is
   * the kernel's, not the server's.
   */
  backlogDrops: number | null;
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
 * Parses the `RetransSegs` counter of the `Tcp:` lines of `/proc/net/snmp`.
 *
 * @example
 * ```ts
 * import { parseTcpRetransmits } from "./proc_stats.ts";
 * const snmp = "Tcp: RtoAlgorithm RetransSegs InErrs\nTcp: 1 42 0\n";
 * console.log(parseTcpRetransmits(snmp)); // 42
 * ```
 */
export function parseTcpRetransmits(snmp: string): number {
  const [names, values] = snmp.split("\n").filter((line) =>
    line.startsWith("Tcp:")
  ).map((line) => line.trim().split(/\s+/));
  const index = names?.indexOf("RetransSegs") ?? -1;
  const value = index > 0 ? Number(values?.[index]) : NaN;
  if (!Number.isFinite(value)) {
    throw new Error("cannot find Tcp RetransSegs in /proc/net/snmp");
  }
  return value;
}

/**
 * Sums the second column (packets dropped, hexadecimal) of every CPU's
 * line of `/proc/net/softnet_stat`.
 *
 * @example
 * ```ts
 * import { parseBacklogDrops } from "./proc_stats.ts";
 * console.log(parseBacklogDrops("0000ff00 0000000a 0\n00000100 00000005 0\n")); // 15
 * ```
 */
export function parseBacklogDrops(softnet: string): number {
  let drops = 0;
  for (const line of softnet.split("\n")) {
    const column = line.trim().split(/\s+/)[1];
    if (column === undefined) continue;
    const value = parseInt(column, 16);
    if (Number.isNaN(value)) {
      throw new Error(`cannot parse /proc/net/softnet_stat: ${line}`);
    }
    drops += value;
  }
  return drops;
}

/** Reads `path` and parses it, or gives null (no procfs, other layout). */
function readCounter(path: string, parse: (text: string) => number) {
  try {
    return parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

/**
 * Reads how much CPU the whole machine has used so far, to tell how much
 * of it went to processes other than the ones being measured, and its
 * network loss counters.
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
    tcpRetransmits: readCounter("/proc/net/snmp", parseTcpRetransmits),
    backlogDrops: readCounter("/proc/net/softnet_stat", parseBacklogDrops),
  };
}

/**
 * The processes of process group `pgid` (a server started in a group of
 * its own, with whatever it started), and their descendants that made
 * groups of their own (a launcher's nodes each in its own group), from
 * `/proc/<pid>/stat`.
 *
 * @example
 * ```ts
 * import { groupMembers } from "./proc_stats.ts";
 * console.log(Array.isArray(groupMembers(1)));
 * ```
 */
export function groupMembers(pgid: number): number[] {
  const parents = new Map<number, number>();
  const inGroup: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // After the command name (which may hold spaces): state ppid pgrp.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(entry.name);
      parents.set(pid, Number(fields[1]));
      if (Number(fields[2]) === pgid) inGroup.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  const members = new Set(inGroup);
  // Descendants of the members, through any number of generations.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!members.has(pid) && members.has(parent)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/** One reading of a process group's resource use, summed over it. */
export interface GroupSample extends ProcSample {
  /** Peak resident memory so far (`VmHWM`), summed. */
  hwmBytes: number;
  /** Open file descriptors, summed. */
  fds: number;
  /** Processes in the group. */
  processes: number;
}

function statusKilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
  return match ? Number(match[1]) : 0;
}

/**
 * Reads the CPU time, memory and open files of every process in group
 * `pgid`; `null` when none is left. CPU time of processes that already
 * exited is not counted (the kernel keeps it only for their parent).
 *
 * @example
 * ```ts
 * import { sampleGroup } from "./proc_stats.ts";
 * const self = Number(Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[2]);
 * console.log((await sampleGroup(self))!.processes >= 1);
 * ```
 */
export async function sampleGroup(pgid: number): Promise<GroupSample | null> {
  const ticks = await clockTicksPerSecond();
  const sample: GroupSample = {
    atMs: performance.now(),
    cpuSeconds: 0,
    rssBytes: 0,
    hwmBytes: 0,
    fds: 0,
    processes: 0,
  };
  for (const pid of groupMembers(pgid)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      let fds = 0;
      for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
      sample.cpuSeconds += parseStatTicks(stat) / ticks;
      sample.rssBytes += statusKilobytes(status, "VmRSS") * 1024;
      sample.hwmBytes += statusKilobytes(status, "VmHWM") * 1024;
      sample.fds += fds;
      sample.processes++;
    } catch {
      // It exited between the listing and the reads.
    }
  }
  sample.atMs = performance.now();
  return sample.processes > 0 ? sample : null;
}
