/**
 * The command line of `deno task compare`: its `--help` text, and its
 * flags parsed with `lib/args.ts` into {@linkcode CompareArgs}, every
 * mistake a one-line `UsageError` (exit code 2) that names the flag.
 *
 * @module
 */

import { parseFlags, UsageError } from "../../lib/args.ts";
import { negativeValues, parseCount } from "../flag_values.ts";
import { COMPARE_SERVER_IDS } from "./servers.ts";
import { type Workload, WORKLOADS } from "./workloads.ts";

/**
 * The text `--help` prints.
 *
 * @example
 * ```ts
 * import { COMPARE_USAGE } from "./cli.ts";
 * console.log(COMPARE_USAGE.includes("--quick")); // true
 * ```
 */
export const COMPARE_USAGE =
  `linechat compare: the same workloads against several chat servers.

Usage: deno task compare [options]

Options:
  --quick              short runs, one round, small client counts (a smoke test, ~1.5 minutes)
  --rounds N           rounds, each running everything once (default 3; 1 with --quick)
  --servers a,b        only these servers (ids: ${
    COMPARE_SERVER_IDS.slice(0, 4).join(", ")
  },
                       ${
    COMPARE_SERVER_IDS.slice(4).join(", ")
  }); ours-tls only when named
  --workloads a,b      only these workloads (${
    WORKLOADS.map((w) => w.id).join(", ")
  })
  --workers N|auto     run the load generator on N threads in every workload
                       (default: each workload's own, 2 for saturation, else 1)
  --out DIR            where results go (default bench/results; a temporary
                       directory with --quick)
  --no-wait            do not wait for other processes to quieten before each
                       run (by default up to 60 s; never with --quick)
  --render FILE.json   only write the report and charts of saved results again
  -h, --help           this text

Writes DIR/<date>.json (every run's full report), DIR/<date>.md (tables,
goals, failures) and DIR/<date>-*.svg (charts), each chart checked in
headless Chromium (/usr/bin/chromium) for labels outside it. The full
comparison takes about 40 minutes for 5 servers, 60 for all 8.`;

/** Parsed `deno task compare` flags. */
export interface CompareArgs {
  /** `--help` was asked for (nothing else is meaningful then). */
  help: boolean;
  /** Short runs, one round, a temporary output directory. */
  quick: boolean;
  /** Rounds to run. */
  rounds: number;
  /** Server ids asked for (empty: every one that can run). */
  servers: string[];
  /** The workloads to run, in their list's order. */
  workloads: readonly Workload[];
  /** Where results go (undefined: the default for the mode). */
  out: string | undefined;
  /** Wait for the machine to quieten before each run. */
  wait: boolean;
  /** Only render the report of these saved results. */
  render: string | undefined;
  /** The load generator's workers in every workload (undefined: theirs). */
  workers: number | "auto" | undefined;
}

const FLAGS = {
  quick: { type: "boolean", default: false },
  rounds: { type: "string" },
  servers: { type: "string" },
  workloads: { type: "string" },
  out: { type: "string" },
  render: { type: "string" },
  workers: { type: "string" },
  "no-wait": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

const list = (value: string | undefined) =>
  value ? value.split(",").map((s) => s.trim()).filter(Boolean) : [];

/**
 * Parses `deno task compare` flags strictly; throws {@linkcode UsageError}
 * with a one-line reason. Server ids are checked against the registry's;
 * whether each can run here is known only once they are looked for.
 *
 * @example
 * ```ts
 * import { parseCompareArgs } from "./cli.ts";
 * const args = parseCompareArgs(["--quick", "--servers", "ours,ncat"]);
 * console.log(args.rounds, args.servers, args.workloads.length); // 1 ["ours", "ncat"] 5
 * ```
 */
export function parseCompareArgs(args: string[]): CompareArgs {
  const { values, positionals } = parseFlags({
    args: negativeValues(args, FLAGS),
    allowPositionals: true,
    options: FLAGS,
  });
  if (values.help) {
    return {
      help: true,
      quick: false,
      rounds: 0,
      servers: [],
      workloads: [],
      out: undefined,
      wait: false,
      render: undefined,
      workers: undefined,
    };
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  const servers = list(values.servers);
  for (const id of servers) {
    if (!COMPARE_SERVER_IDS.includes(id)) {
      throw new UsageError(
        `--servers: unknown server "${id}" (known: ${
          COMPARE_SERVER_IDS.join(", ")
        })`,
      );
    }
  }
  const workloadIds = list(values.workloads);
  for (const id of workloadIds) {
    if (!WORKLOADS.some((w) => w.id === id)) {
      throw new UsageError(
        `--workloads: unknown "${id}" (have: ${
          WORKLOADS.map((w) => w.id).join(", ")
        })`,
      );
    }
  }
  return {
    help: false,
    quick: values.quick,
    rounds: values.rounds === undefined
      ? (values.quick ? 1 : 3)
      : parseCount("--rounds", values.rounds, { min: 1, max: 100 }),
    servers,
    workloads: workloadIds.length
      ? WORKLOADS.filter((w) => workloadIds.includes(w.id))
      : WORKLOADS,
    out: values.out,
    wait: !values.quick && !values["no-wait"],
    render: values.render,
    workers: values.workers === undefined
      ? undefined
      : values.workers === "auto"
      ? "auto"
      : parseCount("--workers", values.workers, { min: 1, max: 64 }),
  };
}
