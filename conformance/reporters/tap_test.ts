import { equal, ok } from "node:assert/strict";
import { everyVerdictReport } from "../_fixtures.ts";
import { formatTap } from "./tap.ts";

Deno.test("TAP 13: a plan, one point per case, SKIP directives, YAML blocks for failures", () => {
  const tap = formatTap(everyVerdictReport());
  const lines = tap.trimEnd().split("\n");
  equal(lines[0], "TAP version 13");
  equal(lines[1], "1..7");
  const points = lines.filter((l) => /^(not )?ok \d+ /.test(l));
  equal(points.length, 7);
  equal(points.filter((l) => l.startsWith("not ok")).length, 4);
  ok(points[3].includes("# SKIP needs --max-clients N"));
  ok(points.every((l, i) => l.includes(` ${i + 1} - `)), "numbered in order");
  equal(lines.filter((l) => l === "  ---").length, 4);
  equal(lines.filter((l) => l === "  ...").length, 4);
  ok(
    !points[1].slice(points[1].indexOf(" - ")).includes("#"),
    "no accidental directive",
  );
});
