/**
 * `deno task matrix`: runs the conformance suite against our server (both
 * transports), each Nim reference server and `ncat --broker`, each started
 * afresh through the suite's `--spawn`, and writes `matrix.md`,
 * `matrix.json`, `matrix.html` and every server's full report. With
 * `--update-expectations` it rewrites `conformance/matrix/expectations.json`
 * from the run.
 *
 * @module
 */

import {
  parseFlags,
  parseInteger,
  parseNumber,
  runMain,
  UsageError,
} from "../../lib/args.ts";
import { REPO_ROOT, selectServers } from "../../targets/servers.ts";
import { splitPatterns } from "../glob.ts";
import type { ReportSummary, Verdict } from "../types.ts";
import { formatDuration } from "./_cells.ts";
import { recheckMismatches } from "./check.ts";
import { MATRIX_SERVER_IDS, matrixServers } from "./columns.ts";
import {
  compareExpectations,
  describeExpectationMismatch,
  type Expectations,
  EXPECTATIONS_PATH,
  formatExpectations,
  loadExpectations,
  orderExpectations,
  updateExpectations,
} from "./expectations.ts";
import { renderMatrixHtml } from "./html.ts";
import { buildMatrix, type MatrixDocument, reportFileName } from "./json.ts";
import { renderMatrixMarkdown } from "./markdown.ts";
import { type MatrixRun, runMatrix } from "./running.ts";
import {
  DEFAULT_SETTINGS,
  type MatrixProgress,
  type MatrixSettings,
} from "./server_run.ts";

const USAGE =
  `linechat conformance matrix: the conformance suite against every server.

Usage: deno task matrix [options]

Runs the suite against ours (Deno.listen and node:net transports), the Nim
reference servers (built with reference/build.ts) and ncat --broker, each
started afresh through --spawn, and writes to the output directory:
  matrix.md        the table (cases × servers), legend and totals
  matrix.json      the same as data (schema: README.md, "The conformance matrix")
  matrix.html      a dashboard: click a cell for its evidence
  reports/ID.json  each server's full conformance report

Options:
  --out-dir DIR          where to write (default conformance/matrix/out)
  --servers ID,…         only these servers (${MATRIX_SERVER_IDS.join(", ")})
  --only GLOB,…          only these cases (ids or § clauses; repeatable)
  --skip GLOB,…          not these cases (repeatable)
  --clients N            clients in limits.many-clients (default ${DEFAULT_SETTINGS.clients})
  --retries N            reruns of a failing case (default ${DEFAULT_SETTINGS.retries})
  --timeout-scale X      multiply every timeout of the suite (default 1)
  --concurrency N        servers run at the same time (default 2)
  --verbose              keep the wire trace of passing cases too
  --check                exit 1 when the run differs from the expectations
  --update-expectations  rewrite conformance/matrix/expectations.json from the
                         run (at the settings recorded there) and say what changed
  --repeat N             with --update-expectations: run N times and accept
                         every verdict seen (for timing-dependent cases)
  -h, --help             this text

Exit code: 0, or 1 with --check when the run differs from the expectations;
2 for a bad command line.`;

const ABOUT =
  "Expected conformance verdicts per server (column id) and case, checked by " +
  "expectations_test.ts at these settings. A verdict, or " +
  '{ "any": [verdicts], "why": "…" } where the outcome depends on timing. ' +
  "Rewrite with: deno task matrix --update-expectations [--repeat N].";

/** The order the end-of-server line counts verdicts in. */
const SUMMARY_ORDER: readonly Verdict[] = [
  "pass",
  "fail",
  "non-strict",
  "flaky",
  "skipped",
  "info",
];

if (import.meta.main) {
  await runMain("linechat-matrix", () => main(Deno.args));
}

