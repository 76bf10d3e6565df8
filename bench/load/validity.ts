/**
 * Whether a run's numbers can be trusted, and what to know about them:
 * {@linkcode judgeRun} sorts what the window's readings show into
 * _invalid_ (the numbers would be wrong: exit status 3) and _warnings_
 * (they are right but noisy, or near a limit: printed with the reason,
 * exit status unchanged). Every threshold is here, named, and documented
 * in docs/load.md.
 *
 * | reading                                   | warning above                         | invalid above                                    |
 * | ----------------------------------------- | ------------------------------------- | ------------------------------------------------ |
 * | the generator's busiest thread            | {@linkcode GENERATOR_CPU_WARN} (0.75) | `--max-cpu` (0.9) of a core                      |
 * | send lag p99 (open loop)                  | {@linkcode LAG_WARN_MS} (5 ms) and ¼ of the p99 | `--max-lag-ms` (20 ms) and ½ of the p99 |
 * | other processes' CPU (server measured)    | {@linkcode OTHER_CPU_WARN} (0.25 cores) | `--max-other-cpu` (1 core)                     |
 * | the whole machine busy                    | {@linkcode MACHINE_BUSY_WARN} (95 %)  | –                                                |
 * | R² of the memory-per-connection fit       | below {@linkcode RSS_FIT_MIN_R2} (0.9) | –                                               |
 *
 * @module
 */

/**
 * The busiest generator thread above this share of a core is a warning:
 * near the limit `--max-cpu` sets.
 *
 * @example
 * ```ts
 * import { GENERATOR_CPU_WARN } from "./validity.ts";
 * console.log(GENERATOR_CPU_WARN); // 0.75
 * ```
 */
export const GENERATOR_CPU_WARN = 0.75;

/**
 * A send lag p99 above this (and above a quarter of the measured p99) is
 * a warning: the latency includes that much of the generator's own
 * lateness. Timers alone are 1 to 4 ms late on a busy machine.
 *
 * @example
 * ```ts
 * import { LAG_WARN_MS } from "./validity.ts";
 * console.log(LAG_WARN_MS); // 5
 * ```
 */
export const LAG_WARN_MS = 5;

/**
 * Other processes using more than this many cores during the window is
 * a warning (the figures are noisy), as `deno task compare` waits for
 * before each run.
 *
 * @example
 * ```ts
 * import { OTHER_CPU_WARN } from "./validity.ts";
 * console.log(OTHER_CPU_WARN); // 0.25
 * ```
 */
export const OTHER_CPU_WARN = 0.25;

/**
 * The machine's cores busier than this share during the window is a
 * warning: the generator and the server competed for CPU, so a closed
 * loop measured the machine, not the server alone.
 *
 * @example
 * ```ts
 * import { MACHINE_BUSY_WARN } from "./validity.ts";
 * console.log(MACHINE_BUSY_WARN); // 0.95
 * ```
 */
export const MACHINE_BUSY_WARN = 0.95;

/**
 * A memory-per-connection fit with R² below this is a warning: the RSS
 * did not grow in step with the clients (garbage collection, allocator
 * arenas), so the slope is a poor estimate.
 *
 * @example
 * ```ts
 * import { RSS_FIT_MIN_R2 } from "./validity.ts";
 * console.log(RSS_FIT_MIN_R2); // 0.9
 * ```
 */
export const RSS_FIT_MIN_R2 = 0.9;

/** The limits past which a run is invalid (flags of `deno task load`). */
export interface ValidityLimits {
  /** `--max-cpu`: the busiest generator thread's share of a core. */
  maxCpu: number;
  /** `--max-lag-ms`: the send lag p99, ms (and half the measured p99). */
  maxLagMs: number;
  /** `--max-other-cpu`: cores other processes may use. */
  maxOtherCpu: number;
}

/**
 * The limits' defaults.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "./validity.ts";
 * console.log(DEFAULT_LIMITS); // { maxCpu: 0.9, maxLagMs: 20, maxOtherCpu: 1 }
 * ```
 */
export const DEFAULT_LIMITS: Readonly<ValidityLimits> = {
  maxCpu: 0.9,
  maxLagMs: 20,
  maxOtherCpu: 1,
};

