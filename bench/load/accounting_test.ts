import { deepEqual, equal } from "node:assert/strict";
import {
  DeliveryTally,
  DUPLICATE,
  GapBudget,
  IN_ORDER,
  REORDERED,
  SequenceTracker,
} from "./accounting.ts";

Deno.test("a line after the highest seen is in order, even across a gap", () => {
  const seen = new SequenceTracker(2, new GapBudget());
  deepEqual([0, 1, 5, 0].map((seq) => seen.see(1, seq)), [
    IN_ORDER,
    IN_ORDER,
    IN_ORDER,
    DUPLICATE,
  ]);
  equal(seen.high[1], 5);
  equal(seen.high[0], -1);
});

Deno.test("a line that fills a gap is reordered, and only once", () => {
  const budget = new GapBudget();
  const seen = new SequenceTracker(1, budget);
  seen.see(0, 3);
  equal(budget.left, 1_000_000 - 3);
  deepEqual([1, 1, 2, 0].map((seq) => seen.see(0, seq)), [
    REORDERED,
    DUPLICATE,
    REORDERED,
    REORDERED,
  ]);
  equal(budget.left, 1_000_000);
});

Deno.test("past the gap budget a late line counts as a duplicate", () => {
  const seen = new SequenceTracker(1, new GapBudget(2));
  seen.see(0, 10);
  equal(seen.see(0, 4), DUPLICATE);
});

Deno.test("merged tallies equal one tally that saw everything", () => {
  const one = new DeliveryTally(2);
  const parts = [new DeliveryTally(2), new DeliveryTally(2)];
  for (let i = 0; i < 1000; i++) {
    for (const tally of [one, parts[i % 2]]) {
      tally.delivered++;
      tally.bySender[i % 3 === 0 ? 0 : 1]++;
      if (i % 10 === 0) tally.duplicated++;
      if (i % 50 === 0) tally.windowDelivered++;
      tally.lastDeliveryUs = Math.max(tally.lastDeliveryUs, i * 3);
      tally.corrected.record(100 + i * 17);
      tally.uncorrected.record(50 + i * 11);
    }
  }
  parts[0].merge(parts[1]);
  deepEqual(parts[0].summary(), one.summary());
  deepEqual([...parts[0].bySender], [...one.bySender]);
});
