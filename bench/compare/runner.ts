/**
 * Runs every workload against every server, fresh server per run,
 * interleaved and repeated, and records each run's report and fate.
 *
 * @module
 */

import { sampleSystem } from "../../lib/proc_stats.ts";
import type { ServerProcess } from "../../lib/server_process.ts";
import { VERSION } from "../../lib/version.ts";
import { REPO_ROOT } from "../../targets/servers.ts";
import type { LoadReport } from "../load/report.ts";
import {
  clientTargets,
  type CompareServer,
  fillFiles,
  serverPid,
  startCompareServer,
} from "./servers.ts";
import { loadFlags, type Workload, type WorkloadPoint } from "./workloads.ts";

/** What happened in one run of one point against one server. */
export interface RunRecord {
  /** Round number, from 1. */
  round: number;
  /** Workload id. */
  workload: string;
  /** Point label within the workload. */
  point: string;
  /** Server id. */
  server: string;
  /**
   * `"ok"`: the server relayed every line exactly once; `"failed"`: it
   * crashed, stalled, refused, lost or corrupted lines (see `reason`).
   */
  status: "ok" | "failed";
  /** Why it failed, one line. */
  reason: string | null;
  /** Remarks that do not fail the run (echoes, foreign lines). */
  notes: string[];
  /** Whether the load generator judged its own measurement valid. */
  valid: boolean;
  /** Why not. */
  invalidReasons: string[];
  /** The load generator's warnings (absent in results of before 0.2.0). */
  warnings?: string[];
  /** Wall time of the run, s. */
  seconds: number;
  /**
   * Cores other processes were using just before the run (the machine is
   * shared), and how long the run waited for them to quieten, s.
   */
  machineBusyBefore: { cores: number; waitedSeconds: number } | null;
  /** The load generator's report, when it produced one. */
  report: LoadReport | null;
}

/** A server as recorded in the results. */
export interface ServerRecord {
  id: string;
  name: string;
  description: string;
  /** Its command line, `{port}` for the port. */
  command: string;
  /** Where its clients connect, when not its ports over TCP. */
  connect?: string[];
  baseline: boolean;
}

/** Everything `deno task compare` measured; written as JSON. */
export interface CompareResults {
  /** The layout of this file. */
  version: 1;
  /** linechat's version (`lib/version.ts`) that measured it. */
  toolVersion?: string;
  /** Day of the run, `YYYY-MM-DD`. */
  date: string;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  rounds: number;
  machine: Record<string, string | number>;
  servers: ServerRecord[];
  /** Servers that could not be included, and why. */
  missing: string[];
  workloads: (Workload & { loadCommands: Record<string, string> })[];
  runs: RunRecord[];
}

/** Options for {@linkcode runCompare}. */
export interface CompareOptions {
  /** Servers to measure (from `targets/servers.ts`, and compare's variants). */
  servers: CompareServer[];
  /** Servers that could not be included, and why (recorded as is). */
  missing?: string[];
  /** Workloads to run. */
  workloads: readonly Workload[];
  /**
   * Rounds; each runs every point against every server once.
   *
   * @default {3}
   */
  rounds?: number;
  /**
   * Use each workload's `quickPoints`.
   *
   * @default {false}
   */
  quick?: boolean;
  /**
   * The load generator's workers in every point, instead of each
   * point's own setting.
   *
   * @default {undefined}
   */
  workers?: number | "auto";
  /**
   * Directory servers are started in (commands are relative to it).
   *
   * @default {the repository root}
   */
  cwd?: string;
  /**
   * Called after each run (progress, incremental saving).
   *
   * @default {undefined}
   */
  onRun?: (run: RunRecord, results: CompareResults) => void | Promise<void>;
  /**
   * Called before each run with a one-line description.
   *
   * @default {undefined}
   */
  onStart?: (line: string) => void;
  /**
   * Stops the comparison: the run in progress is killed (its server and
   * load generator) and the results so far are returned.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Before each run, wait (at most 60 s) until other processes use less
   * than a quarter of a core: the machine may be shared.
   *
   * @default {true}
   */
  waitForQuiet?: boolean;
}

