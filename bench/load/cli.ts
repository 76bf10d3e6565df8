/**
 * The command line of `deno task load`: its `--help` text, and its flags
 * parsed into {@linkcode LoadArgs} with `lib/args.ts`, every mistake a
 * one-line `UsageError` (exit code 2) that names the flag.
 *
 * @module
 */

import { parseFlags, parseNumber, UsageError } from "../../lib/args.ts";
import { fillPorts } from "../../lib/shell.ts";
import { negativeValues, parseCount, parseDuration } from "../flag_values.ts";
import { type LoadTarget, parseLoadTarget } from "./connection.ts";
import type { LoadOptions } from "./options.ts";
import { parseRate } from "./rate_schedule.ts";
import { DEFAULT_LIMITS } from "./validity.ts";

/**
 * The text `--help` prints.
 *
 * @example
 * ```ts
 * import { LOAD_USAGE } from "./cli.ts";
 * console.log(LOAD_USAGE.startsWith("linechat load:")); // true
 * ```
 */
export const LOAD_USAGE =
  `linechat load: drives any line-protocol chat server and measures it.

Usage: deno task load --target HOST:PORT [options]
       deno task load --spawn "CMD ... {port} ..." [options]

Server:
  --target T             where clients connect: HOST:PORT (TCP),
                         tls://HOST:PORT or ws://HOST:PORT/PATH (wss:// too;
                         one WebSocket message is one line); repeat it for the
                         nodes of one room, or to mix transports (clients are
                         spread round-robin over the targets)
  --spawn "CMD {port}"   start this server on a free port (a shell command, run
                         with sh -c; its stdout is discarded), drive it, stop
                         it; also samples the CPU and memory of its process
                         group; --target may then name its ports, e.g.
                         --target ws://127.0.0.1:{port+1}/ws (default
                         127.0.0.1:{port})
  --ca FILE              trust this CA certificate (PEM) for tls:// and wss://
  --pid PID              sample this process's CPU and memory from /proc

Load:
  --clients N            clients connected, senders included (default 100)
  --senders S            how many of them send (default 1)
  --rate R               lines per second per sender, on a fixed schedule
                         (default 100); 0 = as fast as the server takes them,
                         with --window lines in flight per sender;
                         FROM:TO:T ramps from FROM to TO over T once the
                         measured window opens (FROM:TO:T:N in N steps)
  --size B               bytes per line, terminator excluded (default 64)
  --payload-file FILE    the lines carry FILE's lines in turn, after their
                         header (instead of --size padding)
  --duration T           measured window (default 10s; units ms, s, m)
  --warmup T             sending before the window, not measured (default 2s)
  --lines N              each sender stops after N lines
  --connect-rate N       new connections per second (default 1000; 0 = no pacing)
  --window N             lines in flight per sender with --rate 0 (default 256)
  --slow-consumers K     K extra clients that connect and never read
  --drain T              wait for lines in flight after sending (default 5s)

Generator:
  --workers N|auto       threads running the clients (default 1: the main
                         thread); N workers share the clients and senders and
                         their counts merge exactly; auto = cores - 1, at
                         most 8 (1 on 2 cores: the server needs the other)

Measurement:
  --rss-steps N          samples of the server's RSS during the ramp (default 10)
  --rss-settle T         pause before each RSS sample (default 250ms)
  --max-cpu X            invalid if the generator's busiest thread is busier
                         than X of a core (default 0.9; warning over 0.75)
  --max-lag-ms X         invalid if the generator's send lag p99 exceeds X ms and
                         half the measured p99 (default 20; warning over 5 ms)
  --max-other-cpu X      with a known server pid: invalid if other processes used
                         more than X cores during the window (default 1;
                         warning over 0.25)
  --spin-ms X            poll the last X ms before a send is due, for precise send
                         times at the cost of CPU (default 0: timers only)
  --latency              print the whole latency distribution (HdrHistogram's
                         percentile spectrum; in the JSON: latency.distribution)
  --hdr-out FILE         write the per-second latency histograms to FILE in
                         HdrHistogram's interval log format
  --json                 print the report as JSON (no progress)
  --quiet                no live progress
  -h, --help             this text

Exit status: 0 valid and nothing lost, 1 the run failed (refused, stalled,
server died), 2 bad usage, 3 completed but invalid or with delivery errors.
Warnings do not change it.`;

/** Parsed `deno task load` flags. */
export interface LoadArgs {
  /** `--help` was asked for (nothing else is set then). */
  help: boolean;
  /**
   * Where clients connect, as given: addresses, or with `--spawn`
   * templates naming its ports (`{port}`, `{port+N}`); see
   * {@linkcode resolveTargets}.
   */
  targets: string[];
  /** Server command template with `{port}`, run with `sh -c`. */
  spawn: string | undefined;
  /** Server pid to sample. */
  pid: number | undefined;
  /** CA certificate files (PEM) to trust. */
  caFiles: string[];
  /** Print the report as JSON. */
  json: boolean;
  /** No live progress. */
  quiet: boolean;
  /** Print the whole latency distribution. */
  latency: boolean;
  /** Where to write the HdrHistogram interval log. */
  hdrOut: string | undefined;
  /** Everything else, as {@linkcode LoadOptions} without the targets. */
  load: Omit<
    LoadOptions,
    "port" | "hostname" | "kind" | "path" | "extraTargets" | "caCerts"
  >;
}

