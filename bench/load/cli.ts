/**
 * The command line of `deno task load`: its `--help` text, and its flags
 * parsed into {@linkcode LoadArgs} with `lib/args.ts`, every mistake a
 * one-line `UsageError` (exit code 2) that names the flag.
 *
 * @module
 */

import {
  parseFlags,
  parseNumber,
  parseTarget,
  type Target,
  UsageError,
} from "../../lib/args.ts";
import { negativeValues, parseCount, parseDuration } from "../flag_values.ts";
import type { LoadOptions } from "./options.ts";

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
  --target HOST:PORT     server to drive; repeat it for the nodes of one room
                         (clients are spread round-robin over them)
  --spawn "CMD {port}"   start this server on a free port (a shell command, run
                         with sh -c; its stdout is discarded), drive it, stop
                         it; also samples the CPU and memory of its process group
  --pid PID              sample this process's CPU and memory from /proc

Load:
  --clients N            clients connected, senders included (default 100)
  --senders S            how many of them send (default 1)
  --rate R               lines per second per sender, on a fixed schedule
                         (default 100); 0 = as fast as the server takes them,
                         with --window lines in flight per sender
  --size B               bytes per line, terminator excluded (default 64)
  --duration T           measured window (default 10s; units ms, s, m)
  --warmup T             sending before the window, not measured (default 2s)
  --lines N              each sender stops after N lines
  --connect-rate N       new connections per second (default 1000; 0 = no pacing)
  --window N             lines in flight per sender with --rate 0 (default 256)
  --slow-consumers K     K extra clients that connect and never read
  --drain T              wait for lines in flight after sending (default 5s)

Measurement:
  --rss-steps N          samples of the server's RSS during the ramp (default 10)
  --rss-settle T         pause before each RSS sample (default 250ms)
  --max-lag-ms X         invalid if the generator's send lag p99 exceeds X ms and
                         half the measured p99 (default 5)
  --max-cpu X            invalid if its main thread is busier than X of a core (default 0.9)
  --max-other-cpu X      with a known server pid: invalid if other processes used
                         more than X cores during the window (default 0.25)
  --spin-ms X            poll the last X ms before a send is due, for precise send
                         times at the cost of CPU (default 0: timers only)
  --json                 print the report as JSON (no progress)
  --quiet                no live progress
  -h, --help             this text

Exit status: 0 valid and nothing lost, 1 the run failed (refused, stalled,
server died), 2 bad usage, 3 completed but invalid or with delivery errors.`;

/** Parsed `deno task load` flags. */
export interface LoadArgs {
  /** `--help` was asked for (nothing else is set then). */
  help: boolean;
  /** Where to connect (absent with `--spawn`). */
  target: Target | undefined;
  /** Further `--target`s: nodes of the same room, clients spread over all. */
  extraTargets: Target[];
  /** Server command template with `{port}`, run with `sh -c`. */
  spawn: string | undefined;
  /** Server pid to sample. */
  pid: number | undefined;
  /** Print the report as JSON. */
  json: boolean;
  /** No live progress. */
  quiet: boolean;
  /** Everything else, as {@linkcode LoadOptions} without the target. */
  load: Omit<LoadOptions, "port" | "hostname">;
}

const FLAGS = {
  target: { type: "string", multiple: true },
  spawn: { type: "string" },
  pid: { type: "string" },
  clients: { type: "string", default: "100" },
  senders: { type: "string", default: "1" },
  rate: { type: "string", default: "100" },
  size: { type: "string", default: "64" },
  duration: { type: "string", default: "10s" },
  warmup: { type: "string", default: "2s" },
  lines: { type: "string" },
  "connect-rate": { type: "string", default: "1000" },
  window: { type: "string", default: "256" },
  "slow-consumers": { type: "string", default: "0" },
  drain: { type: "string", default: "5s" },
  "rss-steps": { type: "string", default: "10" },
  "rss-settle": { type: "string", default: "250ms" },
  "max-lag-ms": { type: "string", default: "5" },
  "max-cpu": { type: "string", default: "0.9" },
  "max-other-cpu": { type: "string", default: "0.25" },
  "spin-ms": { type: "string", default: "0" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * Parses `deno task load` flags strictly; throws {@linkcode UsageError}
 * with a one-line reason (an unknown flag, a value out of its range, a
 * missing or doubled target).
 *
 * @example
 * ```ts
 * import { parseLoadArgs } from "./cli.ts";
 * const args = parseLoadArgs(["--target", ":7000", "--clients", "10", "--rate", "0"]);
 * console.log(args.target?.port, args.load.clients, args.load.rate); // 7000 10 0
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
      target: undefined,
      extraTargets: [],
      spawn: undefined,
      pid: undefined,
      json: false,
      quiet: false,
      load: {},
    };
  }
  if (values.target === undefined && values.spawn === undefined) {
    throw new UsageError('give --target HOST:PORT or --spawn "CMD {port}"');
  }
  if (values.target !== undefined && values.spawn !== undefined) {
    throw new UsageError("give --target or --spawn, not both");
  }
  if (values.spawn !== undefined && !values.spawn.includes("{port}")) {
    throw new UsageError('--spawn: the command must contain "{port}"');
  }
  if (values.spawn !== undefined && values.pid !== undefined) {
    throw new UsageError("--pid is implied by --spawn");
  }
  const clients = parseCount("--clients", values.clients, {
    min: 1,
    max: 100_000,
  });
  const senders = parseCount("--senders", values.senders, { max: clients });
  return {
    help: false,
    target: values.target === undefined
      ? undefined
      : parseTarget(values.target[0]),
    extraTargets: (values.target ?? []).slice(1).map((t) => parseTarget(t)),
    spawn: values.spawn,
    pid: values.pid === undefined
      ? undefined
      : parseCount("--pid", values.pid, { min: 1 }),
    json: values.json,
    quiet: values.quiet,
    load: {
      clients,
      senders,
      rate: parseNumber("--rate", values.rate, { max: 1_000_000 }),
      size: parseCount("--size", values.size, { max: 1024 * 1024 }),
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
