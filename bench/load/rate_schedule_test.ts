import { deepEqual, equal, ok } from "node:assert/strict";
import { usageError } from "../_testing.ts";
import { formatRate, parseRate, RateSchedule } from "./rate_schedule.ts";

Deno.test("a fixed rate: line k is due at k / rate, as it always was", () => {
  const schedule = new RateSchedule(parseRate("200"));
  deepEqual([0, 1, 10].map((k) => schedule.dueMs(k)), [0, 5, 50]);
  deepEqual([-1, 0, 4.9, 5, 51].map((t) => schedule.dueBy(t)), [
    0,
    1,
    1,
    2,
    11,
  ]);
  equal(schedule.firstPeriodMs, 5);
});

Deno.test("a linear ramp holds the first rate through the warm-up, climbs, then holds the second", () => {
  // 100 lines/s for 1 s, then 100 → 300 over 2 s (400 lines), then 300.
  const schedule = new RateSchedule(parseRate("100:300:2s"), 1000);
  deepEqual(
    [0, 1000, 2000, 3000, 4000].map((t) => schedule.rateAt(t)),
    [100, 100, 200, 300, 300],
  );
  equal(schedule.dueBy(999), 100);
  equal(schedule.dueBy(3000), 501);
  equal(schedule.dueBy(4000), 801);
  // dueMs and dueBy agree on every line.
  for (let k = 0; k < 900; k += 7) {
    const t = schedule.dueMs(k);
    equal(schedule.dueBy(t), k + 1, `line ${k} at ${t} ms`);
    ok(schedule.dueBy(t - 0.01) <= k, `line ${k} not due before ${t} ms`);
  }
});

Deno.test("a ramp in steps: equal steps from the first rate to the second", () => {
  const schedule = new RateSchedule(parseRate("100:400:3s:4"));
  deepEqual(
    [0, 800, 1600, 2300, 5000].map((t) => schedule.rateAt(t)),
    [100, 200, 300, 400, 400],
  );
  // 750 ms at each of 100, 200, 300 and 400 lines/s: 750 lines.
  equal(schedule.dueBy(3000), 751);
});

Deno.test("--rate: forms and mistakes", () => {
  deepEqual(parseRate("0"), { from: 0, to: 0, overMs: 0, steps: 0 });
  deepEqual(parseRate("10:1000:1m"), {
    from: 10,
    to: 1000,
    overMs: 60_000,
    steps: 0,
  });
  equal(formatRate(parseRate("100:1000:10s:5")), "100:1000:10000ms:5");
  equal(formatRate(parseRate("7")), "7");
  const fail = (value: string) => usageError(() => parseRate(value), [value]);
  equal(fail("-5"), '--rate: expected a number from 0 to 1000000, got "-5"');
  equal(
    fail("0:100:1s"),
    `--rate: a ramp's rates must be above 0 (0 is the closed loop), got "0:100:1s"`,
  );
  equal(
    fail("1:2"),
    '--rate: expected R or FROM:TO:T[:STEPS] (e.g. 100:1000:10s), got "1:2"',
  );
  equal(
    fail("1:2:3s:1"),
    '--rate: STEPS must be a whole number from 2 to 1000, got "1"',
  );
});
