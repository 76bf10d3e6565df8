/**
 * The fuzz mode's command-line flags: `--fuzz`, `--seed`, `--runs`,
 * `--time` and `--replay`, for `conformance/main.ts`.
 *
 * @module
 */

import { parseInteger, UsageError } from "../../lib/args.ts";
import { parseDuration } from "../duration.ts";
import type { FuzzSettings } from "./run_fuzz.ts";
import { decodeSchedule } from "./schedule.ts";

/**
 * The fuzz flags' definitions, to spread into `parseFlags`' options.
 *
 * @example
 * ```ts
 * import { FUZZ_FLAGS } from "./flags.ts";
 * console.log(Object.keys(FUZZ_FLAGS)); // [ "fuzz", "seed", "runs", "time", "replay" ]
 * ```
 */
export const FUZZ_FLAGS = {
  fuzz: { type: "boolean", default: false },
  seed: { type: "string" },
  runs: { type: "string" },
  time: { type: "string" },
  replay: { type: "string" },
} as const;

/**
 * The fuzz flags' part of `--help`.
 *
 * @example
 * ```ts
 * import { FUZZ_USAGE } from "./flags.ts";
 * console.log(FUZZ_USAGE.includes("--replay")); // true
 * ```
 */
export const FUZZ_USAGE = `Fuzzing:
  --fuzz                  random schedules (joins, sends cut every way, leaves by close,
                          half-close or reset, mid-line or not, pauses) checked against a
                          model of the protocol; a failure is shrunk and printed with a
                          replay command. Alone it runs instead of the cases (with --only,
                          after them); its results are the area 'fuzz'
  --seed N                the generator's seed (default: random, printed)
  --runs N                the most schedules to run (default 500)
  --time DURATION         how long the search may take (default 30s); shrinking as long again
  --replay SCHEDULE|FILE  run exactly this schedule (as printed after 'replay:'), once`;

/**
 * The fuzz settings the parsed flags ask for, or undefined without
 * `--fuzz`; throws `UsageError` with a one-line reason.
 *
 * @example
 * ```ts
 * import { fuzzSettings } from "./flags.ts";
 * console.log(fuzzSettings({ fuzz: true, seed: "7", time: "10s" })); // { seed: 7, runs: undefined, timeMs: 10000, replay: undefined }
 * ```
 */
export function fuzzSettings(values: {
  fuzz: boolean;
  seed?: string;
  runs?: string;
  time?: string;
  replay?: string;
}): FuzzSettings | undefined {
  if (!values.fuzz) {
    for (const flag of ["seed", "runs", "time", "replay"] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag} goes with --fuzz`);
      }
    }
    return undefined;
  }
  let replay;
  if (values.replay !== undefined) {
    let text = values.replay;
    try {
      text = Deno.readTextFileSync(values.replay);
    } catch {
      // Not a file: the schedule itself.
    }
    try {
      replay = decodeSchedule(text);
    } catch (error) {
      throw new UsageError(`--replay: ${(error as Error).message}`);
    }
  }
  return {
    seed: values.seed === undefined
      ? undefined
      : parseInteger("--seed", values.seed, { max: 2 ** 31 - 1 }),
    runs: values.runs === undefined
      ? undefined
      : parseInteger("--runs", values.runs, { min: 1, max: 10_000_000 }),
    timeMs: values.time === undefined
      ? undefined
      : parseDuration("--time", values.time),
    replay,
  };
}
