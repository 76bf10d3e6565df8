import { deepStrictEqual, equal } from "node:assert/strict";
import { type Attempt, skippedAttempt } from "./attempt.ts";
import type { CaseDefinition } from "./case.ts";
import { caseResult, outputTerminator, singleOutcome } from "./results.ts";

const definition: CaseDefinition = {
  id: "relay.no-echo",
  clause: "§2.2",
  level: "MUST",
  requirement: "no echo",
  run: async () => {},
};

const attempt = (findings: Attempt["findings"]): Attempt => ({
  findings,
  measurements: {},
  trace: [{ t: 1, client: "A", event: "send", data: "x", bytes: 1 }],
  traceOmitted: 0,
  durationMs: 3.4,
  serverOutput: "listening\n",
});

Deno.test("a failing result keeps its trace and server output; its headline is the worst finding", () => {
  const result = caseResult(
    definition,
    attempt([
      { severity: "info", clause: "§2.2", message: "a note" },
      { severity: "fail", clause: "§2.2", message: "A received its own line" },
    ]),
    { attempts: 1, verdict: "fail", firstVerdict: "fail" },
    "all",
    false,
  );
  equal(result.message, "A received its own line");
  equal(result.counted, true);
  equal(result.durationMs, 3);
  equal(result.trace?.length, 1);
  equal(result.serverOutput, "listening\n");
});

Deno.test("a passing result has no trace unless verbose", () => {
  const pass = singleOutcome("MUST", []);
  deepStrictEqual(pass, { attempts: 1, verdict: "pass", firstVerdict: "pass" });
  const quiet = caseResult(definition, attempt([]), pass, "all", false);
  equal(quiet.trace, undefined);
  equal(quiet.message, "ok");
  const verbose = caseResult(definition, attempt([]), pass, "all", true);
  equal(verbose.trace?.length, 1);
});

Deno.test("a skipped attempt is a skipped result with its reason", () => {
  const skipped = skippedAttempt("§2.2", "needs --spawn");
  const result = caseResult(
    definition,
    skipped,
    singleOutcome("MUST", skipped.findings),
    "all",
    false,
  );
  deepStrictEqual([result.verdict, result.message, result.counted], [
    "skipped",
    "needs --spawn",
    false,
  ]);
});

Deno.test("output terminator: CR LF, LF (a few CR LF lines allowed), mixed, unknown", () => {
  deepStrictEqual(
    [[0, 0], [10, 0], [100, 90], [100, 89]].map(([n, lf]) =>
      outputTerminator(n, lf)
    ),
    ["unknown", "crlf", "lf", "mixed"],
  );
});
