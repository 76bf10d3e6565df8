/**
 * `deno run -A server/perf/idle_fanout.ts [options]`: memory per idle
 * connection and one line fanned out to every idle client, for our server
 * and references, in alternating rounds; prints one row per run and the
 * medians. A benchmark that prints numbers: it asserts nothing.
 *
 * For each server and round: starts it, connects `--clients` idle clients
 * (they read and count lines), reads the RSS of its process group before
 * and after (`/proc/PID/status` VmRSS), then sends `--lines` single lines,
 * one at a time, and times each until the last client has it, with the
 * server's CPU time spent on it.
 *
 * ```sh
 * deno run -A server/perf/idle_fanout.ts --clients 10000 --rounds 3
 * deno run -A server/perf/idle_fanout.ts --clients 1000 --servers ours,ncat
 * deno run -A server/perf/idle_fanout.ts --servers mine \
 *   --command "mine=deno run -A server/main.ts --port {port} --quiet --max-clients 20000"
 * ```
 *
 * @module
 */

import {
  parseFlags,
  parseInteger,
  runMain,
  UsageError,
} from "../../lib/args.ts";
import { sampleGroup } from "../../lib/proc_stats.ts";
import { startServer } from "../../lib/server_process.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/**
 * Servers by name: shell command templates (`{port}`); `--command
 * NAME=CMD` adds one.
 *
 * @example
 * ```ts
 * import { SERVERS } from "./idle_fanout.ts";
 * console.log(SERVERS.ncat); // ncat -l --broker --max-conns 20000 127.0.0.1 {port}
 * ```
 */
export const SERVERS: Record<string, string> = {
  ours: "deno run -A server/main.ts --port {port} --quiet --max-clients 20000",
  "ours-deno":
    "deno run -A server/main.ts --port {port} --quiet --max-clients 20000 --transport deno",
  "ours-node":
    "deno run -A server/main.ts --port {port} --quiet --max-clients 20000 --transport node",
  ncat: "ncat -l --broker --max-conns 20000 127.0.0.1 {port}",
};

/** What one run of one server measured. */
export interface IdleFanoutResult {
  server: string;
  clients: number;
  /** KiB of RSS each idle connection added. */
  kibPerConnection: number;
  /** Median ms from sending one line to the last client having it. */
  fanoutMs: number;
  /**
   * Server CPU ms per fanned-out line: the mean over the lines (CPU time
   * is read in 10 ms ticks), idle time between them included.
   */
  fanoutCpuMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Measures one server once: `clients` idle connections, then `lines`
 * single lines fanned out to all of them (after one to warm up).
 *
 * @example
 * ```ts ignore
 * import { measure } from "./idle_fanout.ts";
 * const result = await measure("ours", 1000, 5);
 * console.log(result.kibPerConnection, result.fanoutMs);
 * ```
 */
export async function measure(
  name: string,
  clients: number,
  lines: number,
  settleMs = 2000,
): Promise<IdleFanoutResult> {
  await using server = await startServer({
    command: SERVERS[name],
    cwd: ROOT,
  });
  const pgid = server.pid!;
  const sender = await Deno.connect(server.target);
  sender.setNoDelay(true);
  await sleep(500);
  const before = (await sampleGroup(pgid))!.rssBytes;
  let received = 0;
  let target = Infinity;
  let done: (() => void) | undefined;
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < clients; i++) {
    const conn = await Deno.connect(server.target);
    conns.push(conn);
    (async () => {
      const buffer = new Uint8Array(256);
      try {
        while (true) {
          const n = await conn.read(buffer);
          if (n === null) return;
          for (let j = 0; j < n; j++) {
            if (buffer[j] === 10 && ++received >= target) done?.();
          }
        }
      } catch {
        // Closed at the end.
      }
    })();
  }
  await sleep(settleMs);
  const after = (await sampleGroup(pgid))!.rssBytes;
  const times: number[] = [];
  let cpuSeconds = 0;
  const line = new TextEncoder().encode("x".repeat(63) + "\n");
  for (let i = 0; i < lines + 1; i++) {
    target = received + clients;
    const arrived = new Promise<void>((resolve) => done = resolve);
    const cpuBefore = (await sampleGroup(pgid))!.cpuSeconds;
    const t0 = performance.now();
    await sender.write(line);
    const timeout = sleep(10_000).then(() => "timeout");
    if (await Promise.race([arrived, timeout]) === "timeout") {
      throw new Error(`${name}: ${target - received} clients missed a line`);
    }
    const ms = performance.now() - t0;
    // Long enough for the server to finish its writes (it may still be
    // writing when the last client has its line).
    await sleep(200);
    const cpu = (await sampleGroup(pgid))!.cpuSeconds - cpuBefore;
    // The first line warms the server's code paths; not counted.
    if (i > 0) {
      times.push(ms);
      cpuSeconds += cpu;
    }
  }
  for (const conn of conns) conn.close();
  sender.close();
  return {
    server: name,
    clients,
    kibPerConnection: (after - before) / 1024 / clients,
    fanoutMs: median(times),
    fanoutCpuMs: cpuSeconds * 1000 / lines,
  };
}

