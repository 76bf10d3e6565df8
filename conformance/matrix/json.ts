/**
 * The matrix as data: `matrix.json`, one document with the servers, the
 * cases, a verdict per case and server, and each server's report summary.
 * Its schema is stable (`schemaVersion` {@linkcode MATRIX_SCHEMA_VERSION})
 * and documented in README.md ("The conformance matrix"); the Markdown
 * table and the HTML dashboard are drawn from it.
 *
 * @module
 */

import type { KnownServer } from "../../targets/servers.ts";
import { CONFORMANCE_VERSION, selectCases } from "../run_options.ts";
import {
  type CaseResult,
  type DataValue,
  type Level,
  type Report,
  type ReportSummary,
  SCHEMA_VERSION,
  type Verdict,
} from "../types.ts";
import type { MatrixRun } from "./running.ts";
import type { MatrixSettings } from "./server_run.ts";

/**
 * `matrix.json`'s schema version: bumped only when a field is removed or
 * changes meaning.
 *
 * @example
 * ```ts
 * import { MATRIX_SCHEMA_VERSION } from "./json.ts";
 * console.log(MATRIX_SCHEMA_VERSION); // 1
 * ```
 */
export const MATRIX_SCHEMA_VERSION = 1;

/**
 * A cell's verdict: the suite's verdict, or `not-run` when the server has
 * no result for the case (it was unavailable, or its run broke off).
 *
 * @example
 * ```ts
 * import type { MatrixVerdict } from "./json.ts";
 * const verdict: MatrixVerdict = "not-run";
 * console.log(verdict);
 * ```
 */
export type MatrixVerdict = Verdict | "not-run";

/**
 * One column of `matrix.json`: a server and how its run went.
 *
 * @example
 * ```ts
 * import type { MatrixServerEntry } from "./json.ts";
 * const entry: Partial<MatrixServerEntry> = { id: "ncat", status: "not-run", error: "ncat is not installed" };
 * console.log(entry.status);
 * ```
 */
export interface MatrixServerEntry {
  /** Short id, the key of {@linkcode MatrixCase} verdicts. */
  id: string;
  /** Display name. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** `ours`, `reference` (a Nim reference) or `relay` (ncat). */
  kind: KnownServer["kind"];
  /** The `--spawn` command, `{port}` unfilled, run in the repository root. */
  spawn: string;
  /** The client limit declared to the suite, or `null`. */
  maxClients: number | null;
  /** `ran`: there is a report; `not-run`: unavailable; `error`: the run broke. */
  status: "ran" | "not-run" | "error";
  /** Why there is no report. */
  error?: string;
  /** Wall time of the server's run, in ms. */
  durationMs: number;
  /** The report's verdict counts, or `null` without a report. */
  summary: ReportSummary | null;
  /** Times the suite restarted the server (after failures and crashes). */
  restarts: number;
  /** Every server crash the suite saw, blamed on the case running then. */
  crashes: { caseId: string; code: number | null; signal: string | null }[];
  /** How the server ended the lines it sent (§2.5), from the report. */
  outputTerminator: Report["server"]["outputTerminator"] | null;
  /** The full report's file, relative to `matrix.json`, or `null`. */
  report: string | null;
}

/**
 * One cell: a server's result for a case.
 *
 * @example
 * ```ts
 * import type { MatrixCell } from "./json.ts";
 * const cell: MatrixCell = { verdict: "fail", message: "A received its own line back", attempts: 2, crashed: false, measurements: {} };
 * console.log(cell.verdict);
 * ```
 */
export interface MatrixCell {
  /** The verdict. */
  verdict: MatrixVerdict;
  /** The main finding in one line (the case's message). */
  message: string;
  /** 1, or 2 when a failure was retried. */
  attempts: number;
  /** Whether the server process died during the case. */
  crashed: boolean;
  /** The case's named measurements. */
  measurements: Record<string, DataValue>;
}

/**
 * One row of `matrix.json`: a case and its cells.
 *
 * @example
 * ```ts
 * import type { MatrixCase } from "./json.ts";
 * const row: Partial<MatrixCase> = { id: "relay.no-echo", area: "relay", clause: "§2.2", level: "MUST" };
 * console.log(row.clause);
 * ```
 */
export interface MatrixCase {
  /** The case id, e.g. `relay.no-echo`. */
  id: string;
  /** The id's first part. */
  area: string;
  /** The PROTOCOL.md clause checked. */
  clause: string;
  /** `MUST`, `SHOULD` or `INFO`. */
  level: Level;
  /** The requirement, in one line. */
  requirement: string;
  /** Server id → its cell; every server of the document has one. */
  verdicts: Record<string, MatrixCell>;
}

/**
 * `matrix.json`.
 *
 * @example
 * ```ts
 * import type { MatrixDocument } from "./json.ts";
 * const doc: Partial<MatrixDocument> = { schemaVersion: 1, servers: [], cases: [] };
 * console.log(doc.schemaVersion);
 * ```
 */
