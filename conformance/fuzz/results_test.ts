import { equal, ok } from "node:assert/strict";
import { TraceRecorder } from "../trace.ts";
import type { FuzzOutcome } from "./fuzz.ts";
import { FUZZ_CASES, fuzzCaseFor } from "./fuzz_cases.ts";
import { fuzzResults } from "./results.ts";
import { decodeSchedule } from "./schedule.ts";

const context = {
  command: "deno task conformance --target 127.0.0.1:7687",
  level: "all" as const,
  verbose: false,
};

Deno.test("every clause the judge names belongs to one fuzz result", () => {
  for (
    const clause of [
      "§1.4",
      "§1.6",
      "§2.1",
      "§2.2",
      "§2.3",
      "§2.4",
      "§2.6",
      "§2.7",
      "§2.9",
      "§2.10",
      "§3.2",
      "§5.2",
    ]
  ) {
    ok(FUZZ_CASES.includes(fuzzCaseFor(clause)), clause);
  }
  equal(new Set(FUZZ_CASES.map((c) => c.id.split(".")[0])).size, 1);
});

Deno.test("a failure fails its clause with the steps, the seed and a replay command", () => {
  const trace = new TraceRecorder();
  trace.note("step 1");
  const steps = [{ do: "join" as const, client: 0, line: "hi" }];
  const outcome: FuzzOutcome = {
    seed: 9,
    runs: 4,
    steps: 40,
    durationMs: 1200,
    outOfTime: false,
    unconfirmed: [],
    received: { lines: 0, lfOnly: 0 },
    failure: {
      steps,
      originalSteps: 12,
      foundAtRun: 4,
      foundAfterMs: 300,
      shrinks: 5,
      shrinkMs: 800,
      reproduced: true,
      execution: {
        mismatches: [{
          clause: "§2.2",
          client: "A",
          message: 'A received its own line "hi" back',
          expected: [],
          received: ["hi"],
        }],
        timedOut: false,
        done: 1,
        trace,
        durationMs: 3,
        received: { lines: 1, lfOnly: 0 },
      },
    },
  };
  const results = fuzzResults(outcome, context);
  const failed = results.filter((r) => r.verdict === "fail");
  equal(failed.length, 1);
  equal(failed[0].id, "fuzz.no-echo");
  equal(failed[0].area, "fuzz");
  equal(failed[0].counted, true);
  ok(failed[0].trace && failed[0].trace.length > 0);
  const messages = failed[0].findings.map((f) => f.message);
  ok(messages.includes('  1. A connects and sends "hi" + LF'));
  const replay = messages.find((m) => m.startsWith("replay: "))!;
  ok(replay.startsWith(`replay: ${context.command} --fuzz --seed 9 --replay `));
  equal(decodeSchedule(replay.split(" ").at(-1)!)[0].do, "join");
  equal(failed[0].measurements.shrunkSteps, 1);
  ok(results.filter((r) => r !== failed[0]).every((r) => r.verdict === "pass"));
});