/**
 * The middle value (the mean of the two middle ones).
 *
 * @example
 * ```ts
 * import { median } from "./idle_fanout.ts";
 * console.log(median([3, 1, 2])); // 2
 * ```
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Adds the servers named by `--command NAME=CMD` flags to {@linkcode SERVERS}.
 *
 * @example
 * ```ts
 * import { addServers, SERVERS } from "./idle_fanout.ts";
 * addServers(["old=deno run -A /tmp/old/server/main.ts --port {port}"]);
 * console.log(SERVERS.old.startsWith("deno run")); // true
 * ```
 */
export function addServers(commands: readonly string[]): void {
  for (const named of commands) {
    const at = named.indexOf("=");
    if (at < 1 || !named.includes("{port}")) {
      throw new UsageError(
        `--command: expected NAME=COMMAND with {port}, got "${named}"`,
      );
    }
    SERVERS[named.slice(0, at)] = named.slice(at + 1);
  }
}

/**
 * The servers a `--servers a,b` list names, each known to {@linkcode SERVERS}.
 *
 * @example
 * ```ts
 * import { serverNames } from "./idle_fanout.ts";
 * console.log(serverNames("ours,ncat")); // ["ours", "ncat"]
 * ```
 */
export function serverNames(list: string): string[] {
  const names = list.split(",").filter((name) => name !== "");
  for (const name of names) {
    if (SERVERS[name] === undefined) {
      throw new UsageError(
        `--servers: unknown server "${name}" (known: ${
          Object.keys(SERVERS).join(", ")
        }; add one with --command NAME=CMD)`,
      );
    }
  }
  return names;
}

if (import.meta.main) {
  await runMain("linechat perf idle_fanout", async () => {
    const { values } = parseFlags({
      args: Deno.args,
      options: {
        clients: { type: "string", default: "10000" },
        rounds: { type: "string", default: "3" },
        lines: { type: "string", default: "5" },
        settle: { type: "string", default: "2000" },
        servers: { type: "string", default: "ours,ours-deno" },
        command: { type: "string", multiple: true, default: [] },
      },
    });
    addServers(values.command);
    const names = serverNames(values.servers);
    const clients = parseInteger("--clients", values.clients, { min: 0 });
    const lines = parseInteger("--lines", values.lines, { min: 0 });
    const rounds = parseInteger("--rounds", values.rounds, { min: 1 });
    const settle = parseInteger("--settle", values.settle, { min: 0 });
    const results: IdleFanoutResult[] = [];
    const fmt = (r: IdleFanoutResult) =>
      `${r.server.padEnd(10)} ${String(r.clients).padStart(6)} clients  ` +
      `${r.kibPerConnection.toFixed(2).padStart(6)} KiB/conn  ` +
      `fan-out ${r.fanoutMs.toFixed(1).padStart(6)} ms  ` +
      `CPU ${r.fanoutCpuMs.toFixed(1).padStart(6)} ms/line`;
    for (
      let round = 0;
      round < rounds;
      round++
    ) {
      for (const name of names) {
        const result = await measure(
          name,
          clients,
          lines,
          settle,
        );
        results.push(result);
        console.log(`round ${round + 1}  ${fmt(result)}`);
      }
    }
    console.log("medians:");
    for (const name of names) {
      const mine = results.filter((r) => r.server === name);
      console.log(
        `          ${
          fmt({
            server: name,
            clients,
            kibPerConnection: median(mine.map((r) => r.kibPerConnection)),
            fanoutMs: median(mine.map((r) => r.fanoutMs)),
            fanoutCpuMs: median(mine.map((r) => r.fanoutCpuMs)),
          })
        }`,
      );
    }
  });
}