export interface MatrixDocument {
  /** {@linkcode MATRIX_SCHEMA_VERSION}. */
  schemaVersion: typeof MATRIX_SCHEMA_VERSION;
  /** What wrote it. */
  tool: {
    /** Always `linechat-conformance-matrix`. */
    name: "linechat-conformance-matrix";
    /** The conformance suite's version. */
    version: string;
    /** The schema version of the per-server reports. */
    reportSchemaVersion: typeof SCHEMA_VERSION;
  };
  /** The protocol version checked. */
  protocol: "linechat/1";
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** Wall time of the whole run, in ms. */
  durationMs: number;
  /** The suite options every server ran with. */
  settings: MatrixSettings;
  /** Servers run at the same time. */
  concurrency: number;
  /** Columns, in order. */
  servers: MatrixServerEntry[];
  /** Rows, in suite order (grouped by area). */
  cases: MatrixCase[];
}

/**
 * The file name of a server's full report, beside `matrix.json`.
 *
 * @example
 * ```ts
 * import { reportFileName } from "./json.ts";
 * console.log(reportFileName("book")); // "reports/book.json"
 * ```
 */
export function reportFileName(serverId: string): string {
  return `reports/${serverId}.json`;
}

/**
 * Builds `matrix.json`'s document from a run. Rows are the cases the
 * settings select, in suite order, plus any other case a report holds.
 *
 * @example
 * ```ts
 * import { buildMatrix } from "./json.ts";
 *
 * const doc = buildMatrix({
 *   startedAt: new Date(0).toISOString(),
 *   durationMs: 0,
 *   settings: { only: ["relay.no-echo"], skip: [], clients: 500, retries: 1, timeoutScale: 1, verbose: false },
 *   concurrency: 1,
 *   runs: [],
 * });
 * console.log(doc.cases.map((c) => c.id)); // [ "relay.no-echo" ]
 * ```
 *
 * @param run A finished matrix run.
 * @returns The document, ready for `JSON.stringify`.
 */
export function buildMatrix(run: MatrixRun): MatrixDocument {
  const rows = new Map<string, MatrixCase>();
  for (const definition of selectCases(run.settings)) {
    rows.set(definition.id, {
      id: definition.id,
      area: definition.id.split(".")[0],
      clause: definition.clause,
      level: definition.level,
      requirement: definition.requirement,
      verdicts: {},
    });
  }
  for (const { report } of run.runs) {
    for (const result of report?.cases ?? []) {
      if (!rows.has(result.id)) {
        rows.set(result.id, {
          id: result.id,
          area: result.area,
          clause: result.clause,
          level: result.level,
          requirement: result.requirement,
          verdicts: {},
        });
      }
    }
  }
  const servers = run.runs.map(({ server, report, error, durationMs }) => {
    const entry: MatrixServerEntry = {
      id: server.id,
      name: server.name,
      description: server.description,
      kind: server.kind,
      spawn: server.command,
      maxClients: server.maxClients ?? null,
      status: report !== null
        ? "ran"
        : server.unavailable !== undefined
        ? "not-run"
        : "error",
      durationMs,
      summary: report?.summary ?? null,
      restarts: report?.spawn?.restarts ?? 0,
      crashes: (report?.spawn?.crashes ?? []).map((crash) => ({
        caseId: crash.caseId,
        code: crash.code,
        signal: crash.signal,
      })),
      outputTerminator: report?.server.outputTerminator ?? null,
      report: report !== null ? reportFileName(server.id) : null,
    };
    if (error !== undefined) entry.error = error;
    return entry;
  });
  for (const { server, report, error } of run.runs) {
    const results = new Map<string, CaseResult>(
      (report?.cases ?? []).map((result) => [result.id, result]),
    );
    const crashed = new Set(
      (report?.spawn?.crashes ?? []).map((crash) => crash.caseId),
    );
    for (const row of rows.values()) {
      const result = results.get(row.id);
      row.verdicts[server.id] = result
        ? {
          verdict: result.verdict,
          message: result.message,
          attempts: result.attempts,
          crashed: crashed.has(row.id),
          measurements: result.measurements,
        }
        : {
          verdict: "not-run",
          message: error ?? "the report has no result for this case",
          attempts: 0,
          crashed: false,
          measurements: {},
        };
    }
  }
  return {
    schemaVersion: MATRIX_SCHEMA_VERSION,
    tool: {
      name: "linechat-conformance-matrix",
      version: CONFORMANCE_VERSION,
      reportSchemaVersion: SCHEMA_VERSION,
    },
    protocol: "linechat/1",
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    settings: run.settings,
    concurrency: run.concurrency,
    servers,
    cases: [...rows.values()],
  };
}
