/**
 * Runs the selected cases against one or more targets (or a server the
 * harness spawns through `lib/server_process.ts`) and builds the report:
 * the run's bound (every run ends within it, however the server behaves),
 * the preflight (reachability, latency, root causes found before any
 * case), retries, restarts of a spawned server (after a crash, after a
 * failure, before memory measurements), what is skipped when a need is
 * missing, and the diagnoses that group cases failing on one root cause
 * (stopping the run when the first cases all do).
 *
 * @module
 */

import { type Endpoint, formatEndpoint } from "../lib/endpoint.ts";
import type { ServerProcess } from "../lib/server_process.ts";
import {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
} from "../protocol/limits.ts";
import {
  type Attempt,
  caseDeadlineMs,
  runAttempt,
  skippedAttempt,
} from "./attempt.ts";
import type { CaseContext, CaseDefinition } from "./case.ts";
import { describeCrashStatus, describeError } from "./describe_error.ts";
import { formatDuration } from "./duration.ts";
import { escapeOutput } from "./escape.ts";
import { preflight } from "./preflight.ts";
import {
  type CompiledDialect,
  compileDialect,
  givenUpClauses,
} from "./dialect/dialect.ts";
import {
  FUZZ_RESULT_COUNT,
  fuzzBudgetMs,
  type FuzzSettings,
  runFuzzArea,
} from "./fuzz/run_fuzz.ts";
import { RootCauses } from "./root_causes.ts";
import { buildReport } from "./run_report.ts";
import { RunTargets } from "./run_targets.ts";
import { targetsFor, transportSkip } from "./transports.ts";
import { CASE_OVERHEAD_MS, runBound } from "./run_bound.ts";
import { checkReachable } from "./reachability.ts";
import { caseResult, singleOutcome } from "./results.ts";
import {
  type ConformanceOptions,
  DEFAULT_CLIENTS,
  HarnessError,
  selectCases,
} from "./run_options.ts";
import { TIMEOUTS } from "./settings.ts";
import type {
  CaseResult,
  CrashRecord,
  Latency,
  LevelFilter,
  Report,
} from "./types.ts";
import { attemptVerdict, combineAttempts, isFailing } from "./verdict.ts";
import type { WireStats } from "./wire_stats.ts";

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
  readonly #sendEol: "lf" | "crlf";
  readonly #keepGoing: boolean;
  readonly #dialect: CompiledDialect | undefined;
  readonly #stats: WireStats = {
    linesReceived: 0,
    lfOnlyLines: 0,
    sent: new Set(),
  };
  readonly #crashes: CrashRecord[] = [];
  readonly #causes = new RootCauses();
  #run: RunTargets | undefined;
  #attempts = 0;
  #dirty: { reason: "crash" | "failure"; message: string } | undefined;
  #unreachable: string | undefined;
  #stopped: string | undefined;
  #latency: Latency | null = null;
  #bound = { ms: 0, fromDeadline: false };
  #end = Infinity;

  constructor(options: ConformanceOptions) {
    this.#options = options;
    this.#level = options.level ?? "all";
    this.#retries = options.retries ?? 1;
    this.#scale = options.timeoutScale ?? 1;
    this.#sendEol = options.sendEol ?? "lf";
    this.#keepGoing = options.keepGoing ?? false;
    try {
      this.#dialect = options.dialect && compileDialect(options.dialect);
    } catch (error) {
      throw new HarnessError(`dialect: ${describeError(error)}`);
    }
    if (!(this.#scale > 0)) {
      throw new HarnessError("timeoutScale must be above 0");
    }
    if ((options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES) < 1) {
      throw new HarnessError("maxLineBytes must be at least 1");
    }
    if (options.deadlineMs !== undefined && !(options.deadlineMs >= 1000)) {
      throw new HarnessError("deadlineMs must be at least 1000");
    }
  }

  #progress: NonNullable<ConformanceOptions["onProgress"]> = () => {};

  async execute(): Promise<Report> {
    const startedAt = new Date();
    const t0 = performance.now();
    // --fuzz alone runs the fuzz area only; with --only, those cases too.
    const fuzz = this.#options.fuzz;
    const cases = fuzz && (this.#options.only ?? []).length === 0
      ? []
      : selectCases(this.#options);
    if (cases.length === 0 && fuzz === undefined) {
      const filters = [
        ...(this.#options.only ?? []).map((g) => `--only ${g}`),
        ...(this.#options.skip ?? []).map((g) => `--skip ${g}`),
        ...(this.#level !== "all" ? [`--level ${this.#level}`] : []),
      ];
      throw new HarnessError(
        `no case matches ${
          filters.join(" ") || "the selection"
        } (deno task conformance --list shows the ids)`,
      );
    }
    this.#bound = runBound(
      fuzz ? [...cases, { budgetMs: fuzzBudgetMs(fuzz) }] : cases,
      this.#options,
    );
    this.#end = t0 + this.#bound.ms;
    this.#progress = this.#options.onProgress ?? (() => {});
    const swallow = (event: PromiseRejectionEvent) => {
      // Work a stalled case left behind may reject after it was abandoned.
      event.preventDefault();
    };
    addEventListener("unhandledrejection", swallow);
    try {
      await this.#prepare();
      this.#progress({
        type: "start",
        total: cases.length + (fuzz ? FUZZ_RESULT_COUNT : 0),
        targets: this.#targetNames(),
        boundMs: this.#bound.ms,
        fromDeadline: this.#bound.fromDeadline,
        timeoutScale: this.#scale,
      });
      await this.#preflight();
      const results: CaseResult[] = [];
      for (const [index, definition] of cases.entries()) {
        this.#progress({
          type: "case-start",
          index,
          total: cases.length,
          definition,
        });
        const result = await this.#runCase(definition);
        results.push(result);
        this.#progress({
          type: "case-end",
          index,
          total: cases.length,
          result,
        });
        const stop = this.#keepGoing || this.#stopped !== undefined
          ? undefined
          : this.#causes.checkStop(results);
        if (stop) {
          this.#stopped = stop.skipMessage;
          this.#progress({
            type: "stopped",
            message: stop.message,
            diagnosis: stop.diagnosis,
          });
        }
      }
      if (fuzz) results.push(...await this.#fuzz(fuzz, results.length));
      return this.#report(startedAt, performance.now() - t0, results);
    } finally {
      await this.#run?.stop();
      // Let abandoned work settle before the handler goes.
      await new Promise((resolve) => setTimeout(resolve, 10));
      removeEventListener("unhandledrejection", swallow);
    }
  }

  /** `--fuzz`: the fuzz area's results (see fuzz/run_fuzz.ts). */
  async #fuzz(settings: FuzzSettings, index: number): Promise<CaseResult[]> {
    const server = this.#server;
    // Its schedules write raw TCP segments: a plain TCP target.
    const first = this.#targets.find((t) => t.kind === "tcp")!;
    const results = await runFuzzArea(settings, {
      server: server
        ? {
          target: () => server.target,
          alive: () => server.alive,
          restart: () => server.restart(),
        }
        : { target: () => first },
      command: server
        ? `deno task conformance --spawn '${this.#options.spawn}'`
        : `deno task conformance --target ${formatEndpoint(first)}`,
      waitScale: this.#scale * (this.#latency?.waitScale ?? 1),
      level: this.#level,
      verbose: this.#options.verbose ?? false,
      endAt: this.#end - Math.min(5000, this.#bound.ms / 10),
      onReceived: (lines, lfOnly) => {
        this.#stats.linesReceived += lines;
        this.#stats.lfOnlyLines += lfOnly;
      },
    });
    results.forEach((result, i) =>
      this.#progress({
        type: "case-end",
        index: index + i,
        total: index + results.length,
        result,
      })
    );
    return results;
  }

  /** Time left before the run's bound, keeping `reserve` for the end. */
  /** Time left before the run's bound, keeping a reserve for the end. */
  #left(): number {
    const reserve = Math.min(5000, this.#bound.ms / 10);
    return this.#end - reserve - performance.now();
  }

  /** The spawned server, if any. */
  get #server(): ServerProcess | undefined {
    return this.#run?.server;
  }

  get #targets(): readonly Endpoint[] {
    return this.#run?.endpoints ?? [];
  }

  async #prepare(): Promise<void> {
    this.#run = await RunTargets.open({
      spawn: this.#options.spawn,
      targets: this.#options.targets,
      cwd: this.#options.cwd,
      readyTimeoutMs: Math.min(15_000 * this.#scale, this.#bound.ms / 4),
      needsTcp: this.#options.fuzz !== undefined,
    });
  }

  /**
   * Before the cases: reachability, a server that dies on a connection,
   * the line endings it frames, decoration, latency (see preflight.ts).
   */
  async #preflight(): Promise<void> {
    const server = this.#server;
    for (const [i, target] of this.#targets.entries()) {
      let result = await preflight({
        target,
        caCerts: this.#options.caCerts,
        timeoutScale: this.#scale,
        sendEol: this.#sendEol,
        dialect: this.#dialect,
        tag: `p${i}`,
        server,
      });
      if (result.unreachable !== undefined && server === undefined) {
        throw new HarnessError(
          `cannot connect to ${formatEndpoint(target)}: ${result.unreachable}`,
        );
      }
      if (result.died && server !== undefined) {
        // Once more with a fresh server: a crash is a root cause only if
        // it happens again.
        const first = result;
        await this.#restart("preflight", "the server died in the preflight");
        if (this.#unreachable === undefined) {
          result = await preflight({
            target: this.#targets[i],
            caCerts: this.#options.caCerts,
            timeoutScale: this.#scale,
            sendEol: this.#sendEol,
            dialect: this.#dialect,
            tag: `p${i}b`,
            server,
          });
          if (!result.died) {
            // It survived the second time: the first death is noted only.
            result.diagnoses.push(...first.diagnoses.map((d) => ({
              ...d,
              severity: "info" as const,
              message: `${d.message} (once: it survived a second try)`,
            })));
          } else if (server.alive === false) {
            await this.#restart(
              "preflight",
              "the server died in the preflight",
            );
          }
        }
      } else if (
        result.unreachable !== undefined && server !== undefined
      ) {
        result.diagnoses.push({
          id: "unreachable",
          severity: "fail",
          clause: "§5.2",
          message:
            `the spawned server listens but does not accept connections: ${result.unreachable}`,
          cases: [],
          stopped: false,
        });
      }
      if (result.latency && this.#latency === null) {
        this.#latency = result.latency;
      }
      for (const diagnosis of result.diagnoses) this.#causes.add(diagnosis);
    }
    const fatal = this.#causes.list.find((d) =>
      d.severity === "fail" &&
      ["dies-on-connect", "unreachable"].includes(d.id)
    );
    if (fatal && !this.#keepGoing) {
      fatal.stopped = true;
      this.#stopped = `not run: the run stopped on root cause ${fatal.id}, ` +
        "found before the first case (--keep-going runs every case)";
    }
    this.#progress({
      type: "preflight",
      latency: this.#latency,
      diagnoses: this.#causes.list.map((d) => ({ ...d })),
    });
    if (this.#stopped && fatal) {
      this.#progress({
        type: "stopped",
        message: `${fatal.message}; no case can run on this server ` +
          "(--keep-going runs every case anyway)",
        diagnosis: fatal,
      });
    }
  }

  #targetNames(): string[] {
    return this.#run?.names ?? [];
  }

  async #runCase(definition: CaseDefinition): Promise<CaseResult> {
    if (this.#stopped !== undefined) {
      return this.#skipped(definition, this.#stopped);
    }
    const missing = this.#missingNeeds(definition);
    if (missing !== undefined) return this.#skipped(definition, missing);
    const givenUp = this.#dialect &&
      givenUpClauses(this.#dialect.declared).get(definition.clause);
    if (givenUp) {
      return this.#skipped(definition, `not applicable: ${givenUp}`);
    }
    if (this.#left() < CASE_OVERHEAD_MS) return this.#outOfTime(definition);
    await this.#ensureServer(definition);
    if (this.#unreachable !== undefined) {
      return this.#skipped(definition, this.#unreachable);
    }
    if (this.#left() < CASE_OVERHEAD_MS) return this.#outOfTime(definition);
    const first = await this.#attempt(definition);
    const firstVerdict = attemptVerdict(
      definition.level,
      first.findings,
      first.hitDeadline ?? false,
    );
    let attempts = 1;
    let verdict = firstVerdict;
    const failing = isFailing(firstVerdict);
    // A failed case may leave the server in any state: with --spawn the
    // next case (or the retry) gets a fresh one.
    if (failing) this.#markDirty(definition, first);
    // Only a failure that waited out a timeout may be the machine's fault;
    // one with direct evidence (wrong bytes, an echo) is not retried, and
    // neither is one that reached its deadline (it would only take as long
    // again), nor one there is no time left for.
    const deadline = caseDeadlineMs(definition) * this.#scale;
    const retry = failing && firstVerdict !== "timeout" &&
      first.timedOut === true && this.#retries > 0 &&
      this.#left() > deadline + CASE_OVERHEAD_MS;
    if (retry) await this.#ensureServer(definition);
    if (retry && this.#unreachable === undefined) {
      attempts = 2;
      const second = await this.#attempt(definition);
      const retryVerdict = attemptVerdict(
        definition.level,
        second.findings,
        second.hitDeadline ?? false,
      );
      verdict = combineAttempts(firstVerdict, retryVerdict);
      if (isFailing(retryVerdict)) this.#markDirty(definition, second);
      first.findings.push({
        severity: "info",
        clause: definition.clause,
        message: verdict === "flaky"
          ? "retried: the second attempt passed, so the result is flaky " +
            `(second attempt: ${retryVerdict})`
          : `retried: the second attempt was ${retryVerdict} too`,
      });
    }
    const result = caseResult(
      definition,
      first,
      { attempts, verdict, firstVerdict },
      this.#level,
      this.#options.verbose ?? false,
    );
    // Through a dialect, bytes it does not explain are the case's own
    // finding, not the decoration it declared.
    if (this.#dialect && result.cause === "decorated") delete result.cause;
    this.#causes.explain(result, first);
    return result;
  }

  #markDirty(definition: CaseDefinition, attempt: Attempt): void {
    this.#dirty = attempt.crash
      ? {
        reason: "crash",
        message: `the server died during ${definition.id} (${
          describeCrashStatus(attempt.crash)
        }): restarted`,
      }
      : {
        reason: "failure",
        message:
          `restarted the server after ${definition.id} failed, so that the next case starts clean`,
      };
  }

  #skipped(definition: CaseDefinition, message: string): CaseResult {
    const attempt = skippedAttempt(definition.clause, message);
    return caseResult(
      definition,
      attempt,
      singleOutcome(definition.level, attempt.findings),
      this.#level,
      this.#options.verbose ?? false,
    );
  }

  /** A case there is no time left for: `timeout`, counted at its level. */
  #outOfTime(definition: CaseDefinition): CaseResult {
    const attempt: Attempt = {
      findings: [{
        severity: "fail",
        clause: definition.clause,
        message: `not run: the run reached its bound of ${
          formatDuration(this.#bound.ms)
        }${
          this.#bound.fromDeadline ? " (--deadline)" : ""
        } before this case (a slow server? raise --deadline)`,
      }],
      measurements: {},
      trace: [],
      traceOmitted: 0,
      durationMs: 0,
    };
    return caseResult(
      definition,
      attempt,
      { attempts: 0, verdict: "timeout", firstVerdict: "timeout" },
      this.#level,
      this.#options.verbose ?? false,
    );
  }

  /** With --spawn: a running server, fresh when the case or state asks. */
  async #ensureServer(definition: CaseDefinition): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    if (!server.alive) {
      await this.#restart(
        "crash",
        this.#dirty?.message ?? "the server had exited: restarted",
      );
    } else if (this.#dirty) {
      await this.#restart(this.#dirty.reason, this.#dirty.message);
    } else if (definition.freshServer) {
      await this.#restart(
        "fresh",
        `restarted the server for ${definition.id}, which measures a fresh one`,
      );
    } else return;
    this.#dirty = undefined;
  }

  #missingNeeds(definition: CaseDefinition): string | undefined {
    if (this.#unreachable !== undefined) return this.#unreachable;
    const transport = transportSkip(definition.id, this.#targets);
    if (transport !== undefined) return transport;
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
    const server = this.#server;
    // A slow server gets longer waits, and its cases longer deadlines
    // (as much longer, within the run's bound).
    const own = caseDeadlineMs(definition) * this.#scale *
      (this.#latency?.waitScale ?? 1);
    const left = this.#left() - CASE_OVERHEAD_MS;
    const attempt = await runAttempt(definition, {
      settings: {
        targets: targetsFor(definition.id, this.#targets),
        caCerts: this.#options.caCerts,
        maxLineBytes: this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
        maxPendingBytes: this.#options.maxPendingBytes ??
          DEFAULT_MAX_PENDING_BYTES,
        clients: this.#options.clients ?? DEFAULT_CLIENTS,
        timeoutScale: this.#scale,
        waitScale: this.#latency?.waitScale ?? 1,
        latencyP99Ms: this.#latency?.p99Ms ?? 0,
        sendEol: this.#sendEol,
        dialect: this.#dialect,
        maxClients: this.#options.maxClients,
        tag: `c${++this.#attempts}`,
      },
      stats: this.#stats,
      scale: this.#scale,
      server,
      deadlineMs: Math.max(1000, Math.min(own, left)),
      deadlineReason: left < own
        ? `cut short: the run's bound of ${
          formatDuration(this.#bound.ms)
        } was near`
        : undefined,
      checkReachable: (ctx) => this.#checkReachable(ctx),
    });
    if (attempt.crash) this.#crashes.push(attempt.crash);
    return attempt;
  }

  async #checkReachable(ctx: CaseContext): Promise<void> {
    for (const target of this.#targets) {
      const problem = await checkReachable(
        target,
        TIMEOUTS.connect * this.#scale,
      );
      if (problem) {
        const where = `${target.hostname}:${target.port}`;
        ctx.harness(
          "fail",
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

  async #restart(
    reason: "crash" | "failure" | "fresh" | "preflight",
    message: string,
  ): Promise<void> {
    try {
      await this.#run!.restart(this.#left());
      this.#progress({ type: "server", message, reason });
    } catch (error) {
      this.#unreachable = `not run: the server could not be restarted: ${
        escapeOutput(describeError(error))
      }`;
    }
  }

  #report(startedAt: Date, durationMs: number, cases: CaseResult[]): Report {
    return buildReport({
      options: this.#options,
      startedAt,
      durationMs,
      targets: this.#targetNames(),
      server: this.#server,
      crashes: this.#crashes,
      dialect: this.#dialect,
      bound: this.#bound,
      latency: this.#latency,
      diagnoses: this.#causes.list,
      stats: this.#stats,
      cases,
    });
  }
}
