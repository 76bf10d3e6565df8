import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import { parseConformanceArgs } from "./main.ts";

Deno.test("flags: targets repeat, globs split on commas, numbers take suffixes", () => {
  const args = parseConformanceArgs([
    "--target",
    "127.0.0.1:1",
    "--target",
    "127.0.0.1:2",
    "--only",
    "relay.*,framing.nul",
    "--skip",
    "limits",
    "--max-line-bytes",
    "1m",
    "--timeout-scale",
    "2.5",
    "-v",
  ]);
  deepStrictEqual(args.options.targets, ["127.0.0.1:1", "127.0.0.1:2"]);
  deepStrictEqual(args.options.only, ["relay.*", "framing.nul"]);
  deepStrictEqual(args.options.skip, ["limits"]);
  equal(args.options.maxLineBytes, 1024 * 1024);
  equal(args.options.timeoutScale, 2.5);
  equal(args.options.verbose, true);
  equal(args.options.level, "all");
  equal(args.options.clients, 500);
  equal(args.format, "pretty");
});

Deno.test("bad command lines are usage errors with one-line reasons", () => {
  const bad = [
    [[], /no target/],
    [["--target", "x:1", "--spawn", "s {port}"], /not both/],
    [["--spawn", "no placeholder"], /must contain \{port\}/],
    [["--target", "x:1", "--level", "may"], /--level/],
    [["--target", "x:1", "--format", "xml"], /--format/],
    [["--target", "x:1", "--clients", "lots"], /--clients/],
    [["--target", "x:1", "--bogus"], /Unknown option/],
    [["--target", "x:1", "stray"], /unexpected argument/],
  ] as const;
  for (const [argv, message] of bad) {
    throws(
      () => parseConformanceArgs([...argv]),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("--list and --help need no target", () => {
  equal(parseConformanceArgs(["--list"]).list, true);
  equal(parseConformanceArgs(["-h"]).help, true);
});
