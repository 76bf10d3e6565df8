/**
 * The committed expectations (`conformance/matrix/expectations.json`): for
 * each server and case, the verdict the suite is expected to give, or a set
 * of acceptable verdicts with the reason when the outcome depends on
 * timing. Comparing a run with them catches a harness change that stops
 * catching a known bug, or starts flagging a correct behaviour.
 *
 * @module
 */

import { isVerdict, type Verdict } from "../types.ts";
import type { MatrixDocument, MatrixVerdict } from "./json.ts";

/**
 * `expectations.json`'s schema version.
 *
 * @example
 * ```ts
 * import { EXPECTATIONS_SCHEMA_VERSION } from "./expectations.ts";
 * console.log(EXPECTATIONS_SCHEMA_VERSION); // 1
 * ```
 */
export const EXPECTATIONS_SCHEMA_VERSION = 1;

/**
 * Where the committed expectations live.
 *
 * @example
 * ```ts
 * import { EXPECTATIONS_PATH } from "./expectations.ts";
 * console.log(EXPECTATIONS_PATH.endsWith("conformance/matrix/expectations.json")); // true
 * ```
 */
export const EXPECTATIONS_PATH: string = decodeURIComponent(
  new URL("./expectations.json", import.meta.url).pathname,
);

/**
 * One expectation: a verdict, or acceptable verdicts with the reason the
 * outcome varies (`why`).
 *
 * @example
 * ```ts
 * import type { Expectation } from "./expectations.ts";
 * const exact: Expectation = "fail";
 * const timing: Expectation = { any: ["fail", "flaky"], why: "crashes only when a connect lands mid-relay" };
 * console.log(exact, timing.any);
 * ```
 */
export type Expectation = Verdict | { any: Verdict[]; why?: string };

/**
 * The suite options expectations are recorded at; the expectations test
 * runs with exactly these.
 *
 * @example
 * ```ts
 * import type { ExpectationSettings } from "./expectations.ts";
 * const settings: ExpectationSettings = { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 };
 * console.log(settings.clients);
 * ```
 */
export interface ExpectationSettings {
  /** `--clients` for `limits.many-clients`. */
  clients: number;
  /** Retries of a failing case. */
  retries: number;
  /** The suite's timeout scale. */
  timeoutScale: number;
  /** Servers run at the same time. */
  concurrency: number;
}

/**
 * `expectations.json`.
 *
 * @example
 * ```ts
 * import type { Expectations } from "./expectations.ts";
 * const e: Expectations = {
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { "relay.basic": "pass" } },
 * };
 * console.log(Object.keys(e.servers));
 * ```
 */
export interface Expectations {
  /** {@linkcode EXPECTATIONS_SCHEMA_VERSION}. */
  schemaVersion: typeof EXPECTATIONS_SCHEMA_VERSION;
  /** What the file is, for whoever opens it. */
  about?: string;
  /** The suite options the expectations hold at. */
  settings: ExpectationSettings;
  /** Server id → case id → expectation. */
  servers: Record<string, Record<string, Expectation>>;
}

/**
 * The verdicts an expectation accepts.
 *
 * @example
 * ```ts
 * import { acceptable } from "./expectations.ts";
 * console.log(acceptable("pass"), acceptable({ any: ["fail", "flaky"] })); // [ "pass" ] [ "fail", "flaky" ]
 * ```
 */
export function acceptable(expectation: Expectation): Verdict[] {
  return typeof expectation === "string" ? [expectation] : expectation.any;
}

/**
 * Reads and checks an expectations file.
 *
 * @example
 * ```ts
 * import { EXPECTATIONS_PATH, loadExpectations } from "./expectations.ts";
 * const expectations = await loadExpectations(EXPECTATIONS_PATH);
 * console.log(expectations.settings.clients > 0); // true
 * ```
 *
 * @param path The file.
 * @returns The expectations.
 * @throws {Error} When the file is not a valid expectations file.
 */
export async function loadExpectations(
  path: string = EXPECTATIONS_PATH,
): Promise<Expectations> {
  return parseExpectations(await Deno.readTextFile(path), path);
}

/**
 * Parses and checks expectations from JSON text.
 *
 * @example
 * ```ts
 * import { parseExpectations } from "./expectations.ts";
 * const e = parseExpectations(JSON.stringify({
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { "relay.basic": "pass" } },
 * }));
 * console.log(e.servers.ours["relay.basic"]); // "pass"
 * ```
 *
 * @param text The JSON text.
 * @param source Named in error messages.
 * @returns The expectations.
 * @throws {Error} When the text is not a valid expectations file.
 */
