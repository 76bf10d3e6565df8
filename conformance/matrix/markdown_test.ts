import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  fakeServer,
  matrixReport,
  matrixResult,
  matrixRun,
} from "./_fixtures.ts";
import { buildMatrix } from "./json.ts";
import { renderMatrixMarkdown } from "./markdown.ts";

const doc = buildMatrix(matrixRun([
  [
    fakeServer("a", { name: "Server | A" }),
    matrixReport([
      matrixResult("relay.basic", "pass"),
      matrixResult("relay.no-echo", "fail"),
      matrixResult("framing.lf", "info", {
        measurements: { largestLineBytes: 65536 },
      }),
    ], ["relay.no-echo"]),
  ],
  [
    fakeServer("b", { unavailable: "b is not installed" }),
    null,
    "b is not installed",
  ],
]));
const text = renderMatrixMarkdown(doc, { heading: "### Matrix" });
const lines = text.split("\n");

Deno.test("renderMatrixMarkdown: a table with servers as columns and cases grouped by area", () => {
  // Clause and level come from the suite's definitions, not the reports.
  equal(lines[0], "### Matrix");
  equal(lines[2], "| Case | § | Level | Server \\| A | Server b |");
  equal(lines[3], "| --- | --- | --- | :---: | :---: |");
  deepStrictEqual(lines.slice(4, 9), [
    "| **relay** |  |  |  |  |",
    "| `relay.basic` | §2.1 | MUST | ✅ | — |",
    "| `relay.no-echo` | §2.2 | MUST | ❌ 💥 | — |",
    "| **framing** |  |  |  |  |",
    "| `framing.lf` | §1.2 | MUST | ℹ️ 64 KiB | — |",
  ]);
});

Deno.test("renderMatrixMarkdown: totals per server, legend and how each server ran", () => {
  ok(lines.includes("| ✅ pass |  |  | 1 | 0 |"));
  ok(lines.includes("| ❌ fail |  |  | 1 | 0 |"));
  ok(lines.includes("| — not-run |  |  | 0 | 3 |"));
  ok(lines.includes("| 💥 server crashed in |  |  | 1 | 0 |"));
  ok(lines.includes("| run time |  |  | 1.2 s | — |"));
  ok(!lines.some((line) => line.startsWith("| 🎲 flaky")), "no empty rows");
  ok(text.includes("✅ pass: the requirement holds"));
  ok(
    text.includes(
      "- **Server b**: the b server; `b {port}` — **not run**: b is not installed",
    ),
  );
  ok(text.endsWith("\n"));
});
