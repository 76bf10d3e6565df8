/**
 * Runs the selected cases against one or more targets (or a server the
 * harness spawns) and builds the report.
 *
 * @module
 */

import { parseTarget, type Target } from "../lib/args.ts";
import { ALL_CASES } from "./cases/mod.ts";
import {
  CaseAbort,
  CaseContext,
  CaseSkip,
  ServerMonitor,
  TIMEOUTS,
} from "./context.ts";
import { selectByPatterns } from "./glob.ts";
import { describeError, type WireStats } from "./peer.ts";
import { describeStatus, ServerProcess, SpawnError } from "./server_process.ts";
import { TraceRecorder } from "./trace.ts";
import {
  type CaseDefinition,
  type CaseResult,
  type CrashRecord,
  type Finding,
  type LevelFilter,
  type Report,
  SCHEMA_VERSION,
  type TargetAddress,
  type TraceEvent,
} from "./types.ts";
import {
  combineAttempts,
  isCounted,
  levelSelected,
  sortFindings,
  summarize,
  verdictOf,
} from "./verdict.ts";

/** The suite's version, reported in `tool.version`. */
export const CONFORMANCE_VERSION = "1.0.0";

/**
 * The harness itself cannot run (bad options, target unreachable, server
 * will not start): the CLI prints the one-line message and exits 2.
 */
export class HarnessError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HarnessError";
  }
}

/** Progress of a run, for live display. */
export type ProgressEvent =
  | { type: "start"; total: number; targets: string[] }
  | {
    type: "case-start";
    index: number;
    total: number;
    definition: CaseDefinition;
  }
  | { type: "case-end"; index: number; total: number; result: CaseResult }
  | { type: "server"; message: string };

