import { deepEqual, doesNotMatch, match } from "node:assert/strict";
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
    "2026-01-02-scaling-p99.svg",
    "2026-01-02-scaling-cpu.svg",
    "2026-01-02-saturation-deliveredPerSecond.svg",
    "2026-01-02-saturation-serverCpuPerMillion.svg",
    "2026-01-02-idle-rssPerConnection.svg",
  ]);
  match(charts[0].svg, />book<\/text>\n<text [^>]*>failed at 1k</);
  match(charts[2].svg, /stalled: lost 5 of 10/);
  match(charts[4].svg, /not run/);
});

Deno.test("charts: a server measured but without the figure is 'not measured', not failed", () => {
  const charts = renderCharts(
    results([
      run(
        "idle",
        "10000 clients",
        "ours",
        1,
        report({ rssPerConnection: 6500 }),
      ),
      run("idle", "10000 clients", "book", 1, report({ noServer: true })),
      run(
        "scaling",
        "1000 clients",
        "book",
        1,
        report({ noServer: true, p99: 3 }),
      ),
    ]),
    "2026-01-02",
  );
  const idle = charts.find((c) =>
    c.file.endsWith("idle-rssPerConnection.svg")
  )!;
  match(idle.svg, /fill="#666">not measured</);
  doesNotMatch(idle.svg, /✗/);
  const cpu = charts.find((c) => c.file.endsWith("scaling-cpu.svg"))!;
  match(cpu.svg, />book<\/text>\n<text [^>]*fill="#666"[^>]*>not measured</);
});

Deno.test("charts: memory ticks fall on whole KiB, and the axis reaches past the longest bar", () => {
  const idle = renderCharts(
    results([
      run(
        "idle",
        "10000 clients",
        "ours",
        1,
        report({ rssPerConnection: 6554 }),
      ),
      run(
        "idle",
        "10000 clients",
        "ncat",
        1,
        report({ rssPerConnection: 4300 }),
      ),
    ]),
    "2026-01-02",
  ).find((c) => c.file.endsWith("idle-rssPerConnection.svg"))!;
  const ticks = [...idle.svg.matchAll(/text-anchor="middle">([^<]+ KiB|0 B)</g)]
    .map((m) => m[1]);
  deepEqual(ticks, ["0 B", "2.0 KiB", "4.0 KiB", "6.0 KiB", "8.0 KiB"]);
});

Deno.test("charts: CPU per delivery too small to tell anywhere (a --quick run) draws no empty scaling chart", () => {
  const charts = renderCharts(
    results([
      run("scaling", "10 clients", "ours", 1, report({ cpuSeconds: 0.01 })),
      run("scaling", "100 clients", "ours", 1, report({ cpuSeconds: 0.02 })),
    ]),
    "2026-01-02",
  );
  deepEqual(
    charts.map((c) => c.file).filter((f) => f.includes("scaling")),
    ["2026-01-02-scaling-p99.svg"],
  );
});

Deno.test("charts: a server with too little CPU at some points says so beside its line", () => {
  const cpu = renderCharts(
    results([
      run("scaling", "10 clients", "ours", 1, report({ cpuSeconds: 0.01 })),
      run(
        "scaling",
        "1000 clients",
        "ours",
        1,
        report({ cpuSeconds: 0.5, cpuPerMillion: 2 }),
      ),
    ]),
    "2026-01-02",
  ).find((c) => c.file.endsWith("scaling-cpu.svg"))!;
  match(cpu.svg, /fill="#666"[^>]*>&lt; 0.1 CPU-s at 10</);
});
