import { equal, ok } from "node:assert/strict";
import { RunClock } from "./clock.ts";

Deno.test("the clock counts whole µs from its origin", () => {
  const clock = new RunClock(1000);
  equal(clock.toUs(1000), 0);
  equal(clock.toUs(1002.5), 2500);
  ok(Number.isInteger(clock.nowUs()));
});

Deno.test("a clock rebuilt from its epoch origin reads the same times", () => {
  const clock = new RunClock();
  const copy = RunClock.fromEpoch(clock.originEpochMs);
  ok(Math.abs(copy.originMs - clock.originMs) < 0.001);
  ok(Math.abs(copy.toUs(5000) - clock.toUs(5000)) <= 1);
});
