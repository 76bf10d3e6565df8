/**
 * `deno run -A bench/perf/profile_top.ts FILE.cpuprofile [N]`: the top N
 * functions of a V8 CPU profile (`deno run --cpu-prof`) by self time, as a
 * share of the busy (non-idle) time.
 *
 * Time outside JavaScript and the ops it calls (the event loop polling,
 * and with `Deno.Conn` the reactor's own system calls) counts as idle
 * here; read it beside the process's CPU time (`/proc`, `perf`).
 *
 * ```sh
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof server/main.ts --quiet
 * deno run -A bench/perf/profile_top.ts /tmp/prof/CPU.*.cpuprofile 15
 * ```
 *
 * @module
 */

import { parseInteger, runMain, UsageError } from "../../lib/args.ts";

/** One row of {@linkcode topFunctions}. */
export interface ProfileRow {
  /** `function file:line`. */
  name: string;
  /** Self time in µs. */
  micros: number;
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time per function of a CPU profile, most first; `(idle)` included.
 *
 * @example
 * ```ts
 * import { topFunctions } from "./profile_top.ts";
 * const rows = topFunctions({
 *   nodes: [{ id: 1, callFrame: { functionName: "f", url: "a/b.ts", lineNumber: 3 } }],
 *   samples: [1, 1],
 *   timeDeltas: [5, 7],
 * });
 * console.log(rows[0]); // { name: "f a/b.ts:3", micros: 12 }
 * ```
 */
export function topFunctions(profile: CpuProfile): ProfileRow[] {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  );
  const byName = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").slice(-2).join("/");
    const name = `${functionName || "(anonymous)"} ${file}:${lineNumber}`;
    byName.set(name, (byName.get(name) ?? 0) + (self.get(node.id) ?? 0));
  }
  return [...byName].map(([name, micros]) => ({ name, micros }))
    .sort((a, b) => b.micros - a.micros);
}

const USAGE = `Usage: deno run -A bench/perf/profile_top.ts FILE.cpuprofile [N]

The N functions (default 20) with the most self time in a V8 CPU profile
(deno run --cpu-prof), as shares of the busy (not idle) time.`;

if (import.meta.main) {
  await runMain("linechat perf profile_top", () => {
    const [file, count = "20"] = Deno.args;
    if (file === "--help") return console.log(USAGE);
    if (file === undefined || file.startsWith("-")) {
      throw new UsageError("expected a .cpuprofile file");
    }
    const top = parseInteger("N", count, { min: 1 });
    let profile: CpuProfile;
    try {
      profile = JSON.parse(Deno.readTextFileSync(file));
    } catch (error) {
      throw new Error(
        `cannot read ${file} as a CPU profile: ${(error as Error).message}`,
      );
    }
    const rows = topFunctions(profile);
    const total = rows.reduce((sum, row) => sum + row.micros, 0);
    const idle = rows.find((row) => row.name.startsWith("(idle)"))?.micros ??
      0;
    const busy = total - idle;
    console.log(
      `profiled ${(total / 1e3).toFixed(0)} ms, busy ${
        (busy / 1e3).toFixed(0)
      } ms`,
    );
    for (const row of rows.slice(0, top + 1)) {
      if (row.name.startsWith("(idle)")) continue;
      console.log(
        `${(100 * row.micros / busy).toFixed(1).padStart(5)} %  ${row.name}`,
      );
    }
  });
}
