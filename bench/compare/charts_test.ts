import { deepEqual, match } from "node:assert/strict";
import { renderCharts } from "./charts.ts";
import { report, results, run, SAT } from "./_testing.ts";

Deno.test("charts: scaling lines, saturation and idle bars, and where a server failed", () => {
  const charts = renderCharts(
    results([
      run("saturation", SAT, "ours", 1, report({ delivered: 2e6 })),
      run("saturation", SAT, "ncat", 1, null, "stalled: lost 5 of 10"),
      run("scaling", "100 clients", "ours", 1, report({ delivered: 990 })),
      run("scaling", "1000 clients", "book", 1, null, "join timed out"),
    ]),
    "2026-01-02",
  );
  deepEqual(charts.map((c) => c.file), [
    "2026-01-02-scaling-delivered.svg",
    "2026-01-02-scaling-p99.svg",
    "2026-01-02-saturation-deliveredPerSecond.svg",
    "2026-01-02-saturation-serverCpuPerMillion.svg",
    "2026-01-02-idle-rssPerConnection.svg",
  ]);
  match(charts[0].svg, />book<\/text>\n<text [^>]*>failed at 1k</);
  match(charts[2].svg, /stalled: lost 5 of 10/);
  match(charts[4].svg, /not run/);
});