/** Options for {@linkcode runConformance}. */
export interface ConformanceOptions {
  /**
   * Servers to test (`host:port`); clients are spread across them. Needed
   * unless `spawn` is given.
   *
   * @default {[]}
   */
  targets?: readonly (string | TargetAddress)[];
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
   * The cases to choose from.
   *
   * @default {ALL_CASES}
   */
  cases?: readonly CaseDefinition[];
  /** Called as the run progresses. */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * Selects cases by level and globs, in suite order.
 *
 * @example
 * ```ts
 * import { selectCases } from "./runner.ts";
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

interface Attempt {
  findings: Finding[];
  /** Whether a wait timed out: only such failures are retried. */
  timedOut?: boolean;
  measurements: CaseResult["measurements"];
  trace: TraceEvent[];
  traceOmitted: number;
  durationMs: number;
  serverOutput?: string;
  crash?: CrashRecord;
}

/**
 * Runs the conformance suite and returns its report. Throws
 * {@linkcode HarnessError} when it cannot run at all.
 *
 * @example
 * ```ts ignore
 * import { runConformance } from "./runner.ts";
 *
 * const report = await runConformance({
 *   spawn: "deno run -A server/main.ts --port {port}",
 *   only: ["relay.*"],
 * });
 * console.log(report.summary);
 * ```
 */
export async function runConformance(
  options: ConformanceOptions = {},
): Promise<Report> {
  const run = new Run(options);
  return await run.execute();
}

class Run {
  readonly #options: ConformanceOptions;
  readonly #level: LevelFilter;
  readonly #retries: number;
  readonly #scale: number;
  readonly #stats: WireStats = {
    linesReceived: 0,
    lfOnlyLines: 0,
    sent: new Set(),
  };
  readonly #crashes: CrashRecord[] = [];
  #server: ServerProcess | undefined;
  #targets: Target[] = [];
  #attempts = 0;
  #dirty = false;
  #unreachable: string | undefined;

  constructor(options: ConformanceOptions) {
    this.#options = options;
    this.#level = options.level ?? "all";
    this.#retries = options.retries ?? 1;
    this.#scale = options.timeoutScale ?? 1;
    if (!(this.#scale > 0)) {
      throw new HarnessError("timeoutScale must be above 0");
    }
    if ((options.maxLineBytes ?? 65536) < 1) {
      throw new HarnessError("maxLineBytes must be at least 1");
    }
  }

  async execute(): Promise<Report> {
    const startedAt = new Date();
    const t0 = performance.now();
    const cases = selectCases(this.#options);
    const swallow = (event: PromiseRejectionEvent) => {
      // Work a stalled case left behind may reject after it was abandoned.
      event.preventDefault();
    };
    addEventListener("unhandledrejection", swallow);
    try {
      await this.#prepare();
      const progress = this.#options.onProgress ?? (() => {});
      progress({
        type: "start",
        total: cases.length,
        targets: this.#targetNames(),
      });
      const results: CaseResult[] = [];
      for (const [index, definition] of cases.entries()) {
        progress({
          type: "case-start",
          index,
          total: cases.length,
          definition,
        });
        const result = await this.#runCase(definition);
        results.push(result);
        progress({ type: "case-end", index, total: cases.length, result });
      }
      return this.#report(startedAt, performance.now() - t0, results);
    } finally {
      await this.#server?.stop();
      // Let abandoned work settle before the handler goes.
      await new Promise((resolve) => setTimeout(resolve, 10));
      removeEventListener("unhandledrejection", swallow);
    }
  }

  async #prepare(): Promise<void> {
    const { spawn, targets = [] } = this.#options;
    if (spawn !== undefined) {
      if (targets.length > 0) {
        throw new HarnessError("give --spawn or --target, not both");
      }
      if (!spawn.includes("{port}")) {
        throw new HarnessError(
          `--spawn: the command must contain {port} (got "${spawn}")`,
        );
      }
      this.#server = new ServerProcess({
        command: spawn,
        cwd: this.#options.cwd,
        readyTimeoutMs: 15_000 * this.#scale,
      });
      try {
        await this.#server.start();
      } catch (error) {
        throw new HarnessError(
          error instanceof SpawnError ? error.message : describeError(error),
        );
      }
      this.#targets = [this.#server.target];
      return;
    }
    if (targets.length === 0) {
      throw new HarnessError("no target: give --target host:port or --spawn");
    }
    try {
      this.#targets = targets.map((t) =>
        typeof t === "string" ? parseTarget(t) : t
      );
    } catch (error) {
      throw new HarnessError(describeError(error).replace(/^\w+: /, ""));
    }
    for (const target of this.#targets) {
      const problem = await this.#probe(target);
      if (problem) {
        throw new HarnessError(
          `cannot connect to ${target.hostname}:${target.port}: ${problem}`,
        );
      }
    }
  }

  /** Connects once; returns why it failed, or undefined. */
  async #probe(target: Target): Promise<string | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = Deno.connect({ ...target, transport: "tcp" });
    try {
      const conn = await Promise.race([
        attempt,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () => reject(new Error("timed out")),
            TIMEOUTS.connect * this.#scale,
          )
        ),
      ]);
      conn.close();
      return undefined;
    } catch (error) {
      attempt.then((conn) => conn.close(), () => {});
      return describeError(error).replace(/^\w+: /, "");
    } finally {
      clearTimeout(timer);
    }
  }

  #targetNames(): string[] {
    return this.#targets.map((t) => `${t.hostname}:${t.port}`);
  }

  async #runCase(definition: CaseDefinition): Promise<CaseResult> {
    const missing = this.#missingNeeds(definition);
    if (missing !== undefined) {
      return this.#result(definition, {
        findings: [{
          severity: "skip",
          clause: definition.clause,
          message: missing,
        }],
        measurements: {},
        trace: [],
        traceOmitted: 0,
        durationMs: 0,
      }, 1);
    }
    await this.#ensureServer(definition);
    if (this.#unreachable !== undefined) {
      return this.#result(definition, {
        findings: [{
          severity: "skip",
          clause: definition.clause,
          message: this.#unreachable,
        }],
        measurements: {},
        trace: [],
        traceOmitted: 0,
        durationMs: 0,
      }, 1);
    }
    const first = await this.#attempt(definition);
    const firstVerdict = verdictOf(definition.level, first.findings);
    let attempts = 1;
    let verdict = firstVerdict;
    const failing = firstVerdict === "fail" || firstVerdict === "non-strict";
    // A failed case may leave the server in any state: with --spawn the
    // next case (or the retry) gets a fresh one.
    if (failing) this.#dirty = true;
    // Only a failure that waited out a timeout may be the machine's fault;
    // one with direct evidence (wrong bytes, an echo) is not retried.
    const retry = failing && first.timedOut === true && this.#retries > 0;
    if (retry) await this.#ensureServer(definition);
    if (retry && this.#unreachable === undefined) {
      attempts = 2;
      const second = await this.#attempt(definition);
      const retryVerdict = verdictOf(definition.level, second.findings);
      verdict = combineAttempts(firstVerdict, retryVerdict);
      if (retryVerdict === "fail" || retryVerdict === "non-strict") {
        this.#dirty = true;
      }
      first.findings.push({
        severity: "info",
        clause: definition.clause,
        message: verdict === "flaky"
          ? "retried: the second attempt passed, so the result is flaky " +
            `(second attempt: ${retryVerdict})`
          : `retried: the second attempt was ${retryVerdict} too`,
      });
    }
    return this.#result(definition, first, attempts, verdict, firstVerdict);
  }

  /** With --spawn: a running server, fresh when the case or state asks. */
  async #ensureServer(definition: CaseDefinition): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    if (server.alive && !this.#dirty && !definition.freshServer) return;
    await this.#restart();
    this.#dirty = false;
  }

  #missingNeeds(definition: CaseDefinition): string | undefined {
    if (this.#unreachable !== undefined) return this.#unreachable;
    for (const need of definition.needs ?? []) {
      if (need === "spawn" && this.#server === undefined) {
        return "needs --spawn: the harness must start the server to measure " +
          "its memory, open files or signals";
      }
      if (need === "max-clients" && this.#options.maxClients === undefined) {
        return "needs --max-clients N, the target's declared client limit";
      }
    }
    return undefined;
  }

  async #attempt(definition: CaseDefinition): Promise<Attempt> {
    const tag = `c${++this.#attempts}`;
    const trace = new TraceRecorder();
    const server = this.#server;
    const monitor = server ? new ServerMonitor(server) : undefined;
    const ctx = new CaseContext(
      definition,
      {
        targets: server ? [server.target] : this.#targets,
        maxLineBytes: this.#options.maxLineBytes ?? 65536,
        maxPendingBytes: this.#options.maxPendingBytes ?? 4 * 1024 * 1024,
        clients: this.#options.clients ?? 500,
        timeoutScale: this.#scale,
        maxClients: this.#options.maxClients,
        tag,
      },
      trace,
      this.#stats,
      monitor,
    );
    const mark = server?.outputMark() ?? 0;
    const t0 = performance.now();
    const budgetMs = (definition.budgetMs ?? 30_000) * this.#scale;
    let budgetTimer: ReturnType<typeof setTimeout> | undefined;
    let exitTimer: ReturnType<typeof setTimeout> | undefined;
    const running = definition.run(ctx).then(
      () => "done" as const,
      (error) => {
        if (error instanceof CaseSkip) {
          ctx.skipPart(error.message);
        } else if (!(error instanceof CaseAbort)) {
          ctx.fail(`unexpected error: ${describeError(error)}`);
        }
        return "done" as const;
      },
    );
    const outcome = await Promise.race([
      running,
      new Promise<"budget">((resolve) =>
        budgetTimer = setTimeout(resolve, budgetMs, "budget")
      ),
      // A dead server: give the case a moment to see it, then stop it.
      server
        ? server.exited.then(() =>
          new Promise<"exit">((resolve) =>
            exitTimer = setTimeout(resolve, 500 * this.#scale, "exit")
          )
        )
        : new Promise<never>(() => {}),
    ]);
    clearTimeout(budgetTimer);
    clearTimeout(exitTimer);
    if (outcome === "budget") {
      ctx.fail(
        `the case did not finish within ${budgetMs} ms: the server stalled ` +
          "(or the harness did); see the trace for the last thing that happened",
      );
    }
    // Before the harness closes its clients (which ends their reads too).
    const serverEnded = ctx.sawServerEnd;
    ctx.dispose();
    // Closing every client ends the case's pending reads; wait a little.
    await Promise.race([running, new Promise((r) => setTimeout(r, 1000))]);
    const durationMs = performance.now() - t0;
    if (server?.alive && (ctx.failed || serverEnded)) {
      // A failure, or a client the server let go, may be the first sign of
      // a crash still under way: wait for it here, or the next case would
      // be blamed for it.
      const waitMs = (ctx.failed ? 300 : 100) * this.#scale;
      await Promise.race([
        server.exited,
        new Promise((resolve) => setTimeout(resolve, waitMs)),
      ]);
    }
    let crash: CrashRecord | undefined;
    if (server && !server.alive && !monitor?.exitExpected) {
      const status = server.status!;
      crash = {
        caseId: definition.id,
        code: status.code,
        signal: status.signal,
        outputTail: server.outputTail(2000),
      };
      this.#crashes.push(crash);
      ctx.fail(
        `the server process exited during this case (${
          describeStatus(status)
        }); ` +
          "it was restarted for the cases after it",
        {
          clause: "§5.2",
          data: { exitCode: status.code, signal: status.signal },
        },
      );
      // The crash heads the findings: what follows from it comes after.
      ctx.findings.unshift(ctx.findings.pop()!);
    }
    if (!server && ctx.failed) await this.#checkReachable(ctx);
    return {
      findings: ctx.findings,
      timedOut: outcome === "budget" || trace.timeouts > 0,
      measurements: ctx.measurements,
      trace: trace.events(),
      traceOmitted: trace.omitted,
      durationMs,
      serverOutput: server?.outputSince(mark),
      crash,
    };
  }

  async #checkReachable(ctx: CaseContext): Promise<void> {
    for (const target of this.#targets) {
      const problem = await this.#probe(target);
      if (problem) {
        const where = `${target.hostname}:${target.port}`;
        ctx.fail(
          `after this case the target ${where} no longer accepts connections ` +
            `(${problem}): it probably crashed`,
          { clause: "§5.2" },
        );
        this.#unreachable = `not run: ${where} stopped accepting connections ` +
          `during ${ctx.definition.id}`;
        return;
      }
    }
  }