export function parseExpectations(
  text: string,
  source = "expectations",
): Expectations {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  const data = JSON.parse(text);
  if (data?.schemaVersion !== EXPECTATIONS_SCHEMA_VERSION) {
    fail(`schemaVersion must be ${EXPECTATIONS_SCHEMA_VERSION}`);
  }
  for (const key of ["clients", "retries", "timeoutScale", "concurrency"]) {
    if (typeof data.settings?.[key] !== "number") {
      fail(`settings.${key} must be a number`);
    }
  }
  if (typeof data.servers !== "object" || data.servers === null) {
    fail("servers must be an object");
  }
  for (const [server, cases] of Object.entries(data.servers)) {
    for (const [id, expectation] of Object.entries(cases as object)) {
      const verdicts = typeof expectation === "string"
        ? [expectation]
        : expectation?.any;
      if (
        !Array.isArray(verdicts) || verdicts.length === 0 ||
        !verdicts.every(isVerdict)
      ) {
        fail(
          `${server} / ${id}: expected a verdict or { "any": [verdicts], "why": "…" }, got ${
            JSON.stringify(expectation)
          }`,
        );
      }
    }
  }
  return data as Expectations;
}

/**
 * One way a run differs from the expectations.
 *
 * - `mismatch`: the verdict is not an acceptable one.
 * - `unexpected`: the run has a case the expectations do not mention.
 * - `missing`: the expectations mention a case the run did not have.
 * - `server-error`: the server's run produced no report.
 *
 * @example
 * ```ts
 * import type { ExpectationMismatch } from "./expectations.ts";
 * const m: ExpectationMismatch = { kind: "mismatch", server: "book", caseId: "relay.no-echo", expected: ["pass"], actual: "fail", message: "…" };
 * console.log(m.kind);
 * ```
 */
export interface ExpectationMismatch {
  /** How the run differs (see above). */
  kind: "mismatch" | "unexpected" | "missing" | "server-error";
  /** The server's id. */
  server: string;
  /** The case, unless the whole server's run broke. */
  caseId?: string;
  /** The acceptable verdicts. */
  expected?: Verdict[];
  /** What the run gave. */
  actual?: MatrixVerdict;
  /** The cell's message, or the server's error. */
  message: string;
}

/**
 * Compares a run with the expectations, for the servers that ran (or tried
 * to: a server whose run broke off is a `server-error`). Cases the
 * expectations list but the run lacks count only when the run selected
 * every case.
 *
 * @example
 * ```ts
 * import { compareExpectations } from "./expectations.ts";
 * import type { MatrixDocument } from "./json.ts";
 *
 * const doc = {
 *   settings: { only: [], skip: [] },
 *   servers: [{ id: "ours", status: "ran" }],
 *   cases: [{ id: "relay.basic", verdicts: { ours: { verdict: "fail", message: "B got nothing" } } }],
 * } as unknown as MatrixDocument;
 * const mismatches = compareExpectations({
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { "relay.basic": "pass" } },
 * }, doc);
 * console.log(mismatches[0].kind, mismatches[0].actual); // "mismatch" "fail"
 * ```
 *
 * @param expectations The committed expectations.
 * @param doc The run.
 * @returns Every difference, in server then case order.
 */
export function compareExpectations(
  expectations: Expectations,
  doc: MatrixDocument,
): ExpectationMismatch[] {
  const mismatches: ExpectationMismatch[] = [];
  const fullRun = doc.settings.only.length === 0 &&
    doc.settings.skip.length === 0;
  for (const server of doc.servers) {
    if (server.status === "not-run") continue;
    if (server.status === "error") {
      mismatches.push({
        kind: "server-error",
        server: server.id,
        message: server.error ?? "no report",
      });
      continue;
    }
    const expected = expectations.servers[server.id] ?? {};
    for (const row of doc.cases) {
      const cell = row.verdicts[server.id];
      const expectation = expected[row.id];
      if (expectation === undefined) {
        mismatches.push({
          kind: "unexpected",
          server: server.id,
          caseId: row.id,
          actual: cell.verdict,
          message: cell.message,
        });
        continue;
      }
      const verdicts = acceptable(expectation);
      if (!(verdicts as MatrixVerdict[]).includes(cell.verdict)) {
        mismatches.push({
          kind: "mismatch",
          server: server.id,
          caseId: row.id,
          expected: verdicts,
          actual: cell.verdict,
          message: cell.message,
        });
      }
    }
    if (!fullRun) continue;
    const ran = new Set(doc.cases.map((row) => row.id));
    for (const id of Object.keys(expected)) {
      if (!ran.has(id)) {
        mismatches.push({
          kind: "missing",
          server: server.id,
          caseId: id,
          expected: acceptable(expected[id]),
          message: "the suite no longer has this case",
        });
      }
    }
  }
  return mismatches;
}

