/**
 * One attempt of one case: its context, its wall-time budget, closing its
 * clients when it ends, and, with `--spawn`, blaming a crash of the server
 * on it (exit status in words and the output tail).
 *
 * @module
 */

import { describeStatus } from "../lib/exit_status.ts";
import type { ServerProcess } from "../lib/server_process.ts";
import { CaseContext, type CaseDefinition } from "./case.ts";
import { describeError } from "./describe_error.ts";
import { CaseAbort, CaseSkip } from "./findings.ts";
import { ServerMonitor } from "./server_monitor.ts";
import type { CaseSettings } from "./settings.ts";
import { TraceRecorder } from "./trace.ts";
import type { CaseResult, CrashRecord, Finding, TraceEvent } from "./types.ts";
import type { WireStats } from "./wire_stats.ts";

/**
 * What one attempt produced.
 *
 * @example
 * ```ts
 * import type { Attempt } from "./attempt.ts";
 * const attempt: Attempt = { findings: [], measurements: {}, trace: [], traceOmitted: 0, durationMs: 3 };
 * console.log(attempt.durationMs);
 * ```
 */
export interface Attempt {
  /** Every finding, in the order recorded. */
  findings: Finding[];
  /** Whether a wait timed out: only such failures are retried. */
  timedOut?: boolean;
  /** The case's measurements. */
  measurements: CaseResult["measurements"];
  /** The wire trace. */
  trace: TraceEvent[];
  /** Trace events left out. */
  traceOmitted: number;
  /** Wall time of the attempt. */
  durationMs: number;
  /** With `--spawn`: what the server printed meanwhile. */
  serverOutput?: string;
  /** With `--spawn`: the server's crash, blamed on this attempt. */
  crash?: CrashRecord;
}

/**
 * An attempt that did not run, skipped for `message`.
 *
 * @example
 * ```ts
 * import { skippedAttempt } from "./attempt.ts";
 * console.log(skippedAttempt("§4.8", "needs --max-clients N").findings[0].severity); // "skip"
 * ```
 */
export function skippedAttempt(clause: string, message: string): Attempt {
  return {
    findings: [{ severity: "skip", clause, message }],
    measurements: {},
    trace: [],
    traceOmitted: 0,
    durationMs: 0,
  };
}

/**
 * What an attempt runs with.
 *
 * @example
 * ```ts ignore
 * const env: AttemptEnvironment = { settings, stats, scale: 1 };
 * ```
 */
export interface AttemptEnvironment {
  /** The case's settings (targets, limits, its tag). */
  settings: CaseSettings;
  /** The run's wire counters. */
  stats: WireStats;
  /** The timeout scale. */
  scale: number;
  /** With `--spawn`: the server. */
  server?: ServerProcess;
  /**
   * Without `--spawn`, after a failed attempt: checks that the targets
   * still accept connections (and records a finding if not).
   */
  checkReachable?: (ctx: CaseContext) => Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs one attempt of `definition`: the case's own errors become findings,
 * a case over its budget fails as stalled, and with a server a crash
 * during it (or just after: a failure or a client the server let go may be
 * the first sign of one) is blamed on it.
 *
 * @example
 * ```ts ignore
 * const attempt = await runAttempt(definition, { settings, stats, scale: 1 });
 * console.log(attempt.findings);
 * ```
 */
export async function runAttempt(
  definition: CaseDefinition,
  env: AttemptEnvironment,
): Promise<Attempt> {
  const { server, scale } = env;
  const trace = new TraceRecorder();
  const monitor = server ? new ServerMonitor(server) : undefined;
  const ctx = new CaseContext(
    definition,
    env.settings,
    trace,
    env.stats,
    monitor,
  );
  const mark = server?.outputMark() ?? 0;
  const t0 = performance.now();
  const budgetMs = (definition.budgetMs ?? 30_000) * scale;
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
          exitTimer = setTimeout(resolve, 500 * scale, "exit")
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
  await Promise.race([running, sleep(1000)]);
  const durationMs = performance.now() - t0;
  if (server?.alive && (ctx.failed || serverEnded)) {
    // A failure, or a client the server let go, may be the first sign of
    // a crash still under way: wait for it here, or the next case would
    // be blamed for it.
    await Promise.race([
      server.exited,
      sleep((ctx.failed ? 300 : 100) * scale),
    ]);
  }
  let crash: CrashRecord | undefined;
  if (server && !server.alive && !monitor?.exitExpected) {
    crash = blameCrash(ctx, server);
  }
  if (!server && ctx.failed) await env.checkReachable?.(ctx);
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

/** Records the server's exit as this case's first finding (§5.2). */
function blameCrash(ctx: CaseContext, server: ServerProcess): CrashRecord {
  const status = server.status!;
  // The crash heads the findings: what follows from it comes after.
  ctx.failFirst(
    `the server process exited during this case (${describeStatus(status)}); ` +
      "it was restarted for the cases after it",
    {
      clause: "§5.2",
      data: { exitCode: status.code, signal: status.signal },
    },
  );
  return {
    caseId: ctx.definition.id,
    code: status.code,
    signal: status.signal,
    outputTail: server.outputTail(2000),
  };
}