/** What {@linkcode judgeRun} looks at. */
export interface ValidityInputs {
  /** Whether the window was read at both edges (else nothing is judged). */
  sampled: boolean;
  /** Open loop (a rate) or closed loop. */
  openLoop: boolean;
  /** The generator's threads. */
  workers: number;
  /** The busiest generator thread: its name and busy share of a core. */
  busiest: { name: string; busy: number };
  /** Send lag p99, ms. */
  lagP99Ms: number;
  /** Measured (corrected) p99, ms. */
  p99Ms: number;
  /** Cores other processes used (null: unknown or no server measured). */
  otherCpu: number | null;
  /** The machine's busy cores and its cores (null: unknown). */
  machine: { busyCores: number; cores: number } | null;
  /** The memory-per-connection fit (null: none). */
  rssFit: { r2: number; samples: number; slopeBytes: number } | null;
}

/** What a run's readings say about its numbers. */
export interface Verdict {
  /** Why the numbers would be wrong (exit status 3). */
  invalid: string[];
  /** What to know about them, with the reason. */
  warnings: string[];
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/**
 * Judges a run's readings against the limits.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS, judgeRun } from "./validity.ts";
 * const verdict = judgeRun({
 *   sampled: true, openLoop: true, workers: 1,
 *   busiest: { name: "main thread", busy: 0.5 },
 *   lagP99Ms: 5.69, p99Ms: 9, otherCpu: 0.28, machine: null, rssFit: null,
 * }, DEFAULT_LIMITS);
 * console.log(verdict.invalid.length, verdict.warnings.length); // 0 2
 * ```
 */
export function judgeRun(
  inputs: ValidityInputs,
  limits: ValidityLimits,
): Verdict {
  const invalid: string[] = [];
  const warnings: string[] = [];
  const fit = inputs.rssFit;
  if (fit && fit.samples >= 3 && fit.r2 < RSS_FIT_MIN_R2) {
    warnings.push(
      `memory per connection is a poor fit (R² ${
        fit.r2.toFixed(2)
      } < ${RSS_FIT_MIN_R2} over ${fit.samples} samples): the RSS did not ` +
        "grow in step with the clients, so the slope is a rough estimate",
    );
  }
  if (!inputs.sampled) return { invalid, warnings };
  const { busiest } = inputs;
  if (busiest.busy > limits.maxCpu) {
    invalid.push(
      `the generator was the limit: its busiest thread (${busiest.name}) was ${
        percent(busiest.busy)
      } busy (> ${percent(limits.maxCpu)})` +
        (inputs.workers === 1 ? "; --workers N spreads it over threads" : ""),
    );
  } else if (busiest.busy > GENERATOR_CPU_WARN) {
    warnings.push(
      `the generator is near its limit: its busiest thread (${busiest.name}) was ${
        percent(busiest.busy)
      } busy (over ${percent(GENERATOR_CPU_WARN)}; invalid over ${
        percent(limits.maxCpu)
      })`,
    );
  }
  const lag = inputs.lagP99Ms;
  if (inputs.openLoop) {
    if (lag > limits.maxLagMs && lag > inputs.p99Ms / 2) {
      invalid.push(
        `the generator fell behind its schedule (send lag p99 ${lag} ms, ` +
          `over ${limits.maxLagMs} ms and over half the measured p99 ${inputs.p99Ms} ms): ` +
          "the latency is mostly its own",
      );
    } else if (lag > LAG_WARN_MS && lag > inputs.p99Ms / 4) {
      warnings.push(
        `the generator's send lag p99 was ${lag} ms (over ${LAG_WARN_MS} ms and ` +
          `a quarter of the measured p99 ${inputs.p99Ms} ms): the latency ` +
          "includes up to that much of its own lateness",
      );
    }
  }
  const other = inputs.otherCpu;
  if (other !== null) {
    if (other > limits.maxOtherCpu) {
      invalid.push(
        `other processes used ${other.toFixed(2)} cores during the window ` +
          `(> ${limits.maxOtherCpu}): they took the CPU being measured`,
      );
    } else if (other > OTHER_CPU_WARN) {
      warnings.push(
        `other processes used ${other.toFixed(2)} cores during the window ` +
          `(over ${OTHER_CPU_WARN}; invalid over ${limits.maxOtherCpu}): ` +
          "the figures may be noisy",
      );
    }
  }
  const machine = inputs.machine;
  if (machine && machine.busyCores / machine.cores > MACHINE_BUSY_WARN) {
    warnings.push(
      `the machine's ${machine.cores} cores were ${
        percent(machine.busyCores / machine.cores)
      } busy during the window: the generator and the server competed for ` +
        "CPU, so the figures are this machine's, not the server's alone",
    );
  }
  return { invalid, warnings };
}