/**
 * Describes a mismatch in one line.
 *
 * @example
 * ```ts
 * import { describeExpectationMismatch } from "./expectations.ts";
 * console.log(describeExpectationMismatch({ kind: "mismatch", server: "book", caseId: "relay.no-echo", expected: ["pass"], actual: "fail", message: "A received its own line back" }));
 * // book / relay.no-echo: expected pass, got fail (A received its own line back)
 * ```
 */
export function describeExpectationMismatch(
  mismatch: ExpectationMismatch,
): string {
  const where = mismatch.caseId
    ? `${mismatch.server} / ${mismatch.caseId}`
    : mismatch.server;
  switch (mismatch.kind) {
    case "mismatch":
      return `${where}: expected ${
        mismatch.expected!.join(" or ")
      }, got ${mismatch.actual} (${mismatch.message})`;
    case "unexpected":
      return `${where}: no expectation recorded; got ${mismatch.actual} (${mismatch.message})`;
    case "missing":
      return `${where}: expected ${
        mismatch.expected!.join(" or ")
      }, but the run had no such case (${mismatch.message})`;
    case "server-error":
      return `${where}: the run produced no report (${mismatch.message})`;
  }
}

/**
 * The result of {@linkcode updateExpectations}.
 *
 * @example
 * ```ts
 * import type { ExpectationUpdate } from "./expectations.ts";
 * const update: Partial<ExpectationUpdate> = { changes: ["book / relay.no-echo: pass → fail"] };
 * console.log(update.changes?.length);
 * ```
 */
export interface ExpectationUpdate {
  /** The new expectations. */
  expectations: Expectations;
  /** One line per change, `server / case: old → new`. */
  changes: string[];
}

/**
 * Rewrites the expectations from one or more runs at the expectations'
 * settings. For each cell that ran, the verdicts seen across the runs
 * replace the old expectation unless it already accepts all of them (so a
 * hand-written set of acceptable verdicts survives a run that happens to
 * show only one of them); a set with a `why` is widened instead, keeping
 * the reason. Cases no run selected are kept;
 * after a run of every case, cases the suite no longer has are dropped.
 *
 * @example
 * ```ts
 * import { updateExpectations } from "./expectations.ts";
 * import type { MatrixDocument } from "./json.ts";
 *
 * const doc = {
 *   settings: { only: [], skip: [] },
 *   servers: [{ id: "ours", status: "ran" }],
 *   cases: [{ id: "relay.basic", verdicts: { ours: { verdict: "pass" } } }],
 * } as unknown as MatrixDocument;
 * const { expectations, changes } = updateExpectations({
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { "relay.basic": "fail", "relay.gone": "pass" } },
 * }, [doc]);
 * console.log(expectations.servers.ours, changes);
 * // { "relay.basic": "pass" } [ "ours / relay.basic: fail → pass", "ours / relay.gone: pass → (removed: no longer in the suite)" ]
 * ```
 *
 * @param old The current expectations.
 * @param docs Runs at the expectations' settings.
 * @returns The new expectations and what changed.
 */
export function updateExpectations(
  old: Expectations,
  docs: readonly MatrixDocument[],
): ExpectationUpdate {
  const changes: string[] = [];
  const servers: Expectations["servers"] = {};
  for (const [id, cases] of Object.entries(old.servers)) {
    servers[id] = { ...cases };
  }
  // Server id → case id → verdicts seen, in the order cases came.
  const seen = new Map<string, Map<string, Set<Verdict>>>();
  const fullRunServers = new Set<string>();
  for (const doc of docs) {
    const fullRun = doc.settings.only.length === 0 &&
      doc.settings.skip.length === 0;
    for (const server of doc.servers) {
      if (server.status !== "ran") continue;
      if (fullRun) fullRunServers.add(server.id);
      const cells = seen.get(server.id) ?? new Map<string, Set<Verdict>>();
      seen.set(server.id, cells);
      for (const row of doc.cases) {
        const verdict = row.verdicts[server.id].verdict;
        if (verdict === "not-run") continue;
        const set = cells.get(row.id) ?? new Set<Verdict>();
        set.add(verdict);
        cells.set(row.id, set);
      }
    }
  }
  for (const [serverId, cells] of seen) {
    const before = servers[serverId] ?? {};
    const after: Record<string, Expectation> = {};
    for (const [caseId, verdicts] of cells) {
      const observed = [...verdicts].sort();
      const previous = before[caseId];
      if (
        previous !== undefined &&
        observed.every((v) => acceptable(previous).includes(v))
      ) {
        after[caseId] = previous;
        continue;
      }
      // A hand-written set says the outcome varies: widen it, keep why.
      const next: Expectation =
        typeof previous === "object" && previous.why !== undefined
          ? {
            any: [...new Set([...previous.any, ...observed])].sort(),
            why: previous.why,
          }
          : observed.length === 1
          ? observed[0]
          : { any: observed };
      after[caseId] = next;
      changes.push(
        `${serverId} / ${caseId}: ${
          previous === undefined ? "(new)" : show(previous)
        } → ${show(next)}`,
      );
    }
    for (const [caseId, previous] of Object.entries(before)) {
      if (caseId in after) continue;
      if (fullRunServers.has(serverId)) {
        changes.push(
          `${serverId} / ${caseId}: ${
            show(previous)
          } → (removed: no longer in the suite)`,
        );
      } else {
        after[caseId] = previous;
      }
    }
    servers[serverId] = after;
  }
  return { expectations: { ...old, servers }, changes };
}

