import { equal, ok } from "node:assert/strict";
import {
  fakeServer,
  matrixReport,
  matrixResult,
  matrixRun,
} from "./_fixtures.ts";
import { evidenceId, renderMatrixHtml } from "./html.ts";
import { buildMatrix } from "./json.ts";

const failing = matrixResult("relay.no-echo", "fail", {
  message: "A received <its own> line back",
  findings: [{
    severity: "fail",
    clause: "§2.2",
    message: "A received <its own> line back",
    expected: { A: [] },
    received: { A: ["echo & <probe>"] },
  }],
  trace: [
    {
      t: 0.5,
      client: "A",
      event: "send",
      data: "echo & <probe>\\n",
      bytes: 15,
    },
    {
      t: 1.25,
      client: "A",
      event: "recv",
      data: "echo & <probe>",
      bytes: 14,
      terminator: "crlf",
    },
  ],
  serverOutput: "Server: received <echo>\n",
});
const reports = {
  a: matrixReport([
    matrixResult("relay.basic", "pass"),
    failing,
    matrixResult("framing.lf", "pass"),
  ], [
    "relay.no-echo",
  ]),
  b: null,
};
const doc = buildMatrix(matrixRun([
  [fakeServer("a"), reports.a],
  [
    fakeServer("b", { unavailable: "b is not installed" }),
    null,
    "b is not installed",
  ],
]));
const page = renderMatrixHtml(doc, reports, { title: "Matrix <test>" });

Deno.test("renderMatrixHtml: every cell links to its evidence, which exists once", () => {
  for (const row of doc.cases) {
    const id = evidenceId("a", row.id);
    ok(page.includes(`href="#${id}"`), `a link to ${id}`);
    equal(page.split(`id="${id}"`).length - 1, 1, `one element ${id}`);
  }
  // The server without a report links too, and says why there is nothing.
  ok(page.includes(`href="#${evidenceId("b", "relay.basic")}"`));
  ok(page.includes("No report: b is not installed"));
});

Deno.test("renderMatrixHtml: evidence shows expected vs received, the trace, output and the crash, escaped", () => {
  ok(page.includes("<title>Matrix &lt;test&gt;</title>"));
  ok(page.includes("A received &lt;its own&gt; line back"));
  ok(page.includes("<i>no lines</i>"), "A expected nothing");
  ok(
    page.includes("&quot;echo &amp; &lt;probe&gt;&quot;"),
    "A's received line",
  );
  ok(page.includes('<td class="data">echo &amp; &lt;probe&gt;\\n</td>'));
  ok(page.includes("Server: received &lt;echo&gt;"));
  ok(page.includes("unhandled exception in relay.no-echo &lt;boom&gt;"));
  ok(!page.includes("<probe>") && !page.includes("<boom>"));
});

Deno.test("renderMatrixHtml: the page is self-contained", () => {
  ok(page.startsWith("<!DOCTYPE html>"));
  ok(!/\s(src|href)="(https?:)?\/\//.test(page), "no external resources");
  ok(!page.includes("<link"), "no stylesheets to fetch");
});

Deno.test("renderMatrixHtml: a crash's status is said in words (141 is SIGPIPE), its output escaped", () => {
  const report = matrixReport([matrixResult("relay.basic", "fail")], [
    "relay.basic",
  ]);
  report.spawn!.crashes[0].code = 141;
  report.spawn!.crashes[0].outputTail = "boom\x1b[2J\x07";
  report.cases[0].serverOutput = "\x1b]0;title\x07listening\n";
  const html = renderMatrixHtml(
    buildMatrix(matrixRun([[fakeServer("a"), report]])),
    { a: report },
  );
  ok(html.includes("killed by SIGPIPE (signal 13, exit code 141)"), "in words");
  ok(!html.includes("\x07") && !html.includes("\x1b"), "no raw control bytes");
  ok(html.includes("boom\\x1b[2J\\x07"));
});
