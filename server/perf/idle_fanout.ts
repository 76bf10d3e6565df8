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
 * server's CPU time spent on it, and this process's own (the reader of
 * every client's socket). `--nodes N` spreads the clients over N nodes of
 * one cluster (with a `redis-server` of its own), to see what spreading
 * the writes over processes does on this machine.
 *
 * ```sh
 * deno run -A server/perf/idle_fanout.ts --clients 10000 --rounds 3
 * deno run -A server/perf/idle_fanout.ts --clients 1000 --servers ours,ncat
 * deno run -A server/perf/idle_fanout.ts --clients 10000 --servers ours --nodes 2
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
import net from "node:net";
import process from "node:process";
import { sampleGroup } from "../../lib/proc_stats.ts";
import { type ServerProcess, startServer } from "../../lib/server_process.ts";

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
  /** Nodes of one cluster the clients were spread over (`--nodes`). */
  nodes: number;
  /** KiB of RSS each idle connection added. */
  kibPerConnection: number;
  /** Median ms from sending one line to the last client having it. */
  fanoutMs: number;
  /**
   * Server CPU ms per fanned-out line, all nodes together: the mean over
   * the lines (CPU time is read in 10 ms ticks), idle time between them
   * included.
   */
  fanoutCpuMs: number;
  /**
   * CPU ms per line of this process, which reads every client's socket:
   * on a machine the server shares, time it takes from the server's.
   */
  readerCpuMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Measures one server once: `clients` idle connections, then `lines`
 * single lines fanned out to all of them (after one to warm up). With
 * `nodes` above 1, that many nodes of one cluster (a `redis-server` of
 * its own) share the clients, and the line is sent to the first: the
 * writes are spread over several processes.
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
  nodes = 1,
): Promise<IdleFanoutResult> {
  // A redis-server of its own (server/ does not import cluster/).
  await using redis = nodes > 1
    ? await startServer({
      command:
        "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no",
    })
    : undefined;
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      servers.push(
        await startServer({
          command: redis
            ? `${SERVERS[name]} --redis redis://127.0.0.1:${redis.port}`
            : SERVERS[name],
          cwd: ROOT,
        }),
      );
    }
    return await measureOn(servers, name, clients, lines, settleMs);
  } finally {
    for (const server of servers) await server.stop();
  }
}

async function measureOn(
  servers: ServerProcess[],
  name: string,
  clients: number,
  lines: number,
  settleMs: number,
): Promise<IdleFanoutResult> {
  const groups = servers.map((server) => server.pid!);
  const sample = async () => {
    const samples = await Promise.all(groups.map((pgid) => sampleGroup(pgid)));
    return {
      rssBytes: samples.reduce((sum, s) => sum + s!.rssBytes, 0),
      cpuSeconds: samples.reduce((sum, s) => sum + s!.cpuSeconds, 0),
    };
  };
  const sender = await Deno.connect(servers[0].target);
  sender.setNoDelay(true);
  await sleep(500);
  const before = (await sample()).rssBytes;
  let received = 0;
  let target = Infinity;
  let done: (() => void) | undefined;
  // node:net readers: natively driven, so reading costs this process less
  // CPU than a pending Deno.Conn read per client would (on two cores the
  // reader's CPU is time the server does not get).
  const sockets: net.Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const { hostname, port } = servers[i % servers.length].target;
    const socket = net.connect({ host: hostname, port });
    socket.on("error", () => {}); // Closed at the end.
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.on("data", (chunk: Uint8Array) => {
      for (let j = 0; j < chunk.length; j++) {
        if (chunk[j] === 10 && ++received >= target) done?.();
      }
    });
    sockets.push(socket);
  }
  await sleep(settleMs);
  const after = (await sample()).rssBytes;
  const times: number[] = [];
  let cpuSeconds = 0;
  let readerMicros = 0;
  const line = new TextEncoder().encode("x".repeat(63) + "\n");
  for (let i = 0; i < lines + 1; i++) {
    target = received + clients;
    const arrived = new Promise<void>((resolve) => done = resolve);
    const cpuBefore = (await sample()).cpuSeconds;
    const readerBefore = process.cpuUsage();
    const t0 = performance.now();
    await sender.write(line);
    const timeout = sleep(10_000).then(() => "timeout");
    if (await Promise.race([arrived, timeout]) === "timeout") {
      throw new Error(`${name}: ${target - received} clients missed a line`);
    }
    const ms = performance.now() - t0;
    const reader = process.cpuUsage(readerBefore);
    // Long enough for the server to finish its writes (it may still be
    // writing when the last client has its line).
    await sleep(200);
    const cpu = (await sample()).cpuSeconds - cpuBefore;
    // The first line warms the server's code paths; not counted.
    if (i > 0) {
      times.push(ms);
      cpuSeconds += cpu;
      readerMicros += reader.user + reader.system;
    }
  }
  for (const socket of sockets) socket.destroy();
  sender.close();
  return {
    server: name,
    clients,
    nodes: servers.length,
    kibPerConnection: (after - before) / 1024 / clients,
    fanoutMs: median(times),
    fanoutCpuMs: cpuSeconds * 1000 / lines,
    readerCpuMs: readerMicros / 1000 / lines,
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
        nodes: { type: "string", default: "1" },
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
    const nodes = parseInteger("--nodes", values.nodes, { min: 1, max: 16 });
    if (nodes > 1 && names.some((name) => !name.startsWith("ours"))) {
      throw new UsageError(
        "--nodes: only our server joins a cluster (--servers ours,…)",
      );
    }
    const results: IdleFanoutResult[] = [];
    const fmt = (r: IdleFanoutResult) =>
      `${r.server.padEnd(10)} ${String(r.clients).padStart(6)} clients  ` +
      `${r.kibPerConnection.toFixed(2).padStart(6)} KiB/conn  ` +
      `fan-out ${r.fanoutMs.toFixed(1).padStart(6)} ms  ` +
      `server CPU ${r.fanoutCpuMs.toFixed(1).padStart(6)} ms/line  ` +
      `reader CPU ${r.readerCpuMs.toFixed(1).padStart(6)} ms/line` +
      (r.nodes > 1 ? `  (${r.nodes} nodes)` : "");
    for (
      let round = 0;
      round < rounds;
      round++
    ) {
      for (const name of names) {
        const result = await measure(name, clients, lines, settle, nodes);
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
            nodes,
            kibPerConnection: median(mine.map((r) => r.kibPerConnection)),
            fanoutMs: median(mine.map((r) => r.fanoutMs)),
            fanoutCpuMs: median(mine.map((r) => r.fanoutCpuMs)),
            readerCpuMs: median(mine.map((r) => r.readerCpuMs)),
          })
        }`,
      );
    }
  });
}
