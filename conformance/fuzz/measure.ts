/**
 * Measures the fuzz mode against every single-fault server of
 * `conformance/faulty/`: for each, runs `deno task conformance --spawn
 * "deno run -A conformance/faulty/main.ts --fault NAME --port {port}"
 * --fuzz --seed S --time T` and prints a Markdown table: whether fuzzing
 * alone found the fault, which fuzz clause, how long it took to find,
 * and how long the shrunk schedule is.
 *
 * `deno run -A conformance/fuzz/measure.ts [--seed 1] [--time 10s] [NAME ...]`
 *
 * @module
 */

import { parseFlags, runMain } from "../../lib/args.ts";
import { FAULT_NAMES } from "../faulty/faults.ts";
import type { Report } from "../types.ts";

/**
 * One faulty server's row of the table.
 *
 * @example
 * ```ts
 * import { measureRow } from "./measure.ts";
 * console.log(measureRow({ fault: "echo", found: "fuzz.no-echo", foundAfterMs: 12, shrunkSteps: 0, originalSteps: 14, wallMs: 3000 }));
 * // | `echo` | yes: `fuzz.no-echo` | 12 ms | 14 → 0 | 3.0 s |
 * ```
 */
export function measureRow(row: {
  fault: string;
  found?: string;
  foundAfterMs?: number;
  shrunkSteps?: number;
  originalSteps?: number;
  wallMs: number;
  note?: string;
}): string {
  const ms = (n: number) =>
    n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;
  return row.found === undefined
    ? `| \`${row.fault}\` | no${row.note ? ` (${row.note})` : ""} | | | ${
      ms(row.wallMs)
    } |`
    : `| \`${row.fault}\` | yes: \`${row.found}\` | ${
      ms(row.foundAfterMs ?? 0)
    } | ${row.originalSteps} → ${row.shrunkSteps} | ${ms(row.wallMs)} |`;
}

async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      seed: { type: "string", default: "1" },
      time: { type: "string", default: "10s" },
    },
  });
  const faults = positionals.length > 0 ? positionals : FAULT_NAMES;
  console.log(
    "| faulty server | found by fuzzing alone | time to find | steps found → shrunk | wall time |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const fault of faults) {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    const t0 = performance.now();
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "conformance/main.ts",
        "--spawn",
        `deno run -A conformance/faulty/main.ts --fault ${fault} --port {port}`,
        "--fuzz",
        "--seed",
        values.seed,
        "--time",
        values.time,
        "--format",
        "json",
        "--out",
        out,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    const wallMs = performance.now() - t0;
    let report: Report | undefined;
    try {
      report = JSON.parse(await Deno.readTextFile(out));
    } catch {
      // No report: the harness could not run.
    }
    await Deno.remove(out).catch(() => {});
    // The clause the shrunk schedule fails (it carries the measurements).
    const failed = report?.cases.find((c) =>
      c.measurements.shrunkSteps !== undefined
    ) ?? report?.cases.find((c) => c.verdict !== "pass");
    console.log(measureRow({
      fault,
      found: failed?.id,
      foundAfterMs: Number(failed?.measurements.foundAfterMs ?? 0),
      shrunkSteps: Number(failed?.measurements.shrunkSteps ?? 0),
      originalSteps: Number(failed?.measurements.originalSteps ?? 0),
      wallMs,
      note: report === undefined
        ? `harness exit ${run.code}: ${
          new TextDecoder().decode(run.stderr).trim().split("\n").at(-1)
        }`
        : undefined,
    }));
  }
}

if (import.meta.main) await runMain("fuzz-measure", () => main(Deno.args));
