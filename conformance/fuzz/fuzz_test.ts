import { deepEqual, equal, ok } from "node:assert/strict";
import { faultyFuzzServer } from "./_fixtures.ts";
import { fuzzServer } from "./fuzz.ts";
import { fuzzCaseFor } from "./fuzz_cases.ts";

// Real sockets and an in-process server: the sanitizers would see the
// server's own timers and connections.
const options = { sanitizeOps: false, sanitizeResources: false };

/** Fuzzes faulty server `name` with a fixed seed, bounded in time. */
async function fuzzFault(name: string, seed: number, timeMs = 8000) {
  const server = faultyFuzzServer(name);
  try {
    return await fuzzServer(server, { seed, runs: 300, timeMs });
  } finally {
    await server.stop();
  }
}

Deno.test({
  name: "fuzzing the correct server finds nothing (bounded run)",
  ...options,
  async fn() {
    const outcome = await fuzzFault("correct", 11, 4000);
    equal(outcome.failure, undefined);
    ok(outcome.runs >= 20, `only ${outcome.runs} schedules ran`);
    ok(outcome.durationMs < 10_000);
  },
});

for (
  const [fault, id] of [
    ["drop_after_quick_leaves", "fuzz.recipients"],
    ["mute_after_reconnects", "fuzz.recipients"],
  ] as const
) {
  Deno.test({
    name: `fuzzing alone finds the sequence-only fault ${fault} and shrinks it`,
    ...options,
    async fn() {
      const outcome = await fuzzFault(fault, 1);
      const failure = outcome.failure;
      ok(failure, `${fault} not found in ${outcome.runs} schedules`);
      equal(fuzzCaseFor(failure.execution.mismatches[0].clause).id, id);
      ok(failure.steps.length <= failure.originalSteps);
      // It takes reconnects or departures: a schedule of steps, not none.
      ok(failure.steps.some((s) => s.do === "leave"));
    },
  });
}

Deno.test({
  name: "fuzzing finds a partial line relayed at close, shrunk to a few steps",
  ...options,
  async fn() {
    const outcome = await fuzzFault("partial_at_close", 3);
    const failure = outcome.failure!;
    equal(failure.execution.mismatches[0].clause, "§1.6");
    ok(failure.steps.length <= 4, `${failure.steps.length} steps`);
    ok(failure.reproduced);
  },
});

Deno.test({
  name: "a replay runs exactly the schedule given, once",
  ...options,
  async fn() {
    const steps = [
      { do: "join" as const, client: 0, line: "" },
      { do: "leave" as const, client: 0, how: "close" as const, tail: "x" },
    ];
    const server = faultyFuzzServer("partial_at_close");
    try {
      const failed = await fuzzServer(server, { replay: steps });
      equal(failed.runs, 1);
      deepEqual(failed.failure?.steps, steps);
      equal(failed.failure?.execution.mismatches[0].clause, "§1.6");
    } finally {
      await server.stop();
    }
    const correct = faultyFuzzServer("correct");
    try {
      equal((await fuzzServer(correct, { replay: steps })).failure, undefined);
    } finally {
      await correct.stop();
    }
  },
});
