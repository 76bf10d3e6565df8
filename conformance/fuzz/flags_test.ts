import { deepEqual, equal, throws } from "node:assert/strict";
import { fuzzSettings } from "./flags.ts";
import { encodeSchedule } from "./schedule.ts";

Deno.test("without --fuzz there are no fuzz settings, and its flags are refused", () => {
  equal(fuzzSettings({ fuzz: false }), undefined);
  throws(
    () => fuzzSettings({ fuzz: false, seed: "1" }),
    /--seed goes with --fuzz/,
  );
});

Deno.test("--seed, --runs and --time are parsed strictly", () => {
  deepEqual(fuzzSettings({ fuzz: true, seed: "5", runs: "1k", time: "2m" }), {
    seed: 5,
    runs: 1024,
    timeMs: 120_000,
    replay: undefined,
  });
  throws(() => fuzzSettings({ fuzz: true, time: "soon" }), /--time/);
  throws(() => fuzzSettings({ fuzz: true, runs: "0" }), /--runs/);
});

Deno.test("--replay takes the printed encoding or a file holding it", async () => {
  const steps = [{ do: "pause" as const, client: 0 }];
  const text = encodeSchedule(steps);
  deepEqual(fuzzSettings({ fuzz: true, replay: text })?.replay, steps);
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, text + "\n");
    deepEqual(fuzzSettings({ fuzz: true, replay: file })?.replay, steps);
  } finally {
    await Deno.remove(file);
  }
  throws(() => fuzzSettings({ fuzz: true, replay: "garbage!" }), /--replay/);
});
