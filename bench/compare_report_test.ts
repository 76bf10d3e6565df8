import { deepEqual, equal, match } from "node:assert/strict";
import type { CompareResults, RunRecord } from "./compare_runner.ts";
import { WORKLOADS } from "./compare_workloads.ts";
import type { LoadReport } from "./load_generator.ts";
import {
  cellOf,
  checkGoals,
  formatSpread,
  metricSpread,
  renderCharts,
  renderMarkdown,
} from "./compare_report.ts";

/** A report with just the fields the summary reads. */
function report(fields: {
  delivered?: number;
  p99?: number;
  cpuPerMillion?: number;
  rssPerConnection?: number;
  valid?: boolean;
}): LoadReport {
  const latency = {
    count: 100,
    mean: 1,
    p50: 1,
    p90: 1,
    p99: fields.p99 ?? 1,
    p999: 1,
    max: 1,
  };
  return {
    window: { deliveredPerSecond: fields.delivered ?? 0 },
    latency: { corrected: latency, uncorrected: latency, lastDeliveryMs: 5 },
    server: {
      cpuSecondsPerMillionDeliveries: fields.cpuPerMillion ?? null,
      cpuShare: 0.5,
      rssPerConnectionBytes: fields.rssPerConnection ?? null,
      rssConnectedBytes: 1,
    },
  } as unknown as LoadReport;
}

function run(
  workload: string,
  point: string,
  server: string,
  round: number,
  r: LoadReport | null,
  failed?: string,
): RunRecord {
  return {
    round,
    workload,
    point,
    server,
    status: failed ? "failed" : "ok",
    reason: failed ?? null,
    notes: [],
    valid: true,
    invalidReasons: [],
    seconds: 1,
    machineBusyBefore: null,
    report: r,
  };
}

function results(runs: RunRecord[]): CompareResults {
  return {
    version: 1,
    date: "2026-01-02",
    startedAt: "2026-01-02T00:00:00Z",
    finishedAt: "2026-01-02T00:30:00Z",
    quick: false,
    rounds: 3,
    machine: { cpus: 2 },
    servers: ["ours", "book", "ncat"].map((id) => ({
      id,
      name: id,
      description: "",
      command: `${id} {port}`,
      baseline: id === "book",
    })),
    missing: [],
    workloads: WORKLOADS.map((w) => ({
      ...w,
      loadCommands: Object.fromEntries(
        w.points.map((p) => [p.label, `deno task load ${p.label}`]),
      ),
    })),
    runs,
  };
}

const SAT = "100 clients";

Deno.test("cells take the median and range of successful rounds only", () => {
  const r = results([
    run("saturation", SAT, "ours", 1, report({ delivered: 3e6 })),
    run("saturation", SAT, "ours", 2, report({ delivered: 1e6 })),
    run("saturation", SAT, "ours", 3, null, "the server crashed"),
  ]);
  const cell = cellOf(r, "saturation", SAT, "ours");
  deepEqual([cell.runs.length, cell.ok.length, cell.failed.length], [3, 2, 1]);
  deepEqual(metricSpread(cell, "deliveredPerSecond"), {
    median: 2e6,
    min: 1e6,
    max: 3e6,
    count: 2,
  });
  equal(
    formatSpread(metricSpread(cell, "deliveredPerSecond"), String),
    "2000000 (1000000–3000000)",
  );
});

Deno.test("goals: saturation ratios to book and ncat, idle memory, slow consumer", () => {
  const runs: RunRecord[] = [];
  for (const round of [1, 2, 3]) {
    runs.push(
      run(
        "saturation",
        SAT,
        "ours",
        round,
        report({ delivered: 2.6e6, cpuPerMillion: 0.1 }),
      ),
      run(
        "saturation",
        SAT,
        "book",
        round,
        report({ delivered: 1e5, cpuPerMillion: 5 }),
      ),
      run(
        "saturation",
        SAT,
        "ncat",
        round,
        report({ delivered: 4e6, cpuPerMillion: 0.05 }),
      ),
      run("latency", SAT, "ours", round, report({ p99: 3 })),
      run("latency", SAT, "book", round, report({ p99: 4 })),
      run("latency", SAT, "ncat", round, null, "the server crashed"),
      run(
        "idle",
        "10000 clients",
        "ours",
        round,
        report({ rssPerConnection: 5000 }),
      ),
      run("slow-consumer", "without", "ours", round, report({ p99: 2 })),
      run(
        "slow-consumer",
        "with a slow consumer",
        "ours",
        round,
        report({ p99: 5 }),
      ),
    );
  }
  const goals = checkGoals(results(runs));
  deepEqual(goals.map((g) => g.met), [true, false, true, true, false]);
  match(
    goals[0].measured,
    /^26\.00× \(2\.6M vs 100k lines\/s\); CPU per delivery: book uses 50\.00× ours/,
  );
  match(goals[1].measured, /^0\.65×/);
  match(goals[2].measured, /ncat failed/);
  match(goals[3].measured, /4\.9 KiB per connection/);
  match(goals[4].measured, /2\.50×$/);
});

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
  deepEqual(charts.map((c) => c.file), [
    "2026-01-02-scaling-delivered.svg",
    "2026-01-02-scaling-p99.svg",
    "2026-01-02-saturation-deliveredPerSecond.svg",
    "2026-01-02-saturation-serverCpuPerMillion.svg",
    "2026-01-02-idle-rssPerConnection.svg",
  ]);
  match(charts[0].svg, /failed at 1k/);
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