function show(expectation: Expectation): string {
  return acceptable(expectation).join(" or ");
}

/**
 * Serialises expectations as `expectations.json` holds them, as `deno fmt`
 * leaves them: one line per case where it fits in 80 columns, servers and
 * cases in the order given.
 *
 * @example
 * ```ts
 * import { formatExpectations } from "./expectations.ts";
 * const text = formatExpectations({
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { "relay.basic": "pass" } },
 * });
 * console.log(text.includes('"relay.basic": "pass"')); // true
 * ```
 */
export function formatExpectations(expectations: Expectations): string {
  return layout(expectations, "", "", "", true) + "\n";
}

const LINE_WIDTH = 80;

/**
 * JSON for `value` after `prefix` (indent and key) and before `suffix` (a
 * comma): on one line when it fits (and `expand` is false), else one
 * property or item per line.
 */
function layout(
  value: unknown,
  indent: string,
  prefix: string,
  suffix: string,
  expand = false,
): string {
  const flat = inline(value);
  const isObject = value !== null && typeof value === "object";
  if (
    !isObject ||
    (!expand && indent.length + prefix.length + flat.length + suffix.length <=
        LINE_WIDTH)
  ) {
    return `${indent}${prefix}${flat}${suffix}`;
  }
  const inner = indent + "  ";
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((item) => ["", item])
    : Object.entries(value).filter(([, v]) => v !== undefined)
      .map(([k, v]) => [`${JSON.stringify(k)}: `, v]);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return `${indent}${prefix}${open}${close}${suffix}`;
  const lines = entries.map(([key, v], n) =>
    layout(v, inner, key, n < entries.length - 1 ? "," : "")
  );
  return `${indent}${prefix}${open}\n${
    lines.join("\n")
  }\n${indent}${close}${suffix}`;
}

/** JSON on one line with a space after `:` and `,`, as deno fmt keeps it. */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  return JSON.stringify(value);
}

/**
 * Orders expectations' servers and cases like a run's columns and rows
 * (anything the run lacks goes last, in its old order).
 *
 * @example
 * ```ts
 * import { orderExpectations } from "./expectations.ts";
 * const e = orderExpectations({
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 1, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { b: "pass", a: "pass" } },
 * }, ["ours"], ["a", "b"]);
 * console.log(Object.keys(e.servers.ours)); // [ "a", "b" ]
 * ```
 */
export function orderExpectations(
  expectations: Expectations,
  serverIds: readonly string[],
  caseIds: readonly string[],
): Expectations {
  const rank = (order: readonly string[], key: string) => {
    const i = order.indexOf(key);
    return i < 0 ? order.length : i;
  };
  const servers: Expectations["servers"] = {};
  const serverKeys = Object.keys(expectations.servers)
    .map((key, i) => ({ key, i }))
    .sort((a, b) =>
      rank(serverIds, a.key) - rank(serverIds, b.key) || a.i - b.i
    );
  for (const { key } of serverKeys) {
    const cases = expectations.servers[key];
    const caseKeys = Object.keys(cases)
      .map((id, i) => ({ id, i }))
      .sort((a, b) => rank(caseIds, a.id) - rank(caseIds, b.id) || a.i - b.i);
    servers[key] = Object.fromEntries(
      caseKeys.map(({ id }) => [id, cases[id]]),
    );
  }
  return { ...expectations, servers };
}
