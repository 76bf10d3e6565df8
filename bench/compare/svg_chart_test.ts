import { equal, match } from "node:assert/strict";
import { barChart, formatTick, lineChart } from "./svg_chart.ts";

Deno.test("formatTick is compact", () => {
  equal(formatTick(0), "0");
  equal(formatTick(950), "950");
  equal(formatTick(1500), "1.5k");
  equal(formatTick(2_090_000), "2.09M");
  equal(formatTick(3e9), "3G");
  equal(formatTick(0.125), "0.125");
});

Deno.test("lineChart: one polyline per series, whiskers, legend, notes", () => {
  const svg = lineChart({
    title: "p99 <ms>",
    xLabel: "clients",
    yLabel: "ms",
    yLog: true,
    series: [
      {
        name: "ours",
        points: [{ x: 10, y: 1 }, { x: 1000, y: 4, min: 3, max: 6 }],
      },
      { name: "other", points: [{ x: 10, y: 2 }], note: "failed at 1k" },
    ],
  });
  match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  match(svg, /<\/svg>\n$/);
  equal(svg.match(/<polyline/g)?.length, 1); // one point draws no line
  equal(svg.match(/<circle/g)?.length, 3);
  match(svg, /p99 &lt;ms&gt;/);
  match(svg, /failed at 1k/);
  // No NaN or Infinity leaks into coordinates.
  equal(/NaN|Infinity/.test(svg), false);
});

Deno.test("lineChart copes with no data at all, on linear and log axes", () => {
  for (const yLog of [false, true]) {
    const svg = lineChart({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      yLog,
      series: [{ name: "failed everywhere", points: [] }],
    });
    equal(/NaN|Infinity/.test(svg), false);
  }
});

Deno.test("barChart draws bars and names failures instead", () => {
  const svg = barChart({
    title: "Delivered",
    xLabel: "lines/s",
    bars: [
      { label: "ours", value: 2e6, min: 1.9e6, max: 2.1e6 },
      { label: "book", value: 2e5 },
      { label: "selectors", failed: "stalled" },
    ],
  });
  equal(svg.match(/<rect /g)?.length, 3); // background and two bars
  match(svg, /✗ stalled/);
  match(svg, />2M</);
  equal(/NaN|Infinity/.test(svg), false);
});
