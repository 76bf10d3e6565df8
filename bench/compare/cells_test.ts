import { deepEqual, equal } from "node:assert/strict";
import { cellOf, cellText, formatSpread, metricSpread } from "./cells.ts";
import { report, results, run, SAT } from "./_testing.ts";

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

Deno.test("memory per connection carries its fit: a poor R² is flagged in the cell", () => {
  const idle = (server: string, r2: number) =>
    run(
      "idle",
      "10000 clients",
      server,
      1,
      report({ rssPerConnection: 6554, rssFitR2: r2 }),
    );
  const r = results([idle("ours", 0.998), idle("book", 0.49)]);
  equal(
    cellText(cellOf(r, "idle", "10000 clients", "ours"), "rssPerConnection"),
    "6.4 KiB",
  );
  equal(
    cellText(cellOf(r, "idle", "10000 clients", "book"), "rssPerConnection"),
    "6.4 KiB (poor fit: R² 0.49)",
  );
});
