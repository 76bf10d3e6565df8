/**
 * Every attack of `deno task attack` in one list: its name, what it does,
 * its flags (with defaults), how to run it and how to report it. Adding an
 * attack is adding an entry here.
 *
 * @module
 */

import {
  type BlockedStdoutResult,
  blockedStdoutTables,
  blockedStdoutVerdict,
  runBlockedStdout,
} from "./blocked_stdout.ts";
import {
  type FloodResult,
  floodTables,
  floodVerdict,
  runFlood,
} from "./flood.ts";
import {
  type PerIpResult,
  perIpTables,
  perIpVerdict,
  runPerIp,
} from "./per_ip.ts";
import type { AttackRun, Table } from "./report.ts";
import {
  type ResetResult,
  resetTables,
  resetVerdict,
  runReset,
} from "./reset.ts";
import {
  runSlowloris,
  type SlowlorisResult,
  slowlorisTables,
  slowlorisVerdict,
} from "./slowloris.ts";
import type { TargetSpec } from "./target.ts";
import {
  runTinyLines,
  type TinyLinesResult,
  tinyLinesTables,
  tinyLinesVerdict,
} from "./tiny_lines.ts";

/**
 * The attacks, in the order `--help` lists them.
 *
 * @example
 * ```ts
 * import { ATTACK_NAMES } from "./attacks.ts";
 * console.log(ATTACK_NAMES[0]); // "flood"
 * ```
 */
export const ATTACK_NAMES = [
  "flood",
  "tiny-lines",
  "blocked-stdout",
  "reset",
  "per-ip",
  "slowloris",
] as const;

/** One attack's name. */
export type AttackName = typeof ATTACK_NAMES[number];

/** How a flag's value is read. */
export type FlagKind =
  /** A whole number (`k`, `m`, `g` suffixes allowed). */
  | "count"
  /** A number, fractions allowed. */
  | "number"
  /** A duration: `10`, `10s`, `500ms`, `2m`; the option gets ms. */
  | "duration";

/** One attack flag. */
export interface FlagSpec {
  /** The flag without dashes: `readers`. */
  flag: string;
  /** The option it sets: `readers`, `durationMs`. */
  option: string;
  /** How its value is read. */
  kind: FlagKind;
  /** Its default, as it would be typed. */
  default: string;
  /** Smallest value allowed (in the option's unit). */
  min: number;
  /** Largest value allowed (in the option's unit). */
  max: number;
  /** One line for `--help`. */
  help: string;
}

/** Everything the command needs to know about one attack. */
export interface AttackDefinition {
  /** Its name. */
  name: AttackName;
  /** One line for `--help`. */
  summary: string;
  /** Its own flags. */
  flags: readonly FlagSpec[];
  /** Whether it can only run against a server it starts. */
  needsSpawn: boolean;
  /**
   * Runs it; `options` has every flag's option, parsed, and `onProgress`
   * gets a line of progress now and then.
   */
  run(
    spec: TargetSpec,
    options: Record<string, number>,
    onProgress?: (text: string) => void,
  ): Promise<AttackRun<unknown>>;
  /** Its report's tables. */
  tables(result: unknown): Table[];
  /** One line on what the server did. */
  verdict(result: unknown): string;
}

function flag(
  flag: string,
  option: string,
  kind: FlagKind,
  defaultValue: string,
  help: string,
  min = kind === "duration" ? 0 : 1,
  max = kind === "duration" ? 3_600_000 : 1_000_000,
): FlagSpec {
  return { flag, option, kind, default: defaultValue, min, max, help };
}

/**
 * The attacks by name.
 *
 * @example
 * ```ts
 * import { ATTACKS } from "./attacks.ts";
 * console.log(ATTACKS.reset.flags.map((f) => `--${f.flag} ${f.default}`).join(" "));
 * // "--rounds 100 --lines 5 --parallel 1 --writer-rate 1000 --round-wait 500ms"
 * ```
 */
