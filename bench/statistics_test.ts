import { deepEqual } from "node:assert/strict";
import { linearFit, perSecond, ratio, spread } from "./statistics.ts";

Deno.test("spread: median of an odd and an even count, min and max", () => {
  deepEqual(spread([5, 1, 3]), { median: 3, min: 1, max: 5, count: 3 });
  deepEqual(spread([4, 1, 3, 2]), {
    median: 2.5,
    min: 1,
    max: 4,
    count: 4,
  });
  deepEqual(spread([7]), { median: 7, min: 7, max: 7, count: 1 });
});

Deno.test("spread ignores missing values and is undefined without any", () => {
  deepEqual(spread([NaN, 2, Infinity]), {
    median: 2,
    min: 2,
    max: 2,
    count: 1,
  });
  deepEqual(spread([]), undefined);
});

Deno.test("linearFit recovers a slope exactly from points on a line", () => {
  const xs = [0, 1000, 2000, 5000, 10_000];
  const ys = xs.map((x) => 40_000_000 + 5734 * x);
  const fit = linearFit(xs, ys)!;
  deepEqual(Math.round(fit.slope), 5734);
  deepEqual(Math.round(fit.intercept), 40_000_000);
  deepEqual(fit.r2, 1);
});

Deno.test("linearFit of noisy points: least squares and R² below 1", () => {
  const fit = linearFit([0, 1, 2, 3], [1, 3, 2, 4])!;
  deepEqual(fit.slope, 0.8);
  deepEqual(Math.round(fit.intercept * 100) / 100, 1.3);
  deepEqual(Math.round(fit.r2 * 100) / 100, 0.64);
});

Deno.test("linearFit needs two distinct x values", () => {
  deepEqual(linearFit([1], [2]), undefined);
  deepEqual(linearFit([3, 3], [1, 2]), undefined);
});

Deno.test("perSecond and ratio guard against zero and missing values", () => {
  deepEqual(perSecond(300, 1.5), 200);
  deepEqual(perSecond(300, 0), 0);
  deepEqual(ratio(10, 4), 2.5);
  deepEqual(ratio(10, 0), undefined);
  deepEqual(ratio(undefined, 4), undefined);
  deepEqual(ratio(NaN, 4), undefined);
});
