/**
 * `deno run -A bench/perf/idle_fanout.ts [options]`: memory per idle
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
 * deno run -A bench/perf/idle_fanout.ts --clients 10000 --rounds 3
 * deno run -A bench/perf/idle_fanout.ts --clients 1000 --servers ours,ncat
 * deno run -A bench/perf/idle_fanout.ts --clients 10000 --servers ours --nodes 2
 * deno run -A bench/perf/idle_fanout.ts --servers mine \
 *   --command "mine=deno run -A server/main.ts --port {port} --quiet --max-clients 20000"
 * ```
 *
 * @module
 */

import net from "node:net";
import process from "node:process";
import { startRedisServer } from "../../cluster/redis_server.ts";
import {
  parseFlags,
  parseInteger,
  runMain,
  UsageError,
} from "../../lib/args.ts";
import { sampleGroup } from "../../lib/proc_stats.ts";
import { type ServerProcess, startServer } from "../../lib/server_process.ts";
import { spread } from "../statistics.ts";
import { type PerfServer, perfServers, runRounds } from "./_servers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

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
 * import { perfServers } from "./_servers.ts";
 * const [ours] = await perfServers("ours", []);
 * const result = await measure(ours, 1000, 5);
 * console.log(result.kibPerConnection, result.fanoutMs);
 * ```
 */
export async function measure(
  server: PerfServer,
  clients: number,
  lines: number,
  settleMs = 2000,
  nodes = 1,
): Promise<IdleFanoutResult> {
  await using redis = nodes > 1 ? await startRedisServer() : undefined;
  const command = redis
    ? `${server.command} --redis ${redis.url}`
    : server.command;
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      servers.push(await startServer({ command, cwd: ROOT }));
    }
    return await measureOn(servers, server.name, clients, lines, settleMs);
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
    fanoutMs: spread(times)!.median,
    fanoutCpuMs: cpuSeconds * 1000 / lines,
    readerCpuMs: readerMicros / 1000 / lines,
  };
}

const USAGE = `Usage: deno run -A bench/perf/idle_fanout.ts [options]

Memory per idle connection and one line fanned out to every idle client,
alternating the servers; prints each run and the medians.

  --servers a,b        servers of targets/servers.ts, or named by --command
                       (default ours,ours-deno)
  --command NAME=CMD   add a server: a shell command with {port}
  --clients N          idle clients (default 10000)
  --lines N            lines fanned out, one at a time, after a warm-up one
                       (default 5)
  --rounds N           rounds (default 3)
  --settle MS          wait after connecting before the RSS is read (default 2000)
  --nodes N            spread the clients over N nodes of one cluster, with a
                       redis-server of its own (ours or ours-deno; default 1)`;

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
        help: { type: "boolean" },
      },
    });
    if (values.help) return console.log(USAGE);
    const servers = await perfServers(values.servers, values.command);
    const clients = parseInteger("--clients", values.clients, { min: 0 });
    const lines = parseInteger("--lines", values.lines, { min: 1 });
    const rounds = parseInteger("--rounds", values.rounds, { min: 1 });
    const settle = parseInteger("--settle", values.settle, { min: 0 });
    const nodes = parseInteger("--nodes", values.nodes, { min: 1, max: 16 });
    if (nodes > 1 && servers.some((s) => !/^ours(-deno)?$/.test(s.name))) {
      throw new UsageError(
        "--nodes: only our server joins a cluster (--servers ours or ours-deno)",
      );
    }
    await runRounds(
      servers,
      rounds,
      (server) => measure(server, clients, lines, settle, nodes),
      (r) =>
        `${r.server.padEnd(10)} ${String(r.clients).padStart(6)} clients  ` +
        `${r.kibPerConnection.toFixed(2).padStart(6)} KiB/conn  ` +
        `fan-out ${r.fanoutMs.toFixed(1).padStart(6)} ms  ` +
        `server CPU ${r.fanoutCpuMs.toFixed(1).padStart(6)} ms/line  ` +
        `reader CPU ${r.readerCpuMs.toFixed(1).padStart(6)} ms/line` +
        (r.nodes > 1 ? `  (${r.nodes} nodes)` : ""),
    );
  });
}
