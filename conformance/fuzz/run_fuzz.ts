/**
 * The fuzz mode inside a conformance run (`--fuzz`): its settings, the
 * share of the run's bound it takes, and the step from the runner's server
 * to the fuzz area's results.
 *
 * @module
 */

import type { CaseResult, LevelFilter } from "../types.ts";
import { type FuzzServer, fuzzServer } from "./fuzz.ts";
import { FUZZ_CASES } from "./fuzz_cases.ts";
import { fuzzResults } from "./results.ts";
import type { Step } from "./schedule.ts";

/**
 * What `--fuzz`, `--seed`, `--runs`, `--time` and `--replay` ask for.
 *
 * @example
 * ```ts
 * import type { FuzzSettings } from "./run_fuzz.ts";
 * const settings: FuzzSettings = { seed: 42, runs: 200, timeMs: 20_000 };
 * console.log(settings.runs);
 * ```
 */
export interface FuzzSettings {
  /**
   * The generator's seed.
   *
   * @default {a random one, printed}
   */
  seed?: number;
  /**
   * The most schedules to run.
   *
   * @default {500}
   */
  runs?: number;
  /**
   * How long the search may take, in ms (shrinking a failure as long again).
   *
   * @default {30000}
   */
  timeMs?: number;
  /** Run exactly this schedule (`--replay`) instead of searching. */
  replay?: Step[];
}

/**
 * The search's default time: 30 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_FUZZ_TIME_MS } from "./run_fuzz.ts";
 * console.log(DEFAULT_FUZZ_TIME_MS); // 30000
 * ```
 */
export const DEFAULT_FUZZ_TIME_MS = 30_000;

/**
 * The share of the run's bound the fuzz area takes: the search, as long
 * again for shrinking, and 20 s for the last replay and restarts.
 *
 * @example
 * ```ts
 * import { fuzzBudgetMs } from "./run_fuzz.ts";
 * console.log(fuzzBudgetMs({ timeMs: 10_000 })); // 40000
 * ```
 */
export function fuzzBudgetMs(settings: FuzzSettings): number {
  return 2 * (settings.timeMs ?? DEFAULT_FUZZ_TIME_MS) + 20_000;
}

/**
 * Where the fuzz area runs.
 *
 * @example
 * ```ts
 * import type { FuzzEnvironment } from "./run_fuzz.ts";
 * const env: Partial<FuzzEnvironment> = { waitScale: 1, level: "all" };
 * console.log(env.level);
 * ```
 */
export interface FuzzEnvironment {
  /** The server (restartable with `--spawn`). */
  server: FuzzServer;
  /** The command reaching it, for the replay line. */
  command: string;
  /** The timeout scale times the wait scale from the server's latency. */
  waitScale: number;
  /** The run's level filter. */
  level: LevelFilter;
  /** Keep every result's trace. */
  verbose: boolean;
  /** The time (`performance.now()`) by which the area must be done. */
  endAt: number;
  /** Told how many lines the clients received, and how many LF alone. */
  onReceived?: (lines: number, lfOnly: number) => void;
}

/**
 * Runs the fuzz search (or a replay) and returns the fuzz area's results.
 *
 * @example
 * ```ts ignore
 * import { runFuzzArea } from "./run_fuzz.ts";
 * const results = await runFuzzArea({ seed: 1, timeMs: 5000 }, env);
 * console.log(results.map((r) => r.verdict));
 * ```
 */
export async function runFuzzArea(
  settings: FuzzSettings,
  env: FuzzEnvironment,
): Promise<CaseResult[]> {
  const left = env.endAt - performance.now();
  // The search and its shrinking both fit in what is left of the bound.
  const timeMs = Math.max(
    1000,
    Math.min(settings.timeMs ?? DEFAULT_FUZZ_TIME_MS, (left - 20_000) / 2),
  );
  const outcome = await fuzzServer(env.server, {
    seed: settings.seed,
    runs: settings.runs,
    timeMs,
    waitMs: 500 * env.waitScale,
    replay: settings.replay,
  });
  env.onReceived?.(outcome.received.lines, outcome.received.lfOnly);
  return fuzzResults(outcome, {
    command: env.command,
    level: env.level,
    verbose: env.verbose,
  });
}

/**
 * How many results the fuzz area adds to a run.
 *
 * @example
 * ```ts
 * import { FUZZ_RESULT_COUNT } from "./run_fuzz.ts";
 * console.log(FUZZ_RESULT_COUNT); // 7
 * ```
 */
export const FUZZ_RESULT_COUNT = FUZZ_CASES.length;
