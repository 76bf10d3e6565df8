/**
 * The fuzz search: fast-check generates schedules from a seed and runs
 * each against the server until one breaks the model, `runs` are done or
 * the time is up; then it shrinks the failing schedule (fewer steps,
 * shorter lines, simpler cuts) for as long again, and the smallest that
 * still fails is replayed once more, on a fresh server when the harness
 * spawned it, for its trace. A failure whose only evidence is a wait that
 * ran out is run again with longer waits before it counts, so a loaded
 * machine does not make a correct server fail.
 *
 * @module
 */

import fc from "fast-check";
import type { Target } from "../../lib/args.ts";
import { schedule } from "./arbitraries.ts";
import { executeSchedule, type Execution } from "./execute.ts";
import type { Mismatch } from "./judge.ts";
import { applicableSteps } from "./model.ts";
import { fuzzCaseFor } from "./fuzz_cases.ts";
import type { Step } from "./schedule.ts";

/**
 * The server a fuzz run talks to, and with `--spawn` how to restart it:
 * a schedule that failed, or crashed it, is followed by a fresh one, so
 * that what it left behind does not make the next one fail.
 *
 * @example
 * ```ts
 * import type { FuzzServer } from "./fuzz.ts";
 * const server: FuzzServer = { target: () => ({ hostname: "127.0.0.1", port: 7687 }) };
 * console.log(server.target().port); // 7687
 * ```
 */
export interface FuzzServer {
  /** Where it listens now. */
  target(): Target;
  /** Whether it still runs (undefined: not known, it was not spawned). */
  alive?(): boolean;
  /** Starts it afresh; absent when the harness did not start it. */
  restart?(): Promise<void>;
}

/**
 * Options for {@linkcode fuzzServer}.
 *
 * @example
 * ```ts
 * import type { FuzzOptions } from "./fuzz.ts";
 * const options: FuzzOptions = { seed: 42, runs: 100, timeMs: 20_000 };
 * console.log(options.seed);
 * ```
 */
export interface FuzzOptions {
  /**
   * The seed of the generator: the same seed gives the same schedules.
   *
   * @default {a random one}
   */
  seed?: number;
  /**
   * The most schedules to try.
   *
   * @default {500}
   */
  runs?: number;
  /**
   * How long the search may go on, in ms; shrinking a failure may take as
   * long again.
   *
   * @default {30000}
   */
  timeMs?: number;
  /**
   * The most steps in a schedule.
   *
   * @default {40}
   */
  maxSteps?: number;
  /**
   * The most a wait for lines may take, in ms (a failure that only waited
   * out is confirmed with 4 times it).
   *
   * @default {500}
   */
  waitMs?: number;
  /** Run exactly this schedule, once, instead of searching. */
  replay?: Step[];
  /** Called after each schedule with the count so far. */
  onRun?: (runs: number, failed: boolean) => void;
}

/**
 * A failing schedule, shrunk.
 *
 * @example
 * ```ts
 * import type { FuzzFailure } from "./fuzz.ts";
 * const failure: Partial<FuzzFailure> = { originalSteps: 12, reproduced: true };
 * console.log(failure.originalSteps);
 * ```
 */
export interface FuzzFailure {
  /** The smallest failing schedule found (only steps that apply). */
  steps: Step[];
  /** How many steps the schedule had when first found failing. */
  originalSteps: number;
  /** Which schedule it was (1-based). */
  foundAtRun: number;
  /** Ms from the start to the first failing schedule. */
  foundAfterMs: number;
  /** Smaller failing schedules fast-check found on the way. */
  shrinks: number;
  /** Ms spent shrinking. */
  shrinkMs: number;
  /** The run of the shrunk schedule shown in the report. */
  execution: Execution;
  /** Whether the last replay of the shrunk schedule failed too. */
  reproduced: boolean;
}

/**
 * What the fuzz search did.
 *
 * @example
 * ```ts
 * import type { FuzzOutcome } from "./fuzz.ts";
 * const outcome: Partial<FuzzOutcome> = { seed: 42, runs: 120 };
 * console.log(outcome.runs);
 * ```
 */
