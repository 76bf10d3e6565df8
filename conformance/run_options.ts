/**
 * What a run of the suite is asked to do: {@linkcode ConformanceOptions},
 * which cases they select, the progress a run reports, and the error a
 * run that cannot start throws.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";
import type { CaseDefinition } from "./case.ts";
import type { FuzzSettings } from "./fuzz/run_fuzz.ts";
import { ALL_CASES } from "./cases/mod.ts";
import { selectByPatterns } from "./glob.ts";
import type { CaseResult, Diagnosis, Latency, LevelFilter } from "./types.ts";
import { levelSelected } from "./verdict.ts";
import type { Dialect } from "./dialect/dialect.ts";

/**
 * The suite's version, reported in `tool.version`.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_VERSION } from "./run_options.ts";
 * console.log(CONFORMANCE_VERSION); // "1.0.0"
 * ```
 */
export const CONFORMANCE_VERSION = "1.0.0";

/**
 * The harness itself cannot run (bad options, target unreachable, server
 * will not start): the CLI prints the one-line message and exits 2.
 *
 * @example
 * ```ts
 * import { HarnessError } from "./run_options.ts";
 * console.log(new HarnessError("no target").name); // "HarnessError"
 * ```
 */
export class HarnessError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HarnessError";
  }
}

/**
 * Progress of a run, for live display.
 *
 * @example
 * ```ts
 * import type { ProgressEvent } from "./run_options.ts";
 * const event: ProgressEvent = { type: "server", message: "restarted the server" };
 * console.log(event.type);
 * ```
 */
export type ProgressEvent =
  | {
    type: "start";
    total: number;
    targets: string[];
    /** The run ends within this many ms, however the server behaves. */
    boundMs: number;
    /** Whether `--deadline` set the bound (else the cases' deadlines did). */
    fromDeadline: boolean;
    timeoutScale: number;
  }
  | {
    type: "preflight";
    latency: Latency | null;
    diagnoses: Diagnosis[];
  }
  | {
    type: "case-start";
    index: number;
    total: number;
    definition: CaseDefinition;
  }
  | { type: "case-end"; index: number; total: number; result: CaseResult }
  | {
    type: "stopped";
    /** Why the run stops before the remaining cases. */
    message: string;
    diagnosis?: Diagnosis;
  }
  | {
    type: "server";
    message: string;
    /**
     * Why: `crash` (it died during a case), `failure` (a fresh one after a
     * failed case), `fresh` (a case measures memory), `preflight`.
     */
    reason?: "crash" | "failure" | "fresh" | "preflight";
  };

/**
 * Options for `runConformance`.
 *
 * @example
 * ```ts
 * import type { ConformanceOptions } from "./run_options.ts";
 * const options: ConformanceOptions = { spawn: "deno run -A server/main.ts --port {port}", only: ["relay.*"] };
 * console.log(options.only);
 * ```
 */
