/**
 * One attempt of one case: its context, its hard deadline (a case still
 * running then is stopped with verdict `timeout`, its trace kept),
 * closing its clients when it ends, and, with `--spawn`, blaming a crash
 * of the server on it (exit status in words and the output tail, escaped).
 *
 * @module
 */

import { describeStatus } from "../lib/exit_status.ts";
import type { ServerProcess } from "../lib/server_process.ts";
import { CaseContext, type CaseDefinition } from "./case.ts";
import { describeError } from "./describe_error.ts";
import { formatDuration } from "./duration.ts";
import { escapeOutput } from "./escape.ts";
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
  /** Whether the attempt reached its hard deadline (verdict `timeout`). */
  hitDeadline?: boolean;
  /** Lines the attempt's clients received (0: the server sent nothing). */
  linesReceived?: number;
  /** The case's measurements. */
  measurements: CaseResult["measurements"];
  /** The wire trace. */
  trace: TraceEvent[];
  /** Trace events left out. */
  traceOmitted: number;
  /** Wall time of the attempt. */
  durationMs: number;
  /** With `--spawn`: what the server printed meanwhile (escaped). */
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
   * The attempt's hard deadline in ms, already scaled (and cut to what is
   * left of the run's bound).
   *
   * @default {the case's `budgetMs` (20 s) times the scale}
   */
  deadlineMs?: number;
  /** Why the deadline is shorter than the case's own, if it is. */
  deadlineReason?: string;
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
 * A case's hard deadline before scaling: its `budgetMs`, or 20 s.
 *
 * @example
 * ```ts
 * import { caseDeadlineMs } from "./attempt.ts";
 * console.log(caseDeadlineMs({ budgetMs: 60_000 }), caseDeadlineMs({})); // 60000 20000
 * ```
 */
export function caseDeadlineMs(
  definition: Pick<CaseDefinition, "budgetMs">,
): number {
  return definition.budgetMs ?? 20_000;
}

/**
 * Runs one attempt of `definition`: the case's own errors become findings,
 * a case that reaches its deadline is stopped (verdict `timeout`; what it
 * records afterwards is not judged), and with a server a crash during it
 * (or just after: a failure or a client the server let go may be the
 * first sign of one) is blamed on it.
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
  const linesBefore = env.stats.linesReceived;
  const budgetMs = Math.max(
    1,
    Math.round(env.deadlineMs ?? caseDeadlineMs(definition) * scale),
  );
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
  const hitDeadline = outcome === "budget";
  if (hitDeadline) {
    // What the case records from now on comes from its clients being
    // closed under it, not from the server.
    ctx.closeFindings();
    ctx.trace.record(
      "harness",
      "timeout",
      `the case's deadline of ${budgetMs} ms passed`,
    );
    ctx.harness(
      "fail",
      `the case reached its deadline of ${
        formatDuration(budgetMs)
      } before it could ` +
        `judge${
          env.deadlineReason ? ` (${env.deadlineReason})` : ""
        }: the server is too slow for it, or stalled; see the trace for the ` +
        "last thing that happened",
      { data: { deadlineMs: budgetMs } },
    );
  } else if (outcome === "done") {
    ctx.finish();
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
  if (!server && (ctx.failed || hitDeadline)) await env.checkReachable?.(ctx);
  const output = server?.outputSince(mark);
  return {
    findings: ctx.findings,
    timedOut: hitDeadline || trace.timeouts > 0,
    // A crash explains the stop better than the deadline does.
    hitDeadline: hitDeadline && crash === undefined,
    linesReceived: env.stats.linesReceived - linesBefore,
    measurements: ctx.measurements,
    trace: trace.events(),
    traceOmitted: trace.omitted,
    durationMs,
    serverOutput: output === undefined ? undefined : escapeOutput(output),
    crash,
  };
}

/** Records the server's exit as this case's first finding (§5.2). */
function blameCrash(ctx: CaseContext, server: ServerProcess): CrashRecord {
  const status = server.status!;
  // The crash heads the findings: what follows from it comes after.
  ctx.harness(
    ctx.definition.level === "SHOULD" ? "non-strict" : "fail",
    `the server process exited during this case (${describeStatus(status)}); ` +
      "it was restarted for the cases after it",
    {
      clause: "§5.2",
      data: { exitCode: status.code, signal: status.signal },
    },
    true,
  );
  return {
    caseId: ctx.definition.id,
    code: status.code,
    signal: status.signal,
    outputTail: escapeOutput(server.outputTail(2000)),
  };
}