const FLAGS = {
  target: { type: "string", multiple: true },
  spawn: { type: "string" },
  pid: { type: "string" },
  ca: { type: "string", multiple: true },
  clients: { type: "string", default: "100" },
  senders: { type: "string", default: "1" },
  rate: { type: "string", default: "100" },
  size: { type: "string" },
  "payload-file": { type: "string" },
  duration: { type: "string", default: "10s" },
  warmup: { type: "string", default: "2s" },
  lines: { type: "string" },
  "connect-rate": { type: "string", default: "1000" },
  window: { type: "string", default: "256" },
  "slow-consumers": { type: "string", default: "0" },
  drain: { type: "string", default: "5s" },
  workers: { type: "string", default: "1" },
  "rss-steps": { type: "string", default: "10" },
  "rss-settle": { type: "string", default: "250ms" },
  "max-lag-ms": { type: "string", default: String(DEFAULT_LIMITS.maxLagMs) },
  "max-cpu": { type: "string", default: String(DEFAULT_LIMITS.maxCpu) },
  "max-other-cpu": {
    type: "string",
    default: String(DEFAULT_LIMITS.maxOtherCpu),
  },
  "spin-ms": { type: "string", default: "0" },
  latency: { type: "boolean", default: false },
  "hdr-out": { type: "string" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * The targets of parsed arguments: with a spawned server listening from
 * `port`, its templates filled in.
 *
 * @example
 * ```ts
 * import { parseLoadArgs, resolveTargets } from "./cli.ts";
 * const args = parseLoadArgs(["--spawn", "s {port} {port+1}", "--target", "ws://127.0.0.1:{port+1}/ws"]);
 * console.log(resolveTargets(args.targets, 9000)[0].port); // 9001
 * ```
 */
export function resolveTargets(
  targets: readonly string[],
  port?: number,
): LoadTarget[] {
  return targets.map((t) =>
    parseLoadTarget(port === undefined ? t : fillPorts(t, port))
  );
}

/**
 * Parses `deno task load` flags strictly; throws {@linkcode UsageError}
 * with a one-line reason (an unknown flag, a value out of its range, a
 * missing or doubled target).
 *
 * @example
 * ```ts
 * import { parseLoadArgs } from "./cli.ts";
 * const args = parseLoadArgs(["--target", ":7000", "--clients", "10", "--rate", "0"]);
 * console.log(args.targets, args.load.clients, args.load.rate); // [":7000"] 10 0
 * ```
 */
export function parseLoadArgs(args: string[]): LoadArgs {
  const { values, positionals } = parseFlags({
    args: negativeValues(args, FLAGS),
    allowPositionals: true,
    options: FLAGS,
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  if (values.help) {
    return {
      help: true,
      targets: [],
      spawn: undefined,
      pid: undefined,
      caFiles: [],
      json: false,
      quiet: false,
      latency: false,
      hdrOut: undefined,
      load: {},
    };
  }
  const spawn = values.spawn;
  if (values.target === undefined && spawn === undefined) {
    throw new UsageError('give --target HOST:PORT or --spawn "CMD {port}"');
  }
  if (spawn !== undefined && !spawn.includes("{port}")) {
    throw new UsageError('--spawn: the command must contain "{port}"');
  }
  if (spawn !== undefined && values.pid !== undefined) {
    throw new UsageError("--pid is implied by --spawn");
  }
  const targets = values.target ?? ["127.0.0.1:{port}"];
  for (const target of targets) {
    const templated = /\{port(\+\d+)?\}/.test(target);
    if (spawn !== undefined && !templated) {
      throw new UsageError(
        `--target ${target}: with --spawn, name the server's ports as {port} or {port+N}`,
      );
    }
    if (spawn === undefined && templated) {
      throw new UsageError(`--target ${target}: {port} needs --spawn`);
    }
    parseLoadTarget(spawn === undefined ? target : fillPorts(target, 1));
  }
  if (values.size !== undefined && values["payload-file"] !== undefined) {
    throw new UsageError("give --size or --payload-file, not both");
  }
  const clients = parseCount("--clients", values.clients, {
    min: 1,
    max: 100_000,
  });
  const senders = parseCount("--senders", values.senders, { max: clients });
  const rate = parseRate(values.rate);
  return {
    help: false,
    targets,
    spawn,
    pid: values.pid === undefined
      ? undefined
      : parseCount("--pid", values.pid, { min: 1 }),
    caFiles: values.ca ?? [],
    json: values.json,
    quiet: values.quiet,
    latency: values.latency,
    hdrOut: values["hdr-out"],
    load: {
      clients,
      senders,
      rate: rate.overMs === 0 ? rate.from : rate,
      size: parseCount("--size", values.size ?? "64", { max: 1024 * 1024 }),
      payloadFile: values["payload-file"],
      durationMs: parseDuration("--duration", values.duration),
      warmupMs: parseDuration("--warmup", values.warmup),
      lines: values.lines === undefined
        ? undefined
        : parseCount("--lines", values.lines, { min: 1 }),
      connectRate: parseNumber("--connect-rate", values["connect-rate"]),
      window: parseCount("--window", values.window, { min: 1 }),
      slowConsumers: parseCount(
        "--slow-consumers",
        values["slow-consumers"],
        { max: 10_000 },
      ),
      drainMs: parseDuration("--drain", values.drain),
      workers: values.workers === "auto"
        ? "auto"
        : parseCount("--workers", values.workers, { min: 1, max: 64 }),
      rssSteps: parseCount("--rss-steps", values["rss-steps"], {
        min: 1,
        max: 1000,
      }),
      rssSettleMs: parseDuration("--rss-settle", values["rss-settle"]),
      maxLagMs: parseNumber("--max-lag-ms", values["max-lag-ms"]),
      maxCpu: parseNumber("--max-cpu", values["max-cpu"], { max: 64 }),
      maxOtherCpu: parseNumber("--max-other-cpu", values["max-other-cpu"], {
        max: 1024,
      }),
      spinMs: parseNumber("--spin-ms", values["spin-ms"], { max: 100 }),
    },
  };
}