  async #restart(): Promise<void> {
    const server = this.#server!;
    try {
      await server.stop();
      await server.start();
      this.#options.onProgress?.({
        type: "server",
        message: `restarted the server (${server.command})`,
      });
    } catch (error) {
      this.#unreachable = `not run: the server could not be restarted: ${
        describeError(error)
      }`;
    }
  }

  #result(
    definition: CaseDefinition,
    attempt: Attempt,
    attempts: number,
    verdict = verdictOf(definition.level, attempt.findings),
    firstVerdict = verdict,
  ): CaseResult {
    const findings = sortFindings(attempt.findings);
    const headline = findings.find((f) => f.severity !== "info") ?? findings[0];
    const withTrace = this.#options.verbose ||
      !["pass", "info", "skipped"].includes(verdict);
    const result: CaseResult = {
      id: definition.id,
      area: definition.id.split(".")[0],
      clause: definition.clause,
      level: definition.level,
      requirement: definition.requirement,
      verdict,
      counted: isCounted(verdict, this.#level, firstVerdict),
      message: headline?.message ?? "ok",
      findings,
      measurements: attempt.measurements,
      durationMs: Math.round(attempt.durationMs),
      attempts,
    };
    if (withTrace && attempt.trace.length > 0) {
      result.trace = attempt.trace;
      if (attempt.traceOmitted > 0) result.traceOmitted = attempt.traceOmitted;
      if (attempt.serverOutput) result.serverOutput = attempt.serverOutput;
    }
    return result;
  }

  #report(startedAt: Date, durationMs: number, cases: CaseResult[]): Report {
    const { linesReceived, lfOnlyLines } = this.#stats;
    // A line whose content ends with CR reads as CR LF from an LF server,
    // so a few CR LF lines among LF ones still make an LF server.
    const outputTerminator = linesReceived === 0
      ? "unknown"
      : lfOnlyLines === 0
      ? "crlf"
      : lfOnlyLines >= 0.9 * linesReceived
      ? "lf"
      : "mixed";
    return {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: "linechat-conformance", version: CONFORMANCE_VERSION },
      protocol: "linechat/1",
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(durationMs),
      targets: this.#targetNames(),
      spawn: this.#server
        ? {
          command: this.#options.spawn!,
          restarts: this.#server.restarts,
          crashes: this.#crashes,
        }
        : null,
      options: {
        level: this.#level,
        only: [...(this.#options.only ?? [])],
        skip: [...(this.#options.skip ?? [])],
        clients: this.#options.clients ?? 500,
        timeoutScale: this.#scale,
        maxLineBytes: this.#options.maxLineBytes ?? 65536,
        maxPendingBytes: this.#options.maxPendingBytes ?? 4 * 1024 * 1024,
        maxClients: this.#options.maxClients ?? null,
        retries: this.#retries,
      },
      server: { outputTerminator, linesReceived, lfOnlyLines },
      summary: summarize(cases),
      cases,
    };
  }
}