export interface ConformanceOptions {
  /**
   * Servers to test (`host:port`, `tls://host:port`, `ws://host:port/path`
   * or `wss://…`); clients are spread across them. Needed unless `spawn`
   * is given; with `spawn`, they name the spawned server's ports as
   * `{port}` or `{port+N}` (`ws://127.0.0.1:{port+1}/ws`).
   *
   * @default {[]} (with `spawn`: `127.0.0.1:{port}`)
   */
  targets?: readonly (string | Target)[];
  /**
   * Certificates (PEM) to trust for `tls://` and `wss://` targets.
   *
   * @default {[]}
   */
  caCerts?: string[];
  /**
   * A shell command that starts the server, with `{port}` where the port
   * goes. The harness starts it on a free port, watches it, restarts it
   * after a crash, and measures it from /proc.
   */
  spawn?: string;
  /**
   * Working directory for `spawn`.
   *
   * @default {Deno.cwd()}
   */
  cwd?: string;
  /**
   * Globs of case ids (or `§` clauses) to run; all when empty.
   *
   * @default {[]}
   */
  only?: readonly string[];
  /**
   * Globs of case ids (or `§` clauses) not to run.
   *
   * @default {[]}
   */
  skip?: readonly string[];
  /**
   * Which levels run and count.
   *
   * @default {"all"}
   */
  level?: LevelFilter;
  /**
   * Clients connected at once in `limits.many-clients`.
   *
   * @default {500}
   */
  clients?: number;
  /**
   * Multiplies every timeout (slow machines, remote targets).
   *
   * @default {1}
   */
  timeoutScale?: number;
  /**
   * The target's declared maximum line length L.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * The target's declared bound on the output it holds for one client;
   * floods in the slow-consumer cases are at least 4 times it.
   *
   * @default {4194304}
   */
  maxPendingBytes?: number;
  /**
   * The target's declared maximum number of clients; enables
   * `limits.server-full`.
   *
   * @default {undefined}
   */
  maxClients?: number;
  /**
   * Times a failing case is run again (a pass then makes it `flaky`).
   *
   * @default {1}
   */
  retries?: number;
  /**
   * Keep the wire trace of every case, not only of those that fail.
   *
   * @default {false}
   */
  verbose?: boolean;
  /**
   * The most the whole run may take, in ms: cases that would start after
   * it get verdict `timeout`. The bound printed at the start is this or
   * the sum of the selected cases' deadlines, whichever is less.
   *
   * @default {6 minutes times the timeout scale}
   */
  deadlineMs?: number;
  /**
   * How the harness ends the lines it sends (a server that frames only CR
   * LF can still be tested with `crlf`).
   *
   * @default {"lf"}
   */
  sendEol?: "lf" | "crlf";
  /**
   * The server's dialect, for servers that decorate their lines: a
   * handshake, the pattern of a relayed line, notices, echo (see
   * `dialect/dialect.ts`). Cases judge payloads through it, and those of
   * the clauses it gives up are skipped as not applicable.
   *
   * @default {undefined}
   */
  dialect?: Dialect;
  /**
   * Run every case even when the first ones all fail on one root cause
   * (or the server dies on every connection).
   *
   * @default {false}
   */
  keepGoing?: boolean;
  /**
   * Run the fuzz mode (`--fuzz`): random schedules checked against a model
   * of the protocol, a failure shrunk; its results are the area `fuzz`.
   * Alone it runs instead of the cases; with `only`, after them.
   *
   * @default {undefined}
   */
  fuzz?: FuzzSettings;
  /**
   * The cases to choose from.
   *
   * @default {ALL_CASES}
   */
  cases?: readonly CaseDefinition[];
  /** Called as the run progresses. */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * {@linkcode ConformanceOptions.clients}'s default.
 *
 * @example
 * ```ts
 * import { DEFAULT_CLIENTS } from "./run_options.ts";
 * console.log(DEFAULT_CLIENTS); // 500
 * ```
 */
export const DEFAULT_CLIENTS = 500;

/**
 * {@linkcode ConformanceOptions.deadlineMs}'s default: 6 minutes.
 *
 * @example
 * ```ts
 * import { DEFAULT_DEADLINE_MS } from "./run_options.ts";
 * console.log(DEFAULT_DEADLINE_MS / 60_000); // 6
 * ```
 */
export const DEFAULT_DEADLINE_MS = 6 * 60_000;

/**
 * Selects cases by level and globs, in suite order.
 *
 * @example
 * ```ts
 * import { selectCases } from "./run_options.ts";
 * console.log(selectCases({ only: ["relay.no-echo"] }).map((c) => c.id)); // [ "relay.no-echo" ]
 * ```
 */
export function selectCases(
  options: Pick<ConformanceOptions, "cases" | "only" | "skip" | "level"> = {},
): CaseDefinition[] {
  const level = options.level ?? "all";
  return selectByPatterns(
    options.cases ?? ALL_CASES,
    options.only ?? [],
    options.skip ?? [],
  ).filter((c) => levelSelected(c.level, level));
}
