import { deepStrictEqual, equal } from "node:assert/strict";
import type { Finding, Verdict } from "./types.ts";
import {
  combineAttempts,
  isCounted,
  levelSelected,
  sortFindings,
  summarize,
  verdictOf,
} from "./verdict.ts";

const f = (
  severity: Finding["severity"],
  message: string = severity,
): Finding => ({
  severity,
  clause: "§2.1",
  message,
});

Deno.test("verdictOf: fail beats non-strict beats skip; INFO cases without findings are info", () => {
  equal(verdictOf("MUST", []), "pass");
  equal(verdictOf("SHOULD", [f("info")]), "pass");
  equal(verdictOf("INFO", [f("info")]), "info");
  equal(verdictOf("MUST", [f("skip")]), "skipped");
  equal(verdictOf("MUST", [f("skip"), f("non-strict")]), "non-strict");
  equal(verdictOf("MUST", [f("non-strict"), f("fail")]), "fail");
  equal(verdictOf("INFO", [f("fail")]), "fail");
});

Deno.test("a retry never turns a failure into a pass: at best it is flaky", () => {
  equal(combineAttempts("fail", "pass"), "flaky");
  equal(combineAttempts("non-strict", "info"), "flaky");
  equal(combineAttempts("fail", "non-strict"), "fail");
  equal(
    combineAttempts("fail", "skipped"),
    "fail",
    "a retry that could not run proves nothing",
  );
  equal(combineAttempts("pass", "fail"), "pass", "only failures are retried");
});

Deno.test("counting: fail always, non-strict unless --level must, flaky as its first attempt", () => {
  const all: Verdict[] = ["pass", "info", "skipped", "fail", "non-strict"];
  deepStrictEqual(all.map((v) => isCounted(v, "all")), [
    false,
    false,
    false,
    true,
    true,
  ]);
  deepStrictEqual(all.map((v) => isCounted(v, "must")), [
    false,
    false,
    false,
    true,
    false,
  ]);
  equal(isCounted("flaky", "all", "fail"), true);
  equal(isCounted("flaky", "must", "non-strict"), false);
  equal(isCounted("flaky", "should", "non-strict"), true);
});

Deno.test("counting: a timeout is a failure at its level; an INFO case never counts", () => {
  equal(isCounted("timeout", "must", "timeout", "MUST"), true);
  equal(isCounted("timeout", "must", "timeout", "SHOULD"), false);
  equal(isCounted("timeout", "all", "timeout", "SHOULD"), true);
  // limits.largest-line once came out "fail" and made the run exit 1.
  for (const verdict of ["fail", "timeout", "non-strict"] as const) {
    equal(isCounted(verdict, "all", verdict, "INFO"), false, verdict);
  }
});

Deno.test("summarize: a run stopped on a failing root cause exits 1, even with no case run", () => {
  const skipped = [{ verdict: "skipped" as const, counted: false }];
  equal(summarize(skipped).exitCode, 0);
  equal(
    summarize(skipped, [{ severity: "fail", stopped: true }]).exitCode,
    1,
  );
  equal(
    summarize(skipped, [{ severity: "info", stopped: false }]).exitCode,
    0,
  );
});

Deno.test("levels: must runs MUST, should adds SHOULD, all adds INFO", () => {
  deepStrictEqual(
    (["MUST", "SHOULD", "INFO"] as const).map((l) => [
      levelSelected(l, "must"),
      levelSelected(l, "should"),
      levelSelected(l, "all"),
    ]),
    [[true, true, true], [false, true, true], [false, false, true]],
  );
});

Deno.test("summarize counts verdicts and sets the exit code from counted results", () => {
  const summary = summarize([
    { verdict: "pass", counted: false },
    { verdict: "non-strict", counted: false },
    { verdict: "skipped", counted: false },
  ]);
  equal(summary.total, 3);
  equal(summary["non-strict"], 1);
  equal(summary.exitCode, 0);
  equal(summarize([{ verdict: "flaky", counted: true }]).exitCode, 1);
  equal(summarize([]).exitCode, 0);
});

Deno.test("sortFindings puts the worst first and keeps order within a severity", () => {
  const sorted = sortFindings([
    f("info", "i1"),
    f("fail", "f1"),
    f("skip", "s1"),
    f("fail", "f2"),
  ]);
  deepStrictEqual(sorted.map((x) => x.message), ["f1", "f2", "s1", "i1"]);
});