const LOAD_MAIN = new URL("../load/main.ts", import.meta.url).pathname;

/**
 * The `deno task load` command line that reproduces a point.
 *
 * @example
 * ```ts
 * import { loadCommand } from "./runner.ts";
 * console.log(loadCommand({ label: "x", clients: 2, load: { clients: 2, rate: 0 } }));
 * // "deno task load --target 127.0.0.1:PORT --pid PID --clients 2 --rate 0"
 * ```
 */
export function loadCommand(point: WorkloadPoint): string {
  return [
    "deno task load --target 127.0.0.1:PORT --pid PID",
    ...loadFlags(
      point.load,
    ),
  ].join(" ");
}

async function machineInfo(): Promise<Record<string, string | number>> {
  const info: Record<string, string | number> = {
    os: `${Deno.build.os} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    cpus: navigator.hardwareConcurrency,
  };
  try {
    const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
    info.cpu = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
    const meminfo = await Deno.readTextFile("/proc/meminfo");
    const kb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
    info.memoryGiB = Math.round(kb / 1024 / 1024);
    info.kernel = (await Deno.readTextFile("/proc/sys/kernel/osrelease"))
      .trim();
  } catch {
    // Not Linux: the generator's /proc sampling will say so too.
  }
  for (
    const [name, args] of [
      ["nim", ["--version"]],
      ["ncat", ["--version"]],
    ] as const
  ) {
    try {
      const out = await new Deno.Command(name, {
        args: [...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      info[name] = text.trim().split("\n")[0];
    } catch {
      // Not installed; the server list says so.
    }
  }
  return info;
}

/**
 * Upper bound on one load run's time, from its settings, ms.
 *
 * @example
 * ```ts
 * import { runTimeLimitMs } from "./runner.ts";
 * console.log(runTimeLimitMs({ label: "x", clients: 2, load: { clients: 2 } }) > 60_000); // true
 * ```
 */
export function runTimeLimitMs(point: WorkloadPoint): number {
  const load = point.load;
  const clients = (load.clients ?? 100) + (load.slowConsumers ?? 0);
  const connectRate = load.connectRate ?? 1000;
  const ramp = connectRate > 0 ? (clients / connectRate) * 1000 : 0;
  const settle = (load.rssSteps ?? 10) * (load.rssSettleMs ?? 250);
  const join = load.joinTimeoutMs ?? 10_000 + 2 * clients;
  return ramp + 30_000 + settle + join + (load.warmupMs ?? 2000) +
    (load.durationMs ?? 10_000) + (load.drainMs ?? 5000) + 30_000;
}

/**
 * Runs `deno task load` against a started server, in a process of its
 * own, and reads its JSON report (or says why there is none).
 */
async function runLoadProcess(
  server: ServerProcess,
  known: CompareServer,
  point: WorkloadPoint,
  signal: AbortSignal | undefined,
): Promise<{ report: LoadReport | null; error: string | null }> {
  const addresses = clientTargets(known, server.port);
  const pid = known.connect || addresses.length === 1
    ? serverPid(server)
    : undefined;
  const targets = addresses.flatMap((target) => ["--target", target]);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      LOAD_MAIN,
      ...targets,
      // A cluster's pid is its launcher's, not its nodes': no CPU or
      // memory figures rather than wrong ones.
      ...(pid === undefined ? [] : ["--pid", String(pid)]),
      ...(known.ca ? ["--ca", fillFiles(known.ca, known.files)] : []),
      "--json",
      ...loadFlags(point.load),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, runTimeLimitMs(point));
  signal?.addEventListener("abort", kill);
  const output = await child.output();
  clearTimeout(timer);
  signal?.removeEventListener("abort", kill);
  if (signal?.aborted) return { report: null, error: "aborted" };
  if (timedOut) {
    return { report: null, error: "the load generator timed out" };
  }
  const stdout = new TextDecoder().decode(output.stdout);
  try {
    return { report: JSON.parse(stdout) as LoadReport, error: null };
  } catch {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    return {
      report: null,
      error: `the load generator failed (exit ${output.code}): ${
        (stderr || stdout).slice(-300)
      }`,
    };
  }
}

/**
 * Judges a run: failed if the server did not relay every line exactly
 * once, whatever the reason; otherwise ok, with notes.
 *
 * @example
 * ```ts ignore
 * import { classifyRun } from "./runner.ts";
 * const { status, reason } = classifyRun(report, true);
 * ```
 */
export function classifyRun(
  report: LoadReport,
  serverAlive: boolean,
): { status: "ok" | "failed"; reason: string | null; notes: string[] } {
  const notes: string[] = [];
  const a = report.accounting;
  if (!serverAlive) {
    return { status: "failed", reason: "the server crashed", notes };
  }
  if (report.failure) {
    return { status: "failed", reason: report.failure, notes };
  }
  if (a.echoed > 0) {
    notes.push(
      `echoed ${a.echoed} line${
        a.echoed === 1 ? "" : "s"
      } back to their senders (§2.2)`,
    );
  }
  if (a.foreign > 0) {
    notes.push(`${a.foreign} unrecognised line${a.foreign === 1 ? "" : "s"}`);
  }
  const problems: string[] = [];
  if (a.lost > 0) {
    const share = a.expected > 0 ? (a.lost / a.expected) * 100 : 0;
    problems.push(
      `${
        a.delivered / a.expected < 0.5 ? "stalled: " : ""
      }lost ${a.lost} of ${a.expected} deliveries (${
        share.toFixed(share < 1 ? 3 : 1)
      } %)`,
    );
  }
  if (a.duplicated > 0) problems.push(`${a.duplicated} duplicated`);
  if (a.reordered > 0) problems.push(`${a.reordered} reordered`);
  if (a.malformed > 0) problems.push(`${a.malformed} malformed`);
  if (report.disconnects.total > 0) {
    problems.push(`closed ${report.disconnects.total} clients`);
  }
  return problems.length > 0
    ? { status: "failed", reason: problems.join(", "), notes }
    : { status: "ok", reason: null, notes };
}

/**
 * Rotates `items` left by `by` places (the server order of a round).
 *
 * @example
 * ```ts
 * import { rotate } from "./runner.ts";
 * console.log(rotate(["a", "b", "c"], 1)); // ["b", "c", "a"]
 * ```
 */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Runs the comparison: for each round, each workload point, each server
 * (in an order that rotates from round to round), a fresh server and one
 * load-generator process. A server that does not start, crashes, stalls
 * or refuses is recorded as failed for that run and the comparison goes
 * on.
 *
 * @example
 * ```ts ignore
 * import { runCompare } from "./runner.ts";
 * import { compareServers } from "./servers.ts";
 * import { WORKLOADS } from "./workloads.ts";
 *
 * const { servers } = await compareServers([]);
 * const results = await runCompare({ servers, workloads: WORKLOADS, quick: true, rounds: 1 });
 * console.log(results.runs.length);
 * ```
 */
export async function runCompare(
  options: CompareOptions,
): Promise<CompareResults> {
  const rounds = options.rounds ?? 3;
  const quick = options.quick ?? false;
  const cwd = options.cwd ?? REPO_ROOT;
  const startedAt = new Date();
  const workloads = options.workloads.map((workload) => {
    const points = (quick ? workload.quickPoints : workload.points).map((
      point,
    ) =>
      options.workers === undefined
        ? point
        : { ...point, load: { ...point.load, workers: options.workers } }
    );
    return {
      ...workload,
      points,
      loadCommands: Object.fromEntries(
        points.map((point) => [point.label, loadCommand(point)]),
      ),
    };
  });
  const results: CompareResults = {
    version: 1,
    toolVersion: VERSION,
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    quick,
    rounds,
    machine: await machineInfo(),
    servers: options.servers.map((server) => ({
      id: server.id,
      name: server.name,
      description: server.description,
      command: server.command,
      ...(server.connect ? { connect: server.connect } : {}),
      baseline: server.baseline ?? false,
    })),
    missing: options.missing ?? [],
    workloads,
    runs: [],
  };
  const signal = options.signal;
  for (let round = 1; round <= rounds; round++) {
    for (const workload of workloads) {
      for (const point of workload.points) {
        for (const server of rotate(options.servers, round - 1)) {
          if (signal?.aborted) break;
          options.onStart?.(
            `round ${round}/${rounds} ${workload.id} (${point.label}) → ${server.id}`,
          );
          const run = await runOne(
            server,
            workload.id,
            point,
            round,
            cwd,
            signal,
            options.waitForQuiet ?? true,
          );
          if (signal?.aborted) break;
          results.runs.push(run);
          results.finishedAt = new Date().toISOString();
          await options.onRun?.(run, results);
        }
      }
    }
  }
  results.finishedAt = new Date().toISOString();
  return results;
}

/**
 * Waits (at most `maxWaitMs`) until the machine's other processes use
 * less than `maxCores`, so that runs are not measured while something else
 * competes for the CPU. Returns what it saw.
 */
async function waitForQuietMachine(
  maxCores = 0.25,
  maxWaitMs = 60_000,
  signal?: AbortSignal,
): Promise<{ cores: number; waitedSeconds: number } | null> {
  const started = performance.now();
  let cores = 0;
  try {
    while (!signal?.aborted) {
      const a = await sampleSystem();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const b = await sampleSystem();
      cores = (b.busySeconds - a.busySeconds) / ((b.atMs - a.atMs) / 1000);
      if (cores < maxCores || performance.now() - started > maxWaitMs) break;
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  } catch {
    return null; // No /proc/stat: not Linux.
  }
  return {
    cores: Math.round(cores * 100) / 100,
    waitedSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

async function runOne(
  server: CompareServer,
  workload: string,
  point: WorkloadPoint,
  round: number,
  cwd: string,
  signal: AbortSignal | undefined,
  waitForQuiet: boolean,
): Promise<RunRecord> {
  const machineBusyBefore = waitForQuiet
    ? await waitForQuietMachine(undefined, undefined, signal)
    : null;
  const started = performance.now();
  const record = (
    fields: Partial<RunRecord> & Pick<RunRecord, "status" | "reason">,
  ): RunRecord => ({
    round,
    workload,
    point: point.label,
    server: server.id,
    notes: [],
    valid: false,
    invalidReasons: [],
    report: null,
    machineBusyBefore,
    ...fields,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  });
  let process: ServerProcess;
  try {
    process = await startCompareServer(server, cwd);
  } catch (error) {
    return record({
      status: "failed",
      reason: `did not start: ${
        error instanceof Error ? error.message : error
      }`,
    });
  }
  try {
    const { report, error } = await runLoadProcess(
      process,
      server,
      point,
      signal,
    );
    const alive = process.alive;
    if (!report) {
      return record({
        status: "failed",
        reason: alive ? error : `the server crashed (${error})`,
      });
    }
    const { status, reason, notes } = classifyRun(
      report,
      alive && report.server?.alive !== false,
    );
    const stderr = process.outputTail().trim();
    return record({
      status,
      reason: status === "failed" && !alive && stderr
        ? `${reason}: ${stderr.split("\n").slice(-2).join(" ").slice(-200)}`
        : reason,
      notes,
      valid: report.valid,
      invalidReasons: report.invalidReasons,
      warnings: report.warnings ?? [],
      report,
    });
  } finally {
    await process.stop();
  }
}