export interface FuzzOutcome {
  /** The seed used. */
  seed: number;
  /** Schedules run (not counting shrinking). */
  runs: number;
  /** Steps run in them. */
  steps: number;
  /** Wall time. */
  durationMs: number;
  /** Whether the search stopped on its time rather than its runs. */
  outOfTime: boolean;
  /** The failure, if a schedule failed. */
  failure?: FuzzFailure;
  /** Failures that a run with longer waits did not confirm. */
  unconfirmed: Mismatch[];
  /** Whether it replayed a given schedule rather than searching. */
  replayed?: boolean;
  /** Lines received in all its runs, and of those, ended by LF alone. */
  received: { lines: number; lfOnly: number };
}

let blocks = Math.floor(Math.random() * 200) * 256;

/** A source address block no earlier run of this process used. */
function nextBlock(): string {
  blocks = (blocks + 1) % (250 * 256);
  return `127.${1 + Math.floor(blocks / 256)}.${blocks % 256}`;
}

function onlyWaitedOut(run: Execution): boolean {
  return run.timedOut && run.mismatches.every((m) => m.clause === "§2.1");
}

/** Whether `run` fails the way `first` did: the same fuzz clause, as surely. */
function sameFailure(first: Execution, run: Execution): boolean {
  const group = (r: Execution) => fuzzCaseFor(r.mismatches[0].clause).id;
  return group(first) === group(run) &&
    (onlyWaitedOut(first) || !onlyWaitedOut(run));
}

/**
 * Runs the fuzz search (or one replay) against `server`.
 *
 * @example
 * ```ts ignore
 * import { fuzzServer } from "./fuzz.ts";
 * const outcome = await fuzzServer(
 *   { target: () => ({ hostname: "127.0.0.1", port: 7687 }) },
 *   { seed: 1, runs: 50, timeMs: 10_000 },
 * );
 * console.log(outcome.failure?.steps.length);
 * ```
 */
