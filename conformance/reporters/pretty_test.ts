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
  ok(/total\s+1\s+1\s+1\s+1\s+1\s+1/.test(text));
  ok(text.includes("1 restart, 1 crash (during relay.no-echo)"));
  ok(text.includes("Result: 3 of 6 cases failed at level all → exit 1"));
  ok(!text.includes("\x1b["), "no colours unless asked");
});

Deno.test("pretty: colours only when asked", () => {
  ok(formatPretty(everyVerdictReport(), { color: true }).includes("\x1b[31m"));
});

Deno.test("live progress rewrites a status line on a terminal and prints result lines", () => {
  const report = everyVerdictReport();
  let tty = "";
  const live = new LiveProgress((s) => tty += s, { tty: true });
  live.handle({ type: "start", total: 1, targets: ["t"] });
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
