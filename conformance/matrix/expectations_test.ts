// The committed expectations hold: every server gives, for every case, a
// verdict expectations.json accepts. A harness change that stops catching a
// known bug of a reference, or starts flagging something a server does
// right, fails here. Also: unit tests of comparing and updating.

import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { hasTool, testWithTools } from "../../_testing/tools.ts";
import { selectCases } from "../run_options.ts";
import {
  compareExpectations,
  describeExpectationMismatch,
  type Expectations,
  EXPECTATIONS_PATH,
  formatExpectations,
  loadExpectations,
  parseExpectations,
  updateExpectations,
} from "./expectations.ts";
import { checkExpectations, type CheckResult } from "./check.ts";
import type { MatrixDocument } from "./json.ts";
import { MATRIX_SERVER_IDS, matrixServers } from "./columns.ts";

const SETTINGS = {
  clients: 100,
  retries: 0,
  timeoutScale: 1,
  concurrency: 2,
};

function docWith(
  verdicts: Record<string, Record<string, string>>,
  options: { only?: string[]; status?: Record<string, string> } = {},
): MatrixDocument {
  const serverIds = Object.keys(verdicts);
  const caseIds = [
    ...new Set(serverIds.flatMap((s) => Object.keys(verdicts[s]))),
  ];
  return {
    settings: { only: options.only ?? [], skip: [] },
    servers: serverIds.map((id) => ({
      id,
      status: options.status?.[id] ?? "ran",
      error: options.status?.[id] ? "it broke" : undefined,
    })),
    cases: caseIds.map((id) => ({
      id,
      verdicts: Object.fromEntries(
        serverIds.map((s) => [
          s,
          { verdict: verdicts[s][id] ?? "not-run", message: `${s} ${id}` },
        ]),
      ),
    })),
  } as unknown as MatrixDocument;
}

function expectations(
  servers: Expectations["servers"],
): Expectations {
  return { schemaVersion: 1, settings: SETTINGS, servers };
}

Deno.test("compareExpectations: a verdict outside the accepted set is a mismatch", () => {
  const doc = docWith({
    book: {
      "relay.basic": "pass",
      "relay.no-delay": "pass",
      "framing.lf": "fail",
    },
  });
  const mismatches = compareExpectations(
    expectations({
      book: {
        "relay.basic": "pass",
        "relay.no-delay": { any: ["non-strict", "pass"], why: "timing" },
        "framing.lf": "pass",
      },
    }),
    doc,
  );
  deepStrictEqual(mismatches.map(describeExpectationMismatch), [
    "book / framing.lf: expected pass, got fail (book framing.lf)",
  ]);
});

Deno.test("compareExpectations: cases without an expectation, and expectations without a case, are reported", () => {
  const doc = docWith({ ours: { "relay.basic": "pass", "relay.new": "pass" } });
  const e = expectations({
    ours: { "relay.basic": "pass", "relay.gone": "pass" },
  });
  deepStrictEqual(compareExpectations(e, doc).map((m) => [m.kind, m.caseId]), [
    ["unexpected", "relay.new"],
    ["missing", "relay.gone"],
  ]);
  // A run of some cases only does not miss the others.
  const partial = docWith({ ours: { "relay.basic": "pass" } }, {
    only: ["relay.basic"],
  });
  deepStrictEqual(compareExpectations(e, partial), []);
});

Deno.test("compareExpectations: a server whose run broke is reported, an unavailable one is not", () => {
  const doc = docWith({ ours: {}, ncat: {} }, {
    status: { ours: "error", ncat: "not-run" },
  });
  deepStrictEqual(
    compareExpectations(expectations({}), doc).map((m) => [m.kind, m.server]),
    [["server-error", "ours"]],
  );
});

Deno.test("updateExpectations: replaces what changed, keeps sets that still hold, drops removed cases", () => {
  const old = expectations({
    book: {
      "relay.basic": "pass",
      "relay.no-delay": { any: ["non-strict", "pass"], why: "timing" },
      "framing.lf": "pass",
      "relay.gone": "fail",
    },
  });
  const runs = [
    docWith({
      book: {
        "relay.basic": "pass",
        "relay.no-delay": "pass",
        "framing.lf": "fail",
      },
    }),
    docWith({
      book: {
        "relay.basic": "fail",
        "relay.no-delay": "non-strict",
        "framing.lf": "fail",
      },
    }),
  ];
  const { expectations: next, changes } = updateExpectations(old, runs);
  deepStrictEqual(next.servers.book, {
    "relay.basic": { any: ["fail", "pass"] },
    "relay.no-delay": { any: ["non-strict", "pass"], why: "timing" },
    "framing.lf": "fail",
  });
  deepStrictEqual(changes, [
    "book / relay.basic: pass → fail or pass",
    "book / framing.lf: pass → fail",
    "book / relay.gone: fail → (removed: no longer in the suite)",
  ]);
});