export async function fuzzServer(
  server: FuzzServer,
  options: FuzzOptions = {},
): Promise<FuzzOutcome> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const timeMs = options.timeMs ?? 30_000;
  const waitMs = options.waitMs ?? 500;
  const loopback = /^127\./.test(server.target().hostname);
  const t0 = performance.now();
  let dirty = false;
  let tag = 0;
  const unconfirmed: Mismatch[] = [];
  const received = { lines: 0, lfOnly: 0 };

  const play = async (steps: Step[], wait: number): Promise<Execution> => {
    if (server.restart && (dirty || server.alive?.() === false)) {
      await server.restart();
    }
    const run = await executeSchedule(steps, {
      target: server.target(),
      tag: `f${seed}.${++tag}`,
      addressBlock: loopback ? nextBlock() : undefined,
      waitMs: wait,
    });
    if (server.alive?.() === false) {
      run.mismatches.unshift({
        clause: "§5.2",
        client: "server",
        message: "the server died during the schedule",
      });
    }
    dirty = run.mismatches.length > 0;
    received.lines += run.received.lines;
    received.lfOnly += run.received.lfOnly;
    return run;
  };

  if (options.replay) {
    const steps = applicableSteps(options.replay);
    const run = await play(steps, waitMs * 4);
    const failed = run.mismatches.length > 0;
    options.onRun?.(1, failed);
    return {
      seed,
      runs: 1,
      steps: steps.length,
      durationMs: performance.now() - t0,
      outOfTime: false,
      unconfirmed,
      received,
      replayed: true,
      failure: failed
        ? {
          steps,
          originalSteps: steps.length,
          foundAtRun: 1,
          foundAfterMs: run.durationMs,
          shrinks: 0,
          shrinkMs: 0,
          execution: run,
          reproduced: true,
        }
        : undefined,
    };
  }

  const searchEnd = t0 + timeMs;
  let shrinkStart = 0;
  let shrinkEnd = Infinity;
  let runs = 0;
  let steps = 0;
  let outOfTime = false;
  let first:
    | { steps: number; run: number; atMs: number; failure: Execution }
    | undefined;
  let best: { steps: Step[]; run: Execution } | undefined;
  let shrinks = 0;
  const property = fc.asyncProperty(
    schedule(options.maxSteps ?? 40),
    async (raw) => {
      const now = performance.now();
      if (first === undefined && now > searchEnd) {
        outOfTime = true;
        return true;
      }
      if (first !== undefined && now > shrinkEnd) return true;
      const planned = applicableSteps(raw);
      // Each shrinking candidate gets a fresh server when there can be one:
      // what an earlier candidate left behind must not make it fail.
      if (first !== undefined) dirty = true;
      let run = await play(planned, waitMs);
      if (first === undefined) {
        runs++;
        steps += planned.length;
      }
      if (
        run.mismatches.length > 0 && first === undefined &&
        (onlyWaitedOut(run) || server.restart)
      ) {
        // The first failure counts if it fails again: on a fresh server
        // when there can be one (not because of what earlier schedules
        // left), and with longer waits when its only evidence is a wait.
        const again = await play(
          planned,
          onlyWaitedOut(run) ? waitMs * 4 : waitMs,
        );
        if (again.mismatches.length === 0) {
          unconfirmed.push(...run.mismatches.slice(0, 1));
        }
        run = again;
      }
      const failed = run.mismatches.length > 0;
      if (first === undefined) options.onRun?.(runs, failed);
      if (!failed) return true;
      if (first !== undefined && !sameFailure(first.failure, run)) {
        // Shrinking keeps to the failure found: one of another clause, or
        // one that only waited out where the first had direct evidence,
        // is not a smaller case of it.
        return true;
      }
      if (first === undefined) {
        first = {
          steps: planned.length,
          run: runs,
          atMs: now - t0,
          failure: run,
        };
        shrinkStart = performance.now();
        shrinkEnd = shrinkStart + timeMs;
      } else shrinks++;
      // The run stopped at its first mismatch: what ran is the prefix.
      const ran = planned.slice(0, run.done);
      if (best === undefined || ran.length <= best.steps.length) {
        best = { steps: ran, run };
      }
      return false;
    },
  );
  const details = await fc.check(property, {
    seed,
    numRuns: options.runs ?? 500,
    // A safety net: the property itself stops working at the ends above.
    interruptAfterTimeLimit: 2 * timeMs + 60_000,
  });
  const durationMs = performance.now() - t0;
  if (!details.failed || best === undefined || first === undefined) {
    return { seed, runs, steps, durationMs, outOfTime, unconfirmed, received };
  }
  // Then each step left out in turn, from the last: fast-check's shrinking
  // may stop early (its time is up) where one step less still fails.
  let shrunk = best.steps;
  const passEnd = Math.max(
    shrinkEnd,
    performance.now() + Math.min(timeMs, 5000),
  );
  for (let i = shrunk.length - 1; i >= 0; i--) {
    if (performance.now() > passEnd) break;
    const candidate = applicableSteps(shrunk.toSpliced(i, 1));
    dirty = true;
    const run = await play(candidate, waitMs);
    if (run.mismatches.length === 0 || !sameFailure(first.failure, run)) {
      continue;
    }
    shrunk = candidate.slice(0, run.done);
    best = { steps: shrunk, run };
    shrinks++;
    i = Math.min(i, shrunk.length);
  }
  const shrinkMs = performance.now() - shrinkStart;
  // Once more, on a fresh server if there is one: the trace to show.
  dirty = true;
  const last = await play(shrunk, waitMs * 4);
  const reproduced = last.mismatches.length > 0 &&
    sameFailure(first.failure, last);
  return {
    seed,
    runs,
    steps,
    durationMs: performance.now() - t0,
    outOfTime,
    unconfirmed,
    received,
    failure: {
      steps: shrunk,
      originalSteps: first.steps,
      foundAtRun: first.run,
      foundAfterMs: first.atMs,
      shrinks,
      shrinkMs,
      execution: reproduced ? last : best.run,
      reproduced,
    },
  };
}