async function main(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    options: {
      "out-dir": { type: "string" },
      servers: { type: "string", multiple: true },
      only: { type: "string", multiple: true },
      skip: { type: "string", multiple: true },
      clients: { type: "string" },
      retries: { type: "string" },
      "timeout-scale": { type: "string" },
      concurrency: { type: "string" },
      verbose: { type: "boolean" },
      check: { type: "boolean" },
      "update-expectations": { type: "boolean" },
      repeat: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const update = values["update-expectations"] ?? false;
  const repeat = values.repeat === undefined
    ? 1
    : parseInteger("--repeat", values.repeat, { min: 1, max: 20 });
  if (repeat > 1 && !update) {
    throw new UsageError("--repeat goes with --update-expectations");
  }
  const expectations = await loadExpectations().catch((error) => {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  });
  const recorded = expectations?.settings;
  const settings: MatrixSettings = {
    only: splitPatterns(values.only ?? []),
    skip: splitPatterns(values.skip ?? []),
    clients: values.clients === undefined
      ? (update && recorded ? recorded.clients : DEFAULT_SETTINGS.clients)
      : parseInteger("--clients", values.clients, { min: 3, max: 100_000 }),
    retries: values.retries === undefined
      ? (update && recorded ? recorded.retries : DEFAULT_SETTINGS.retries)
      : parseInteger("--retries", values.retries, { max: 5 }),
    timeoutScale: values["timeout-scale"] === undefined
      ? (update && recorded
        ? recorded.timeoutScale
        : DEFAULT_SETTINGS.timeoutScale)
      : parseNumber("--timeout-scale", values["timeout-scale"], {
        min: 0.1,
        max: 100,
      }),
    verbose: values.verbose ?? false,
  };
  const concurrency = values.concurrency === undefined
    ? (update && recorded ? recorded.concurrency : 2)
    : parseInteger("--concurrency", values.concurrency, { min: 1, max: 16 });
  if (update && recorded) {
    const differs = (["clients", "retries", "timeoutScale"] as const)
      .filter((key) => settings[key] !== recorded[key]);
    if (differs.length > 0 || concurrency !== recorded.concurrency) {
      throw new UsageError(
        `--update-expectations records verdicts at the settings in ` +
          `expectations.json (${describeSettings(recorded)}); leave out ` +
          `--clients, --retries, --timeout-scale and --concurrency, or edit ` +
          `its "settings" first`,
      );
    }
  }
  const outDir = values["out-dir"] ?? `${REPO_ROOT}/conformance/matrix/out`;

  const wanted = splitPatterns(values.servers ?? []);
  const unknown = wanted.filter((id) =>
    !(MATRIX_SERVER_IDS as readonly string[]).includes(id)
  );
  if (unknown.length > 0) {
    throw new UsageError(
      `--servers: unknown ${unknown.join(", ")} (known: ${
        MATRIX_SERVER_IDS.join(", ")
      })`,
    );
  }
  const servers = selectServers(await matrixServers(), wanted);
  for (const server of servers) {
    if (server.unavailable) {
      console.error(`${server.id}: not run: ${server.unavailable}`);
    }
  }
  const docs: MatrixDocument[] = [];
  let last: MatrixRun | undefined;
  for (let round = 1; round <= repeat; round++) {
    if (repeat > 1) console.error(`round ${round} of ${repeat}`);
    last = await runMatrix(servers, {
      settings,
      concurrency,
      onProgress: showProgress,
    });
    docs.push(buildMatrix(last));
  }
  const doc = docs[docs.length - 1];
  await writeOutputs(outDir, doc, last!);
  console.error(
    `matrix: ${servers.length} servers × ${doc.cases.length} cases in ${
      formatDuration(doc.durationMs)
    }; wrote ${outDir}/matrix.{md,json,html}`,
  );

  if (update) {
    const base: Expectations = expectations ?? {
      schemaVersion: 1,
      about: ABOUT,
      settings: {
        clients: settings.clients,
        retries: settings.retries,
        timeoutScale: settings.timeoutScale,
        concurrency,
      },
      servers: {},
    };
    const { expectations: next, changes } = updateExpectations(base, docs);
    const ordered = orderExpectations(
      next,
      MATRIX_SERVER_IDS,
      doc.cases.map((row) => row.id),
    );
    await Deno.writeTextFile(EXPECTATIONS_PATH, formatExpectations(ordered));
    console.error(
      changes.length === 0
        ? `expectations: unchanged (${EXPECTATIONS_PATH})`
        : `expectations: ${changes.length} changed (${EXPECTATIONS_PATH}):\n` +
          changes.map((line) => `  ${line}`).join("\n"),
    );
    return;
  }
  if (expectations === null) {
    console.error("no expectations.json to compare with");
    if (values.check) Deno.exit(1);
    return;
  }
  if (
    settings.clients !== recorded!.clients ||
    settings.retries !== recorded!.retries ||
    settings.timeoutScale !== recorded!.timeoutScale
  ) {
    console.error(
      `expectations are recorded at ${
        describeSettings(recorded!)
      }; this run used --clients ${settings.clients}, so it is not compared ` +
        `with them (run with those settings, or --update-expectations)`,
    );
    if (values.check) Deno.exit(1);
    return;
  }
  if (compareExpectations(expectations, doc).length > 0) {
    console.error("expectations: rerunning the cases that differ…");
  }
  const { mismatches, recovered } = await recheckMismatches(
    servers,
    expectations,
    doc,
  );
  for (const m of recovered) {
    console.error(
      `expectations: timing: ${
        describeExpectationMismatch(m)
      }; a rerun gave ${m.rerun}`,
    );
  }
  if (mismatches.length === 0) {
    console.error("expectations: every verdict as expected");
    return;
  }
  console.error(
    `expectations: ${mismatches.length} difference(s), each repeated by two reruns:\n` +
      mismatches.map((m) => `  ${describeExpectationMismatch(m)}`).join("\n"),
  );
  if (values.check) Deno.exit(1);
}

function describeSettings(
  settings: { clients: number; retries: number; timeoutScale: number } & {
    concurrency?: number;
  },
): string {
  return `--clients ${settings.clients}, --retries ${settings.retries}, ` +
    `--timeout-scale ${settings.timeoutScale}` +
    (settings.concurrency !== undefined
      ? `, --concurrency ${settings.concurrency}`
      : "");
}

async function writeOutputs(
  outDir: string,
  doc: MatrixDocument,
  run: MatrixRun,
): Promise<void> {
  await Deno.mkdir(`${outDir}/reports`, { recursive: true });
  const reports: Record<string, MatrixRun["runs"][number]["report"]> = {};
  for (const { server, report } of run.runs) {
    reports[server.id] = report;
    if (report !== null) {
      await Deno.writeTextFile(
        `${outDir}/${reportFileName(server.id)}`,
        JSON.stringify(report, null, 2) + "\n",
      );
    }
  }
  await Deno.writeTextFile(
    `${outDir}/matrix.json`,
    JSON.stringify(doc, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${outDir}/matrix.md`, renderMatrixMarkdown(doc));
  await Deno.writeTextFile(
    `${outDir}/matrix.html`,
    renderMatrixHtml(doc, reports),
  );
}

function showProgress(event: MatrixProgress): void {
  switch (event.type) {
    case "server-start":
      console.error(`${event.server}: ${event.cases} cases`);
      break;
    case "case-end": {
      const n = `${event.index + 1}/${event.total}`;
      const tail = event.verdict === "pass" ? "" : `: ${event.message}`;
      console.error(
        `${event.server} ${n} ${event.id} ${event.verdict} (${
          formatDuration(event.durationMs)
        })${tail.slice(0, 160)}`,
      );
      break;
    }
    case "note":
      break;
    case "server-end":
      console.error(
        event.report
          ? `${event.server}: done in ${formatDuration(event.durationMs)}: ${
            summaryLine(event.report.summary)
          }`
          : `${event.server}: no report: ${event.error}`,
      );
  }
}

function summaryLine(summary: ReportSummary): string {
  return SUMMARY_ORDER
    .filter((key) => summary[key] > 0)
    .map((key) => `${summary[key]} ${key}`)
    .join(", ");
}
