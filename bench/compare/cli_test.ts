import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../../lib/args.ts";
import { usageError } from "../_testing.ts";
import { parseCompareArgs } from "./cli.ts";
import { WORKLOADS } from "./workloads.ts";

Deno.test("parseCompareArgs: defaults, and --quick", () => {
  const full = parseCompareArgs([]);
  deepEqual(
    [full.quick, full.rounds, full.servers, full.wait, full.out],
    [false, 3, [], true, undefined],
  );
  equal(full.workloads, WORKLOADS);
  const quick = parseCompareArgs(["--quick", "--servers", "ours, ncat"]);
  deepEqual([quick.rounds, quick.servers, quick.wait], [
    1,
    ["ours", "ncat"],
    false,
  ]);
  deepEqual(
    parseCompareArgs(["--workloads", "idle,saturation"]).workloads.map((w) =>
      w.id
    ),
    ["saturation", "idle"],
  );
  equal(parseCompareArgs(["--no-wait"]).wait, false);
});

const failure = (args: string[]) => usageError(parseCompareArgs, args);

Deno.test("parseCompareArgs: every mistake is one line naming the flag", () => {
  deepEqual(
    [
      ["--bogus"],
      ["--rounds", "-1"],
      ["--rounds", "0"],
      ["--rounds", "many"],
      ["--servers", "nope"],
      ["--workloads", "nope"],
      ["extra"],
    ].map(failure),
    [
      "Unknown option '--bogus'",
      "--rounds: -1 is out of range (1 to 100)",
      "--rounds: 0 is out of range (1 to 100)",
      '--rounds: expected a whole number, got "many"',
      '--servers: unknown server "nope" (known: ours, ours-ws, ours-tls, ours-deno, ours-2-nodes, book, asyncnet, selectors, ncat)',
      '--workloads: unknown "nope" (have: saturation, latency, scaling, idle, slow-consumer)',
      'unexpected argument "extra"',
    ],
  );
  throws(() => parseCompareArgs(["--quick=yes"]), UsageError);
  equal(parseCompareArgs(["-h"]).help, true);
});
