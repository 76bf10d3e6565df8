import { deepEqual, equal, match, ok } from "node:assert/strict";
import * as hdr from "hdr-histogram-js";
import { MAX_TIMELINE_SECONDS, Timeline } from "./timeline.ts";

Deno.test("a timeline counts per second of the window, and nothing outside it", () => {
  const window = { startUs: 1_000_000, endUs: 3_000_000 };
  const timeline = new Timeline(window);
  timeline.offer(500_000); // before the window
  timeline.offer(1_000_000);
  timeline.offer(2_999_999);
  timeline.deliver(1_200_000, 10);
  timeline.deliver(3_500_000, 2); // in the drain: its own second
  timeline.latency(1_200_000, 1500, 10);
  timeline.latency(1_000_000 + MAX_TIMELINE_SECONDS * 1e6, 1, 1); // too late
  const seconds = timeline.seconds();
  deepEqual(
    seconds.map((s) => [s.second, s.offered, s.delivered, s.latency.count]),
    [[0, 1, 10, 10], [1, 1, 0, 0], [2, 0, 2, 0]],
  );
  // Per-second histograms keep two significant digits: within 1 %.
  ok(
    Math.abs(seconds[0].latency.p99 - 1.5) <= 0.015,
    `${seconds[0].latency.p99}`,
  );
});

Deno.test("timelines of several workers merge exactly", () => {
  const window = { startUs: 0, endUs: 2e6 };
  const a = new Timeline(window);
  const b = new Timeline(window);
  a.deliver(100, 3);
  a.latency(100, 2000, 3);
  b.deliver(1_500_000, 4);
  b.latency(100, 4000, 1);
  b.offer(10);
  a.merge(b.transfer());
  const [first, second] = a.seconds();
  deepEqual([first.offered, first.delivered, first.latency.count], [1, 3, 4]);
  equal(first.latency.max, 4, "the exact maximum survives the merge");
  equal(second.delivered, 4);
});

Deno.test("the HdrHistogram interval log is one line per second, which HdrHistogram reads back", () => {
  const timeline = new Timeline({ startUs: 0, endUs: 2e6 });
  timeline.latency(10, 1000, 5);
  timeline.latency(1_200_000, 3000, 2);
  const log = timeline.hdrLog(Date.UTC(2026, 11, 1), "a test");
  match(
    log,
    /^#a test\n#\[Histogram log format version 1\.3\]\n#\[StartTime: 1796083200\.000/,
  );
  match(
    log,
    /"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"\n/,
  );
  const reader = new hdr.HistogramLogReader(log);
  const counts: number[] = [];
  for (
    let h = reader.nextIntervalHistogram();
    h;
    h = reader.nextIntervalHistogram()
  ) {
    counts.push(h.totalCount);
  }
  deepEqual(counts, [5, 2]);
});
