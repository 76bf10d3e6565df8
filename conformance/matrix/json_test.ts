import { deepStrictEqual, equal } from "node:assert/strict";
import {
  fakeServer,
  matrixReport,
  matrixResult,
  matrixRun,
} from "./_fixtures.ts";
import { buildMatrix, MATRIX_SCHEMA_VERSION } from "./json.ts";

Deno.test("buildMatrix: one row per selected case in suite order, one cell per server", () => {
  const doc = buildMatrix(matrixRun([
    [
      fakeServer("a"),
      matrixReport([
        matrixResult("relay.basic", "pass"),
        matrixResult("relay.no-echo", "fail"),
        matrixResult("framing.lf", "pass"),
      ]),
    ],
    [fakeServer("b"), matrixReport([matrixResult("relay.basic", "pass")])],
  ]));
  equal(doc.schemaVersion, MATRIX_SCHEMA_VERSION);
  deepStrictEqual(doc.cases.map((row) => row.id), [
    "relay.basic",
    "relay.no-echo",
    "framing.lf",
  ]);
  deepStrictEqual(doc.cases.map((row) => row.area), [
    "relay",
    "relay",
    "framing",
  ]);
  deepStrictEqual(
    doc.cases.map((row) => [row.verdicts.a.verdict, row.verdicts.b.verdict]),
    [["pass", "pass"], ["fail", "not-run"], ["pass", "not-run"]],
  );
  equal(doc.cases[1].verdicts.a.message, "relay.no-echo went fail");
  equal(doc.cases[1].verdicts.a.attempts, 2);
  deepStrictEqual(doc.servers.map((s) => [s.id, s.status, s.report]), [
    ["a", "ran", "reports/a.json"],
    ["b", "ran", "reports/b.json"],
  ]);
  equal(doc.servers[0].summary?.fail, 1);
});

Deno.test("buildMatrix: crashes mark their cells; unavailable and broken servers say why", () => {
  const doc = buildMatrix(matrixRun([
    [
      fakeServer("a"),
      matrixReport([
        matrixResult("relay.basic", "fail"),
        matrixResult("relay.no-echo", "pass"),
      ], [
        "relay.basic",
      ]),
    ],
    [
      fakeServer("b", { unavailable: "b is not installed" }),
      null,
      "b is not installed",
    ],
    [fakeServer("c"), null, "server exited before accepting"],
  ], ["relay.basic", "relay.no-echo"]));
  deepStrictEqual(doc.cases.map((row) => row.verdicts.a.crashed), [
    true,
    false,
  ]);
  deepStrictEqual(doc.servers[0].crashes, [
    { caseId: "relay.basic", code: 1, signal: null },
  ]);
  deepStrictEqual(doc.servers.map((s) => [s.status, s.error]), [
    ["ran", undefined],
    ["not-run", "b is not installed"],
    ["error", "server exited before accepting"],
  ]);
  deepStrictEqual(doc.cases[0].verdicts.c, {
    verdict: "not-run",
    message: "server exited before accepting",
    attempts: 0,
    crashed: false,
    measurements: {},
  });
});

Deno.test("buildMatrix: a case a report has beyond the selection gets a row too", () => {
  const doc = buildMatrix(matrixRun([
    [
      fakeServer("a"),
      matrixReport([
        matrixResult("relay.basic", "pass"),
        matrixResult("x.new", "info"),
      ]),
    ],
  ], ["relay.basic"]));
  deepStrictEqual(doc.cases.map((row) => [row.id, row.level]), [
    ["relay.basic", "MUST"],
    ["x.new", "INFO"],
  ]);
});

Deno.test("buildMatrix: the document survives JSON", () => {
  const doc = buildMatrix(matrixRun([
    [fakeServer("a"), matrixReport([matrixResult("relay.basic", "pass")])],
  ]));
  deepStrictEqual(JSON.parse(JSON.stringify(doc)), doc);
});
