import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import { negativeValues, parseCount, parseDuration } from "./flag_values.ts";

Deno.test("parseDuration: seconds by default, ms, s and m units", () => {
  deepEqual(
    ["10", "2.5s", "250ms", "1m", "0"].map((v) => parseDuration("--x", v)),
    [10_000, 2500, 250, 60_000, 0],
  );
  throws(() => parseDuration("--x", "soon"), /expected a duration like 10/);
});

Deno.test("parseDuration: a negative or out-of-bounds duration names the range", () => {
  throws(
    () => parseDuration("--drain", "-1s"),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === "--drain: -1s is out of range (0 ms or more)",
  );
  throws(
    () => parseDuration("--drip", "5ms", { minMs: 10, maxMs: 3_600_000 }),
    /^UsageError: --drip: 5ms is out of range \(10 ms to 3600000 ms\)$/,
  );
});

Deno.test("parseCount: a negative number is out of range, not a non-number", () => {
  equal(parseCount("--n", "1_000"), 1000);
  throws(
    () => parseCount("--clients", "-5", { min: 1, max: 100_000 }),
    /^UsageError: --clients: -5 is out of range \(1 to 100000\)$/,
  );
  throws(() => parseCount("--n", "many"), /expected a whole number/);
});

Deno.test("negativeValues joins a negative number to the flag before it, and only there", () => {
  const options = {
    rate: { type: "string" },
    json: { type: "boolean" },
  } as const;
  deepEqual(
    negativeValues(
      ["--rate", "-0.5", "--json", "-5", "--", "--rate", "-1"],
      options,
    ),
    ["--rate=-0.5", "--json", "-5", "--", "--rate", "-1"],
  );
  deepEqual(negativeValues(["--rate", "-x"], options), ["--rate", "-x"]);
  deepEqual(negativeValues(["--rate", ".5"], options), ["--rate", ".5"]);
});
