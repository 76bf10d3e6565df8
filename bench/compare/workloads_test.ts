import { deepEqual, equal, ok } from "node:assert/strict";
import { parseLoadArgs } from "../load/cli.ts";
import { loadFlags, WORKLOADS } from "./workloads.ts";

Deno.test("every workload has unique point labels, quick points and a headline among its metrics", () => {
  deepEqual(WORKLOADS.map((w) => w.id), [
    "saturation",
    "latency",
    "scaling",
    "idle",
    "slow-consumer",
  ]);
  for (const workload of WORKLOADS) {
    for (const points of [workload.points, workload.quickPoints]) {
      ok(points.length > 0, workload.id);
      const labels = points.map((p) => p.label);
      equal(new Set(labels).size, labels.length, workload.id);
      for (const point of points) equal(point.clients, point.load.clients);
    }
    ok(workload.metrics.includes(workload.headline), workload.id);
  }
});

Deno.test("loadFlags gives back the load settings when deno task load parses them", () => {
  for (const workload of WORKLOADS) {
    for (const point of [...workload.points, ...workload.quickPoints]) {
      const args = parseLoadArgs(["--target", ":1", ...loadFlags(point.load)]);
      for (const [key, value] of Object.entries(point.load)) {
        equal(
          (args.load as Record<string, unknown>)[key],
          value,
          `${workload.id} ${point.label} ${key}`,
        );
      }
    }
  }
});
