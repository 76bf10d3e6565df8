/**
 * The conformance matrix: the suite against several servers side by side
 * (`deno task matrix`), its outputs (`matrix.json`, Markdown, HTML) and the
 * committed expectations it is checked against.
 *
 * @example List the servers, run two cases against ours, render the table
 * ```ts ignore
 * import { buildMatrix, matrixServers, renderMarkdown, runMatrix, selectServers } from "./mod.ts";
 *
 * const servers = selectServers(await matrixServers(), ["ours", "book"]);
 * const run = await runMatrix(servers, { settings: { only: ["relay.basic", "relay.no-echo"] } });
 * console.log(renderMarkdown(buildMatrix(run)));
 * ```
 *
 * @module
 */

export {
  checkExpectations,
  type CheckOptions,
  type CheckResult,
  recheckMismatches,
} from "./check.ts";
export {
  acceptable,
  compareExpectations,
  describeMismatch,
  type Expectation,
  type ExpectationMismatch,
  type Expectations,
  EXPECTATIONS_PATH,
  EXPECTATIONS_SCHEMA_VERSION,
  type ExpectationSettings,
  type ExpectationUpdate,
  formatExpectations,
  loadExpectations,
  orderExpectations,
  parseExpectations,
  updateExpectations,
} from "./expectations.ts";
export {
  escapeHtml,
  evidenceId,
  type HtmlOptions,
  renderHtml,
} from "./html.ts";
export {
  buildMatrix,
  MATRIX_SCHEMA_VERSION,
  type MatrixCase,
  type MatrixCell,
  type MatrixDocument,
  type MatrixServerEntry,
  type MatrixVerdict,
  reportFileName,
} from "./json.ts";
export { type MarkdownOptions, renderMarkdown } from "./markdown.ts";
export {
  DEFAULT_SETTINGS,
  type MatrixProgress,
  type MatrixRun,
  type MatrixSettings,
  resolveSettings,
  runMatrix,
  type RunMatrixOptions,
  runServer,
  type RunServerOptions,
  type ServerRun,
} from "./running.ts";
export {
  type MatrixServer,
  matrixServers,
  type MatrixServersOptions,
  OURS_MAX_CLIENTS,
  REPO_ROOT,
  selectServers,
  SERVER_IDS,
} from "./servers.ts";
