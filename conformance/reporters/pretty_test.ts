import { ok } from "node:assert/strict";
import { everyVerdictReport } from "../_fixtures.ts";
import { formatPretty, LiveProgress, resultLine } from "./pretty.ts";

Deno.test("pretty: result lines, evidence with expected and received, summary, exit code", () => {
  const text = formatPretty(everyVerdictReport());
  ok(text.includes("✗ FAIL       relay.no-echo"));
  ok(text.includes("expected at A: (nothing)"));
  ok(text.includes('received at A: "echo probe \\x00" | … 3 more lines'));
  ok(text.includes("wire trace:"));
  ok(text.includes("| listening"), "server output");
  ok(text.includes("Summary"));
  ok(/total\s+1\s+1\s+1\s+1\s+1\s+1\s+1/.test(text));
  ok(text.includes("⏱ TIMEOUT    slow-consumer.others-unaffected"));
  ok(text.includes("1 restart, 1 crash (during relay.no-echo)"));
  ok(text.includes("Result: 4 of 7 cases failed at level all → exit 1"));
  ok(text.includes("of at most 6 min"), "the bound");
  ok(text.includes("at most 6 min at --timeout-scale 1 (--deadline)"));
  ok(text.includes("latency: a line to another client and back takes 0.3 ms"));
  ok(!text.includes("\x1b["), "no colours unless asked");
});

Deno.test("pretty: colours only when asked", () => {
  ok(formatPretty(everyVerdictReport(), { color: true }).includes("\x1b[31m"));
});

Deno.test("live progress rewrites a status line on a terminal and prints result lines", () => {
  const report = everyVerdictReport();
  let tty = "";
  const live = new LiveProgress((s) => tty += s, { tty: true });
  live.handle({
    type: "start",
    total: 1,
    targets: ["t"],
    boundMs: 60_000,
    fromDeadline: false,
    timeoutScale: 1,
  });
  live.handle({
    type: "case-start",
    index: 0,
    total: 1,
    definition: {
      id: "relay.basic",
      clause: "§2.1",
      level: "MUST",
      requirement: "r",
      run: async () => {},
    },
  });
  live.handle({
    type: "case-end",
    index: 0,
    total: 1,
    result: report.cases[0],
  });
  ok(tty.includes("[1/1] relay.basic …"));
  ok(tty.includes("\r\x1b[2K✓ PASS"));
  let plain = "";
  const pipe = new LiveProgress((s) => plain += s);
  pipe.handle({
    type: "case-end",
    index: 0,
    total: 1,
    result: report.cases[1],
  });
  ok(!plain.includes("\x1b"), "no control sequences when not a terminal");
  ok(plain.includes(resultLine(report.cases[1])));
});

Deno.test("pretty: one root cause is said once, with the cases it explains; restarts only with -v unless after a crash", () => {
  const report = everyVerdictReport();
  report.diagnoses = [{
    id: "decorated",
    severity: "fail",
    clause: "§2.4",
    message: "the server adds bytes to the lines it relays",
    cases: ["relay.no-echo", "disconnect.churn"],
    stopped: false,
  }];
  report.cases[1].cause = "decorated";
  report.cases[6].cause = "decorated";
  const text = formatPretty(report);
  ok(text.includes("Root causes"));
  ok(text.includes("explains 2 cases: relay.no-echo, disconnect.churn"));
  ok(
    text.includes("(root cause decorated, shown above; -v for its evidence)"),
    "the second explained case is not shown in full",
  );
  let shown = "";
  const live = new LiveProgress((s) => shown += s);
  live.handle({ type: "server", message: "fresh", reason: "failure" });
  live.handle({ type: "server", message: "died", reason: "crash" });
  ok(!shown.includes("fresh") && shown.includes("died"));
  let verbose = "";
  new LiveProgress((s) => verbose += s, { verbose: true }).handle({
    type: "server",
    message: "fresh",
    reason: "failure",
  });
  ok(verbose.includes("fresh"));
});
