import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { CaseAbort, CaseSkip, FindingRecorder } from "./findings.ts";
import { TraceRecorder } from "./trace.ts";

Deno.test("a failure is fail in a MUST case and non-strict in a SHOULD case", () => {
  const must = new FindingRecorder("MUST", "§2.2", new TraceRecorder());
  const should = new FindingRecorder("SHOULD", "§2.11", new TraceRecorder());
  must.fail("echoed");
  should.fail("delayed");
  should.nonStrict("worse", { clause: "§4.3" });
  deepStrictEqual(must.findings, [
    { severity: "fail", clause: "§2.2", message: "echoed" },
  ]);
  deepStrictEqual(should.findings.map((f) => [f.severity, f.clause]), [
    ["non-strict", "§2.11"],
    ["non-strict", "§4.3"],
  ]);
  equal(must.failed, true);
  equal(should.failed, false);
});

Deno.test("evidence is escaped when recorded and cut after 200 lines per client", () => {
  const findings = new FindingRecorder("MUST", "§2.1", new TraceRecorder());
  const many = Array.from({ length: 203 }, (_, i) => `line ${i}`);
  findings.fail("lost", {
    expected: { B: ["a\tb"] },
    received: { B: many },
    data: { lines: 203 },
  });
  const [finding] = findings.findings;
  deepStrictEqual(finding.expected, { B: ["a\\tb"] });
  equal(finding.received!.B.length, 201);
  equal(finding.received!.B[200], "… 3 more lines");
  deepStrictEqual(finding.data, { lines: 203 });
});

Deno.test("failFirst puts its finding first; every finding and measurement is noted in the trace", () => {
  const trace = new TraceRecorder();
  const findings = new FindingRecorder("MUST", "§2.1", trace);
  findings.fail("barrier timed out");
  findings.info("a note");
  findings.failFirst("the server closed 3 clients", { clause: "§4.8" });
  findings.measure("latencyMs", 1.23456);
  deepStrictEqual(findings.findings.map((f) => f.message), [
    "the server closed 3 clients",
    "barrier timed out",
    "a note",
  ]);
  deepStrictEqual(findings.measurements, { latencyMs: 1.235 });
  deepStrictEqual(trace.events().map((e) => e.data), [
    "fail: barrier timed out",
    "info: a note",
    "fail: the server closed 3 clients",
    "measured latencyMs = 1.23456",
  ]);
});

Deno.test("abort records and throws CaseAbort; skip throws CaseSkip without a finding", () => {
  const findings = new FindingRecorder("MUST", "§5.2", new TraceRecorder());
  throws(() => findings.abort("gone"), CaseAbort);
  throws(() => findings.skip("needs --spawn"), CaseSkip);
  findings.skipPart("not judged");
  deepStrictEqual(findings.findings.map((f) => f.severity), ["fail", "skip"]);
});
