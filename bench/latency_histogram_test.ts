import { deepEqual } from "node:assert/strict";
import { LatencyHistogram } from "./latency_histogram.ts";

/** Whether `actual` is within HDR's 3-significant-digit precision. */
function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= Math.max(0.001, expected * 0.002);
}

Deno.test("percentiles of 1..10000 µs are where they should be", () => {
  const histogram = new LatencyHistogram();
  for (let us = 1; us <= 10_000; us++) histogram.record(us);
  const summary = histogram.summary();
  deepEqual(summary.count, 10_000);
  for (
    const [value, expected] of [
      [summary.p50, 5],
      [summary.p90, 9],
      [summary.p99, 9.9],
      [summary.p999, 9.99],
      [summary.max, 10],
      [summary.mean, 5.0005],
    ] as const
  ) {
    deepEqual(near(value, expected), true, `${value} vs ${expected}`);
  }
});

Deno.test("an empty histogram summarises to zeros", () => {
  deepEqual(new LatencyHistogram().summary(), {
    count: 0,
    mean: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    p999: 0,
    max: 0,
  });
});

Deno.test("recordMany equals recording one at a time", () => {
  const one = new LatencyHistogram();
  const many = new LatencyHistogram();
  for (let i = 0; i < 50; i++) one.record(300);
  for (let i = 0; i < 50; i++) one.record(7000);
  many.recordMany(300, 50);
  many.recordMany(7000, 50);
  many.recordMany(5, 0); // nothing
  deepEqual(many.summary(), one.summary());
});

Deno.test("values below 1 µs count as 1 µs, above the limit as the limit", () => {
  const histogram = new LatencyHistogram({ highestUs: 1_000_000 });
  histogram.record(-3);
  histogram.record(0.2);
  histogram.record(5_000_000);
  deepEqual(histogram.count, 3);
  deepEqual(histogram.clamped, 1);
  deepEqual(histogram.percentileUs(0), 1);
  deepEqual(near(histogram.summary().max, 1000), true);
});

Deno.test("add merges two histograms", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  a.recordMany(1000, 99);
  b.record(50_000);
  a.add(b);
  const summary = a.summary();
  deepEqual(summary.count, 100);
  deepEqual(near(summary.p50, 1), true);
  deepEqual(near(summary.max, 50), true);
});

Deno.test("encode gives HdrHistogram's compressed base64 form", () => {
  const histogram = new LatencyHistogram();
  histogram.record(123);
  deepEqual(/^[A-Za-z0-9+/]+=*$/.test(histogram.encode()), true);
});

Deno.test("a histogram posted as transfer() and rebuilt merges exactly", () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all = new LatencyHistogram();
  for (let us = 1; us <= 5000; us++) {
    (us % 3 === 0 ? a : b).record(us * 7);
    all.record(us * 7);
  }
  const merged = LatencyHistogram.fromTransfer(a.transfer());
  merged.add(LatencyHistogram.fromTransfer(b.transfer()));
  deepEqual(merged.summary(), all.summary());
  deepEqual(
    LatencyHistogram.fromTransfer(new LatencyHistogram().transfer()).summary(),
    new LatencyHistogram().summary(),
  );
});
