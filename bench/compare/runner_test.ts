import { deepEqual, equal, match } from "node:assert/strict";
import {
  classifyRun,
  loadCommand,
  rotate,
  runCompare,
  runTimeLimitMs,
} from "./runner.ts";
import type { Workload } from "./workloads.ts";
import { loadFlags, WORKLOADS } from "./workloads.ts";
import type { LoadReport } from "../load/report.ts";

Deno.test("rotate gives each round a different server order", () => {
  deepEqual(rotate(["a", "b", "c"], 0), ["a", "b", "c"]);
  deepEqual(rotate(["a", "b", "c"], 1), ["b", "c", "a"]);
  deepEqual(rotate(["a", "b", "c"], 5), ["c", "a", "b"]);
  deepEqual(rotate([], 3), []);
});

function accounting(fields: Partial<LoadReport["accounting"]>): LoadReport {
  return {
    failure: null,
    disconnects: { total: 0, byPhase: {} },
    accounting: {
      linesSent: 10,
      expected: 90,
      delivered: 90,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      echoed: 0,
      foreign: 0,
      malformed: 0,
      deliveryRatio: 1,
      ...fields,
    },
  } as unknown as LoadReport;
}

Deno.test("classifyRun: clean, lossy, stalled, echoing, crashed", () => {
  deepEqual(classifyRun(accounting({}), true), {
    status: "ok",
    reason: null,
    notes: [],
  });
  const lossy = classifyRun(accounting({ delivered: 89, lost: 1 }), true);
  equal(lossy.status, "failed");
  equal(lossy.reason, "lost 1 of 90 deliveries (1.1 %)");
  const stalled = classifyRun(accounting({ delivered: 9, lost: 81 }), true);
  match(stalled.reason!, /^stalled: lost 81 of 90/);
  const echo = classifyRun(accounting({ echoed: 10 }), true);
  deepEqual([echo.status, echo.notes], [
    "ok",
    ["echoed 10 lines back to their senders (§2.2)"],
  ]);
  deepEqual(classifyRun(accounting({ echoed: 1, foreign: 1 }), true).notes, [
    "echoed 1 line back to their senders (§2.2)",
    "1 unrecognised line",
  ]);
  equal(classifyRun(accounting({}), false).reason, "the server crashed");
  equal(
    classifyRun({ ...accounting({}), failure: "join timed out" }, true).reason,
    "join timed out",
  );
});

Deno.test("every workload point has a load command and a time limit", () => {
  for (const workload of WORKLOADS) {
    for (const point of [...workload.points, ...workload.quickPoints]) {
      match(
        loadCommand(point),
        /^deno task load --target 127\.0\.0\.1:PORT --pid PID --clients \d+/,
      );
      equal(runTimeLimitMs(point) > 30_000, true);
      equal(loadFlags(point.load).length % 2, 0);
    }
  }
});

Deno.test("runCompare measures our server and records one that cannot start as failed", async () => {
  const tiny: Workload = {
    id: "tiny",
    title: "Tiny",
    description: "two clients, a few lines",
    metrics: ["deliveredPerSecond"],
    headline: "deliveredPerSecond",
    points: [],
    quickPoints: [{
      label: "2 clients",
      clients: 2,
      load: {
        clients: 2,
        senders: 1,
        rate: 0,
        lines: 20,
        warmupMs: 0,
        durationMs: 2000,
        rssSteps: 1,
        rssSettleMs: 10,
      },
    }],
  };
  const results = await runCompare({
    servers: [{
      id: "ours",
      name: "ours",
      description: "",
      kind: "ours",
      command: "deno run -A server/main.ts --port {port} --quiet",
      tools: [],
    }, {
      id: "nothing",
      name: "a server that is not there",
      description: "",
      kind: "relay",
      command: "/nonexistent/server {port}",
      tools: [],
    }],
    workloads: [tiny],
    rounds: 1,
    quick: true,
    waitForQuiet: false,
  });
  deepEqual(results.runs.map((r) => [r.server, r.status]), [
    ["ours", "ok"],
    ["nothing", "failed"],
  ]);
  equal(results.runs[0].report?.accounting.delivered, 20);
  match(
    results.runs[1].reason!,
    /^did not start: server exited \(exit code 127\) before listening on port \d+: .*not found/,
  );
  equal(
    results.servers[0].command,
    "deno run -A server/main.ts --port {port} --quiet",
  );
  // The server's own figures: --pid named the server, not its shell.
  const server = results.runs[0].report?.server;
  equal(
    server !== null && server !== undefined && server.cpuSeconds >= 0,
    true,
  );
  equal((server?.rssConnectedBytes ?? 0) > 8 * 1024 * 1024, true);
});
