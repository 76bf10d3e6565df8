/**
 * Runs the selected cases against one or more targets (or a server the
 * harness spawns through `lib/server_process.ts`) and builds the report:
 * retries, restarts of a spawned server (after a crash, after a failure,
 * before memory measurements) and what is skipped when a need is missing.
 *
 * @module
 */

import { parseTarget, type Target } from "../lib/args.ts";
import { ServerProcess, SpawnError } from "../lib/server_process.ts";
import {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
} from "../protocol/limits.ts";
import { type Attempt, runAttempt, skippedAttempt } from "./attempt.ts";
import type { CaseContext, CaseDefinition } from "./case.ts";
import { describeError } from "./describe_error.ts";
import { probeTarget } from "./reachability.ts";
import { caseResult, outputTerminator, singleOutcome } from "./results.ts";
import {
  CONFORMANCE_VERSION,
  type ConformanceOptions,
  DEFAULT_CLIENTS,
  HarnessError,
  selectCases,
} from "./run_options.ts";
import { TIMEOUTS } from "./settings.ts";
import {
  type CaseResult,
  type CrashRecord,
  type LevelFilter,
  type Report,
  SCHEMA_VERSION,
} from "./types.ts";
import { combineAttempts, summarize, verdictOf } from "./verdict.ts";
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

function isFailing(verdict: string): boolean {
  return verdict === "fail" || verdict === "non-strict";
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
    if ((options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES) < 1) {
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
      // Ready once its port is in /proc/net/tcp: no probe connection,
      // which some servers would count as a client that came and went.
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

  #probe(target: Target): Promise<string | undefined> {
    return probeTarget(target, TIMEOUTS.connect * this.#scale);
  }

  #targetNames(): string[] {
    return this.#targets.map((t) => `${t.hostname}:${t.port}`);
  }

  async #runCase(definition: CaseDefinition): Promise<CaseResult> {
    const missing = this.#missingNeeds(definition);
    if (missing !== undefined) return this.#skipped(definition, missing);
    await this.#ensureServer(definition);
    if (this.#unreachable !== undefined) {
      return this.#skipped(definition, this.#unreachable);
    }
    const first = await this.#attempt(definition);
    const firstVerdict = verdictOf(definition.level, first.findings);
    let attempts = 1;
    let verdict = firstVerdict;
    const failing = isFailing(firstVerdict);
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
      if (isFailing(retryVerdict)) this.#dirty = true;
      first.findings.push({
        severity: "info",
        clause: definition.clause,
        message: verdict === "flaky"
          ? "retried: the second attempt passed, so the result is flaky " +
            `(second attempt: ${retryVerdict})`
          : `retried: the second attempt was ${retryVerdict} too`,
      });
    }
    return caseResult(
      definition,
      first,
      { attempts, verdict, firstVerdict },
      this.#level,
      this.#options.verbose ?? false,
    );
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
    const server = this.#server;
    const attempt = await runAttempt(definition, {
      settings: {
        targets: server ? [server.target] : this.#targets,
        maxLineBytes: this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
        maxPendingBytes: this.#options.maxPendingBytes ??
          DEFAULT_MAX_PENDING_BYTES,
        clients: this.#options.clients ?? DEFAULT_CLIENTS,
        timeoutScale: this.#scale,
        maxClients: this.#options.maxClients,
        tag: `c${++this.#attempts}`,
      },
      stats: this.#stats,
      scale: this.#scale,
      server,
      checkReachable: (ctx) => this.#checkReachable(ctx),
    });
    if (attempt.crash) this.#crashes.push(attempt.crash);
    return attempt;
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
      await server.restart();
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

  #report(startedAt: Date, durationMs: number, cases: CaseResult[]): Report {
    const { linesReceived, lfOnlyLines } = this.#stats;
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
        clients: this.#options.clients ?? DEFAULT_CLIENTS,
        timeoutScale: this.#scale,
        maxLineBytes: this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
        maxPendingBytes: this.#options.maxPendingBytes ??
          DEFAULT_MAX_PENDING_BYTES,
        maxClients: this.#options.maxClients ?? null,
        retries: this.#retries,
      },
      server: {
        outputTerminator: outputTerminator(linesReceived, lfOnlyLines),
        linesReceived,
        lfOnlyLines,
      },
      summary: summarize(cases),
      cases,
    };
  }
}
