/**
 * The report of one conformance run (the JSON that `--json` writes and
 * the text and HTML reports render), assembled from what the run found.
 *
 * @module
 */

import type { ServerProcess } from "../lib/server_process.ts";
import {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
} from "../protocol/limits.ts";
import type { CompiledDialect } from "./dialect/dialect.ts";
import { dialectReport } from "./dialect/report.ts";
import { outputTerminator } from "./results.ts";
import {
  CONFORMANCE_VERSION,
  type ConformanceOptions,
  DEFAULT_CLIENTS,
} from "./run_options.ts";
import {
  type CaseResult,
  type CrashRecord,
  type Diagnosis,
  type Latency,
  type Report,
  SCHEMA_VERSION,
} from "./types.ts";
import { summarize } from "./verdict.ts";
import type { WireStats } from "./wire_stats.ts";

/** What {@linkcode buildReport} assembles. */
export interface ReportInput {
  /** The run's options, as given (their defaults are filled in here). */
  options: ConformanceOptions;
  startedAt: Date;
  durationMs: number;
  /** The targets, as the report names them. */
  targets: string[];
  /** The server the harness spawned, if any. */
  server: ServerProcess | undefined;
  /** The spawned server's crashes. */
  crashes: CrashRecord[];
  dialect: CompiledDialect | undefined;
  bound: Report["bound"];
  latency: Latency | null;
  diagnoses: Diagnosis[];
  stats: WireStats;
  cases: CaseResult[];
}

/**
 * The run's report, with every option's effective value.
 *
 * @example
 * ```ts
 * import { buildReport } from "./run_report.ts";
 *
 * const report = buildReport({
 *   options: { targets: ["127.0.0.1:7000"] },
 *   startedAt: new Date(),
 *   durationMs: 12,
 *   targets: ["127.0.0.1:7000"],
 *   server: undefined,
 *   crashes: [],
 *   dialect: undefined,
 *   bound: { ms: 60_000, fromDeadline: false },
 *   latency: null,
 *   diagnoses: [],
 *   stats: { linesReceived: 0, lfOnlyLines: 0, sent: new Set() },
 *   cases: [],
 * });
 * console.log(report.options.retries); // 1
 * ```
 */
export function buildReport(input: ReportInput): Report {
  const { options, server, stats } = input;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: "linechat-conformance", version: CONFORMANCE_VERSION },
    protocol: "linechat/1",
    startedAt: input.startedAt.toISOString(),
    durationMs: Math.round(input.durationMs),
    targets: input.targets,
    spawn: server
      ? {
        command: options.spawn!,
        restarts: server.restarts,
        crashes: input.crashes,
      }
      : null,
    options: {
      level: options.level ?? "all",
      only: [...(options.only ?? [])],
      skip: [...(options.skip ?? [])],
      clients: options.clients ?? DEFAULT_CLIENTS,
      timeoutScale: options.timeoutScale ?? 1,
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      maxClients: options.maxClients ?? null,
      retries: options.retries ?? 1,
      sendEol: options.sendEol ?? "lf",
      keepGoing: options.keepGoing ?? false,
    },
    ...(input.dialect && { dialect: dialectReport(input.dialect.declared) }),
    bound: { ...input.bound },
    latency: input.latency,
    diagnoses: input.diagnoses,
    server: {
      outputTerminator: outputTerminator(
        stats.linesReceived,
        stats.lfOnlyLines,
      ),
      linesReceived: stats.linesReceived,
      lfOnlyLines: stats.lfOnlyLines,
    },
    summary: summarize(input.cases, input.diagnoses),
    cases: input.cases,
  };
}