Deno.test("updateExpectations: a set with a reason is widened, keeping the reason", () => {
  const old = expectations({
    book: {
      "limits.many-clients": { any: ["fail", "pass"], why: "a crash race" },
    },
  });
  const { expectations: next } = updateExpectations(old, [
    docWith({ book: { "limits.many-clients": "skipped" } }),
  ]);
  deepStrictEqual(next.servers.book["limits.many-clients"], {
    any: ["fail", "pass", "skipped"],
    why: "a crash race",
  });
});

Deno.test("updateExpectations: a partial run leaves other cases and servers alone", () => {
  const old = expectations({
    ours: { "relay.basic": "pass", "framing.lf": "pass" },
    ncat: { "relay.basic": "pass" },
  });
  const { expectations: next, changes } = updateExpectations(old, [
    docWith({ ours: { "relay.basic": "fail" } }, { only: ["relay.basic"] }),
  ]);
  deepStrictEqual(next.servers, {
    ours: { "relay.basic": "fail", "framing.lf": "pass" },
    ncat: { "relay.basic": "pass" },
  });
  deepStrictEqual(changes, ["ours / relay.basic: pass → fail"]);
});

Deno.test("parseExpectations: rejects unknown verdicts and missing settings", () => {
  const base = { schemaVersion: 1, settings: SETTINGS, servers: {} };
  throws(
    () =>
      parseExpectations(
        JSON.stringify({ ...base, servers: { ours: { "relay.basic": "ok" } } }),
      ),
    /ours \/ relay\.basic/,
  );
  throws(
    () => parseExpectations(JSON.stringify({ ...base, settings: {} })),
    /settings\.clients/,
  );
  deepStrictEqual(
    parseExpectations(formatExpectations(expectations({
      ours: { "relay.basic": { any: ["fail", "pass"], why: "x" } },
    }))).servers.ours["relay.basic"],
    { any: ["fail", "pass"], why: "x" },
  );
});

Deno.test("expectations.json is as --update-expectations writes it", async () => {
  const text = await Deno.readTextFile(EXPECTATIONS_PATH);
  deepStrictEqual(formatExpectations(parseExpectations(text)), text);
});

Deno.test("expectations.json covers every server and every case of the suite", async () => {
  const committed = await loadExpectations();
  const caseIds = selectCases().map((c) => c.id);
  deepStrictEqual(Object.keys(committed.servers), [...MATRIX_SERVER_IDS]);
  const problems: string[] = [];
  for (const [server, cases] of Object.entries(committed.servers)) {
    for (const id of caseIds) {
      if (!(id in cases)) {
        problems.push(`${server} / ${id}: no expectation (new case?)`);
      }
    }
    for (const id of Object.keys(cases)) {
      if (!caseIds.includes(id)) {
        problems.push(`${server} / ${id}: the suite has no such case`);
      }
    }
  }
  deepStrictEqual(
    problems,
    [],
    "run `deno task matrix --update-expectations` and review the diff",
  );
});

// The matrix itself: one run of every server that can run here (two at a
// time), shared by one test per server. A case that comes out unexpectedly
// is run twice more before it counts (see check.ts).
const committed = await loadExpectations();
const servers = await matrixServers({ build: hasTool("nim") });
let checked: Promise<CheckResult> | undefined;

function checkOnce(): Promise<CheckResult> {
  checked ??= (async () => {
    const t0 = performance.now();
    const result = await checkExpectations(
      servers.filter((server) => server.unavailable === undefined),
      committed,
      { serverTimeoutMs: 6 * 60_000 },
    );
    console.log(
      `matrix: ${result.doc.servers.length} servers in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
    for (const m of result.recovered) {
      console.log(
        `  timing: ${describeExpectationMismatch(m)}; a rerun gave ${m.rerun}`,
      );
    }
    return result;
  })();
  return checked;
}

for (const server of servers) {
  testWithTools(
    `matrix: ${server.name} (${server.id}) gives the committed verdicts`,
    server.tools,
    async () => {
      // Its tools are installed, so it must run.
      deepStrictEqual(server.unavailable, undefined, server.unavailable);
      const { mismatches: all } = await checkOnce();
      const mismatches = all.filter((m) => m.server === server.id);
      ok(
        mismatches.length === 0,
        `${server.id}: ${mismatches.length} verdict(s) differ from ` +
          `expectations.json, each confirmed by two reruns (a harness ` +
          `change? a server change? If intended: deno task matrix ` +
          `--update-expectations):\n` +
          mismatches.map((m) => `  ${describeExpectationMismatch(m)}`).join(
            "\n",
          ),
      );
    },
    { sanitizeOps: false, sanitizeResources: false },
  );
}