export const ATTACKS: Record<AttackName, AttackDefinition> = {
  flood: {
    name: "flood",
    summary:
      "one client floods `f` lines from its own worker; N readers chat and read",
    needsSpawn: false,
    flags: [
      flag(
        "readers",
        "readers",
        "count",
        "50",
        "clients that chat and read",
        2,
        10_000,
      ),
      flag(
        "rate",
        "rate",
        "number",
        "10",
        "chat lines per second per reader",
        0.1,
        1000,
      ),
      flag(
        "baseline",
        "baselineMs",
        "duration",
        "2s",
        "chat without the flood first",
      ),
      flag(
        "duration",
        "durationMs",
        "duration",
        "20s",
        "how long the flood lasts",
        100,
      ),
      flag(
        "drain",
        "drainMs",
        "duration",
        "5s",
        "wait for chat lines in flight after it",
      ),
      flag(
        "max-bytes",
        "maxBytes",
        "count",
        "4g",
        "the flooder stops after this many bytes",
        2,
        Number.MAX_SAFE_INTEGER,
      ),
    ],
    run: (spec, options, onProgress) =>
      runFlood(spec, { ...options, onProgress }),
    tables: (result) => floodTables(result as FloodResult),
    verdict: (result) => floodVerdict(result as FloodResult),
  },
  "tiny-lines": {
    name: "tiny-lines",
    summary:
      "N clients never read; 2 chatters send tiny lines, one per write: server RSS and cuts",
    needsSpawn: false,
    flags: [
      flag(
        "idle",
        "idle",
        "count",
        "300",
        "clients that connect and never read",
        1,
        10_000,
      ),
      flag(
        "rate",
        "rate",
        "number",
        "10000",
        "lines per second per chatter",
        1,
        1_000_000,
      ),
      flag(
        "line-bytes",
        "lineBytes",
        "count",
        "3",
        "bytes per line, terminator excluded",
        0,
        65_536,
      ),
      flag(
        "duration",
        "durationMs",
        "duration",
        "60s",
        "how long the chatters send",
        1000,
      ),
      flag(
        "watch",
        "watchMs",
        "duration",
        "15s",
        "after sending, keep the non-readers and watch for cuts",
      ),
      flag(
        "sample-every",
        "sampleEveryMs",
        "duration",
        "5s",
        "one row of the memory table per this long",
        1000,
      ),
      flag(
        "drain",
        "drainMs",
        "duration",
        "2s",
        "wait for the chatters' lines after sending",
      ),
    ],
    run: (spec, options, onProgress) =>
      runTinyLines(spec, { ...options, onProgress }),
    tables: (result) => tinyLinesTables(result as TinyLinesResult),
    verdict: (result) => tinyLinesVerdict(result as TinyLinesResult),
  },
  "blocked-stdout": {
    name: "blocked-stdout",
    summary:
      "the server's stdout is a pipe nobody reads; clients churn (half RST) while 2 chat",
    needsSpawn: true,
    flags: [
      flag(
        "connects",
        "connects",
        "count",
        "3000",
        "clients that connect and leave",
      ),
      flag(
        "batch",
        "batch",
        "count",
        "50",
        "of them connecting at once",
        1,
        1000,
      ),
      flag(
        "connect-rate",
        "connectRate",
        "number",
        "200",
        "connects per second at most (0: no pacing)",
        0,
      ),
      flag(
        "rate",
        "rate",
        "number",
        "10",
        "chat lines per second per chatter",
        0.1,
        1000,
      ),
      flag(
        "probe-every",
        "probeEvery",
        "count",
        "250",
        "a newcomer probe after every this many connects",
      ),
      flag(
        "freeze",
        "freezeMs",
        "duration",
        "2s",
        "a probe or chat line slower than this is a freeze",
        1,
      ),
      flag(
        "max-time",
        "maxMs",
        "duration",
        "60s",
        "the churn stops after this long",
        1000,
      ),
      flag(
        "drain",
        "drainMs",
        "duration",
        "3s",
        "wait for chat lines in flight after it",
      ),
    ],
    run: (spec, options, onProgress) =>
      runBlockedStdout(spec, { ...options, onProgress }),
    tables: (result) => blockedStdoutTables(result as BlockedStdoutResult),
    verdict: (result) => blockedStdoutVerdict(result as BlockedStdoutResult),
  },
  reset: {
    name: "reset",
    summary:
      "a client sends K lines and resets (RST) while the server writes to it; lines lost?",
    needsSpawn: false,
    flags: [
      flag("rounds", "rounds", "count", "100", "rounds"),
      flag(
        "lines",
        "lines",
        "count",
        "5",
        "lines each resetter sends before its RST",
        1,
        1000,
      ),
      flag(
        "parallel",
        "parallel",
        "count",
        "1",
        "resetters per round, all at once",
        1,
        100,
      ),
      flag(
        "writer-rate",
        "writerRate",
        "number",
        "1000",
        "lines per second the writer sends",
      ),
      flag(
        "round-wait",
        "roundWaitMs",
        "duration",
        "500ms",
        "wait for a round's lines before the next",
      ),
    ],
    run: (spec, options, onProgress) =>
      runReset(spec, { ...options, onProgress }),
    tables: (result) => resetTables(result as ResetResult),
    verdict: (result) => resetVerdict(result as ResetResult),
  },
  "per-ip": {
    name: "per-ip",
    summary:
      "one address opens connections until refused (ours: without and with --max-clients-per-ip)",
    needsSpawn: false,
    flags: [
      flag(
        "max-connections",
        "maxConnections",
        "count",
        "1000",
        "the most connections opened",
        2,
        60_000,
      ),
      flag(
        "limit",
        "limit",
        "count",
        "100",
        "--max-clients-per-ip of our server's second run",
      ),
      flag(
        "batch",
        "batch",
        "count",
        "50",
        "connections opened at once",
        1,
        1000,
      ),
    ],
    run: (spec, options, onProgress) =>
      runPerIp(spec, { ...options, onProgress }),
    tables: (result) => perIpTables(result as PerIpResult),
    verdict: (result) => perIpVerdict(result as PerIpResult),
  },
  slowloris: {
    name: "slowloris",
    summary:
      "N clients leave a line unfinished, adding a byte now and then (ours: without and with --line-timeout)",
    needsSpawn: false,
    flags: [
      flag("clients", "clients", "count", "200", "slow clients", 1, 10_000),
      flag(
        "drip",
        "dripMs",
        "duration",
        "2s",
        "each adds one byte this often",
        10,
      ),
      flag(
        "duration",
        "durationMs",
        "duration",
        "12s",
        "how long the attack lasts",
        100,
      ),
      flag(
        "line-timeout",
        "lineTimeoutMs",
        "duration",
        "5s",
        "--line-timeout of our server's second run",
        1,
      ),
    ],
    run: (spec, options, onProgress) =>
      runSlowloris(spec, { ...options, onProgress }),
    tables: (result) => slowlorisTables(result as SlowlorisResult),
    verdict: (result) => slowlorisVerdict(result as SlowlorisResult),
  },
};
