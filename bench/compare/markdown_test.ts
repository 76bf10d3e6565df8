import { equal, match } from "node:assert/strict";
import type { LoadReport } from "../load/report.ts";
import { renderCharts } from "./charts.ts";
import { renderMarkdown } from "./markdown.ts";
import { report, results, run, SAT } from "./_testing.ts";

Deno.test("the report shows failed servers, ratios, charts and every failure", () => {
  const r = results([
    run("saturation", SAT, "ours", 1, report({ delivered: 2e6 })),
    run("saturation", SAT, "book", 1, report({ delivered: 1e5 })),
    run("saturation", SAT, "ncat", 1, null, "stalled: lost 5 of 10 deliveries"),
    run(
      "scaling",
      "100 clients",
      "ours",
      1,
      report({ delivered: 990, p99: 2 }),
    ),
    run(
      "scaling",
      "1000 clients",
      "ours",
      1,
      report({ delivered: 9990, p99: 3 }),
    ),
    run("scaling", "1000 clients", "book", 1, null, "join timed out"),
  ]);
  const charts = renderCharts(r, "2026-01-02");
  const markdown = renderMarkdown(r, charts);
  match(markdown, /^# linechat compare: 2026-01-02\n/);
  match(markdown, /\| ours \| 2M \|.*\| 20\.00× \| 1\/1 ok \|/);
  match(markdown, /\| ncat \| ✗ stalled: lost 5 of 10 deliveries \|/);
  match(
    markdown,
    /!\[p99 latency against clients\]\(2026-01-02-scaling-p99\.svg\)/,
  );
  match(
    markdown,
    /## Failures[\s\S]*\| 1 \| scaling \| 1000 clients \| book \| join timed out \|/,
  );
  match(markdown, /Every successful run was valid\./);
});

Deno.test("runs that saw TCP retransmissions are listed with their counts", () => {
  const lossy = report({ delivered: 49990, p99: 900 });
  (lossy as { network: LoadReport["network"] }).network = {
    tcpRetransmits: 42,
    backlogDrops: 40,
  };
  const clean = report({ delivered: 49990, p99: 90 });
  (clean as { network: LoadReport["network"] }).network = {
    tcpRetransmits: 0,
    backlogDrops: 0,
  };
  const markdown = renderMarkdown(
    results([
      run("scaling", "5000 clients", "ours", 1, clean),
      run("scaling", "5000 clients", "book", 2, lossy),
    ]),
    [],
  );
  match(
    markdown,
    /## TCP retransmissions[\s\S]*\| 2 \| scaling \| 5000 clients \| book \| 42 \| 40 \|/,
  );
  equal(
    /\| ours \| 0 \| 0 \|/.test(markdown),
    false,
    "clean runs are left out",
  );
  match(
    renderMarkdown(
      results([run("scaling", "5000 clients", "ours", 1, clean)]),
      [],
    ),
    /No run saw a retransmission or a dropped packet\./,
  );
});

Deno.test("warnings name the point of a workload of several, so two runs never read the same", () => {
  const noisy = (point: string) => ({
    ...run("scaling", point, "ours", 1, report({ delivered: 90 })),
    warnings: ["other processes used 0.5 cores during the window (over 0.25)"],
  });
  const markdown = renderMarkdown(
    results([
      noisy("10 clients"),
      noisy("100 clients"),
      {
        ...run("saturation", SAT, "ncat", 1, report({ delivered: 9 })),
        warnings: ["other processes used 0.3 cores during the window"],
      },
    ]),
    [],
  );
  match(
    markdown,
    /\| 3: scaling \(10 clients\) ours #1, scaling \(100 clients\) ours #1, saturation ncat #1 \|/,
  );
});
