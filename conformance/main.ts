/**
 * `deno task conformance`: runs the conformance suite against a server.
 * Exit code 0 when no case fails at the selected level, 1 when some do,
 * 2 when the harness cannot run (bad options, target unreachable).
 *
 * @module
 */

import {
  parseFlags,
  parseInteger,
  parseNumber,
  runMain,
  UsageError,
} from "../lib/args.ts";
import { parseEndpoint } from "../lib/endpoint.ts";
import { parseDuration } from "./duration.ts";
import { splitPatterns } from "./glob.ts";
import { FUZZ_FLAGS, FUZZ_USAGE, fuzzSettings } from "./fuzz/flags.ts";
import {
  formatHtml,
  formatJson,
  formatJunit,
  formatPretty,
  formatTap,
  LiveProgress,
} from "./reporters/mod.ts";
import {
  type ConformanceOptions,
  HarnessError,
  selectCases,
} from "./run_options.ts";
import { runConformance } from "./runner.ts";
import { REPORT_SCHEMA } from "./schema.ts";
import { loadDialect, runDetect } from "./dialect/cli.ts";
import type { LevelFilter } from "./types.ts";

const PROGRAM = "linechat-conformance";

/**
 * The text `--help` prints.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_USAGE } from "./main.ts";
 * console.log(CONFORMANCE_USAGE.includes("--spawn")); // true
 * ```
 */
export const CONFORMANCE_USAGE =
  `linechat conformance suite: checks a line-chat server against PROTOCOL.md, clause by clause.

Usage: deno task conformance (--target HOST:PORT ... | --spawn "COMMAND {port}") [options]

Target:
  --target HOST:PORT      a running server: HOST:PORT, tls://HOST:PORT or ws://HOST:PORT/PATH
                          (wss:// too); repeat it to spread clients over several, or to mix
                          transports (proves a TCP–WebSocket bridge); cases a WebSocket
                          target cannot carry (segments, terminators, resets) are skipped;
                          with --spawn it names the server's ports: ws://127.0.0.1:{port+1}/ws
  --ca FILE               trust this CA certificate (PEM) for tls:// and wss:// targets
  --spawn "CMD {port}"    start the server (sh -c) on a free port; enables crash blame,
                          restarts and /proc measurements (memory, open files, SIGTERM)
  --max-line-bytes N      the target's declared line limit L (default 65536)
  --max-pending-bytes N   the target's declared bound on output held for one client
                          (default 4m); slow-consumer floods are at least 4 times it
  --max-clients N         the target's declared client limit (enables limits.server-full)

Selection:
  --list                  list the selected cases (id, clause, level, requirement) and exit;
                          --format json or markdown lists them as JSON or a Markdown table
  --schema                print the JSON report's schema (JSON Schema) and exit
  --only GLOB             run only matching cases (ids, or clauses like '§1.*'); repeatable, comma lists
  --skip GLOB             do not run matching cases; repeatable
  --level must|should|all which levels run and count (default all); at 'must' non-strict does not fail

Output:
  --format pretty|json|junit|tap   report format (default pretty; live progress on a terminal)
  --out FILE              write the report to FILE instead of stdout
  --html FILE             also write a self-contained HTML report
  -v, --verbose           wire traces for every case, not only failing ones

Tuning:
  --clients N             clients connected at once in limits.many-clients (default 500)
  --timeout-scale X       multiply every timeout (default 1; raise it for slow or remote targets);
                          waits for lines are also scaled by the server's latency, measured first
  --deadline DURATION     the most the whole run may take, e.g. 90s, 6m (default 6m times
                          the timeout scale); every case also has a hard deadline of its own,
                          and one that reaches it gets verdict 'timeout'
  --retries N             re-runs of a failing case; a pass then is 'flaky', never 'pass' (default 1)
  --send-eol lf|crlf      how the harness ends the lines it sends (default lf; crlf tests a
                          server that frames only CR LF)
  --keep-going            run every case even when the first ones all fail on one root cause

Dialects (servers that decorate their lines):
  --detect                connect three clients, send a few lines, and propose a dialect
                          (the profile and the flags to use), or say the server is bare
  --dialect FILE|JSON     judge payloads through a dialect: a profile file, or its JSON inline
                          ('{"relay": "^<(?<sender>[^>]+)> (?<payload>.*)$", "echo": true}');
                          fields: handshake {prompt, skipLines, send}, relay, notices, echo.
                          The clauses it gives up (§2.2 echo, §3.1 notices, §2.4 decoration)
                          are reported not applicable
  -h, --help              this text

${FUZZ_USAGE}

Every run ends within a bound printed at its start ("at most 6 min at --timeout-scale 1").
Exit code: 0 no failure at the selected level, 1 some case failed, 2 the harness could not run
(bad options, a selection that matches no case, target unreachable).`;

/**
 * The parsed command line.
 *
 * @example
 * ```ts
 * import { type ConformanceArgs, parseConformanceArgs } from "./main.ts";
 * const args: ConformanceArgs = parseConformanceArgs(["--list"]);
 * console.log(args.list, args.format); // true "pretty"
 * ```
 */
export interface ConformanceArgs {
  help: boolean;
  list: boolean;
  /** `--schema`: print the report's JSON Schema and exit. */
  schema: boolean;
  /** `--detect`: propose a dialect and exit. */
  detect: boolean;
  format: "pretty" | "json" | "junit" | "tap" | "markdown";
  out?: string;
  html?: string;
  options: ConformanceOptions;
}

/**
 * Parses the command line strictly; throws {@linkcode UsageError} with a
 * one-line reason.
 *
 * @example
 * ```ts
 * import { parseConformanceArgs } from "./main.ts";
 * const args = parseConformanceArgs(["--target", "127.0.0.1:7687", "--only", "relay.*"]);
 * console.log(args.options.only); // [ "relay.*" ]
 * ```
 */
export function parseConformanceArgs(args: string[]): ConformanceArgs {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      target: { type: "string", multiple: true, default: [] },
      ca: { type: "string" },
      spawn: { type: "string" },
      list: { type: "boolean", default: false },
      schema: { type: "boolean", default: false },
      only: { type: "string", multiple: true, default: [] },
      skip: { type: "string", multiple: true, default: [] },
      level: { type: "string", default: "all" },
      format: { type: "string", default: "pretty" },
      out: { type: "string" },
      html: { type: "string" },
      verbose: { type: "boolean", short: "v", default: false },
      clients: { type: "string", default: "500" },
      "timeout-scale": { type: "string", default: "1" },
      "max-line-bytes": { type: "string", default: "65536" },
      "max-pending-bytes": { type: "string", default: "4m" },
      "max-clients": { type: "string" },
      retries: { type: "string", default: "1" },
      deadline: { type: "string" },
      "send-eol": { type: "string", default: "lf" },
      "keep-going": { type: "boolean", default: false },
      dialect: { type: "string" },
      detect: { type: "boolean", default: false },
      ...FUZZ_FLAGS,
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  const level = values.level;
  if (level !== "must" && level !== "should" && level !== "all") {
    throw new UsageError(
      `--level: expected must, should or all, got "${level}"`,
    );
  }
  const format = values.format;
  if (format === "markdown" && !values.list) {
    throw new UsageError("--format markdown goes with --list");
  }
  if (
    format !== "pretty" && format !== "json" && format !== "junit" &&
    format !== "tap" && format !== "markdown"
  ) {
    throw new UsageError(
      `--format: expected pretty, json, junit or tap, got "${format}"`,
    );
  }
  const sendEol = values["send-eol"];
  if (sendEol !== "lf" && sendEol !== "crlf") {
    throw new UsageError(`--send-eol: expected lf or crlf, got "${sendEol}"`);
  }
  for (const target of values.target) {
    if (values.spawn !== undefined && !/\{port(\+\d+)?\}/.test(target)) {
      throw new UsageError(
        `--target ${target}: with --spawn, name the server's ports as {port} or {port+N}`,
      );
    }
    parseEndpoint(target.replace(/\{port(\+\d+)?\}/g, "1"));
  }
  let caCerts: string[] | undefined;
  if (values.ca !== undefined) {
    try {
      caCerts = [Deno.readTextFileSync(values.ca)];
    } catch (error) {
      throw new UsageError(
        `--ca: cannot read ${values.ca}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
  }
  if (values.spawn !== undefined && !values.spawn.includes("{port}")) {
    throw new UsageError(
      `--spawn: the command must contain {port}, got "${values.spawn}"`,
    );
  }
  const list = values.list;
  if (
    !list && !values.help && !values.schema && values.spawn === undefined &&
    values.target.length === 0
  ) {
    throw new UsageError(
      'no target: give --target HOST:PORT or --spawn "CMD {port}"',
    );
  }
  return {
    help: values.help,
    list,
    schema: values.schema,
    detect: values.detect,
    format,
    out: values.out,
    html: values.html,
    options: {
      targets: values.target,
      caCerts,
      spawn: values.spawn,
      only: splitPatterns(values.only),
      skip: splitPatterns(values.skip),
      level: level as LevelFilter,
      verbose: values.verbose,
      clients: parseInteger("--clients", values.clients, {
        min: 3,
        max: 100_000,
      }),
      timeoutScale: parseNumber("--timeout-scale", values["timeout-scale"], {
        min: 0.1,
        max: 100,
      }),
      maxLineBytes: parseInteger("--max-line-bytes", values["max-line-bytes"], {
        min: 1,
        max: 1024 ** 3,
      }),
      maxPendingBytes: parseInteger(
        "--max-pending-bytes",
        values["max-pending-bytes"],
        { min: 1024, max: 16 * 1024 ** 3 },
      ),
      maxClients: values["max-clients"] === undefined
        ? undefined
        : parseInteger("--max-clients", values["max-clients"], {
          min: 3,
          max: 1_000_000,
        }),
      retries: parseInteger("--retries", values.retries, { max: 5 }),
      deadlineMs: values.deadline === undefined
        ? undefined
        : parseDuration("--deadline", values.deadline),
      sendEol,
      keepGoing: values["keep-going"],
      dialect: values.dialect === undefined
        ? undefined
        : loadDialect(values.dialect),
      fuzz: fuzzSettings(values),
    },
  };
}

function isTerminal(file: { isTerminal(): boolean }): boolean {
  try {
    return file.isTerminal();
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = parseConformanceArgs(Deno.args);
  if (args.help) {
    console.log(CONFORMANCE_USAGE);
    return;
  }
  if (args.schema) {
    console.log(JSON.stringify(REPORT_SCHEMA, null, 2));
    return;
  }
  if (args.detect) {
    try {
      console.log(await runDetect(args.options));
    } catch (error) {
      if (!(error instanceof HarnessError)) throw error;
      console.error(`${PROGRAM}: ${error.message}`);
      Deno.exit(2);
    }
    return;
  }
  if (args.list) {
    const cases = selectCases(args.options);
    if (cases.length === 0) {
      console.error(
        `${PROGRAM}: no case matches the selection (deno task conformance --list shows the ids)`,
      );
      Deno.exit(2);
    }
    if (args.format === "markdown") {
      console.log("| id | clause | level | requirement |");
      console.log("| --- | --- | --- | --- |");
      for (const c of cases) {
        const requirement = c.requirement.replaceAll("|", "\\|");
        const needs = c.needs?.length
          ? ` (needs ${c.needs.map((need) => `\`--${need}\``).join(", ")})`
          : "";
        console.log(
          `| \`${c.id}\` | ${c.clause} | ${c.level} | ${requirement}${needs} |`,
        );
      }
      return;
    }
    if (args.format === "json") {
      console.log(JSON.stringify(
        cases.map(({ id, clause, level, requirement, needs }) => ({
          id,
          clause,
          level,
          requirement,
          needs: needs ?? [],
        })),
        null,
        2,
      ));
    } else {
      for (const c of cases) {
        const needs = c.needs?.length ? `  [needs ${c.needs.join(", ")}]` : "";
        console.log(
          `${c.id.padEnd(36)} ${c.clause.padEnd(6)} ${
            c.level.padEnd(6)
          } ${c.requirement}${needs}`,
        );
      }
    }
    return;
  }
  const encoder = new TextEncoder();
  const stdoutTty = isTerminal(Deno.stdout);
  const stderrTty = isTerminal(Deno.stderr);
  const noColor = Deno.env.get("NO_COLOR") !== undefined;
  // Live progress: on stdout for a pretty report to the terminal, else on
  // stderr when that is a terminal (so stdout stays a clean JSON/XML/TAP).
  const prettyToStdout = args.format === "pretty" && args.out === undefined;
  const progressOut = prettyToStdout
    ? Deno.stdout
    : stderrTty
    ? Deno.stderr
    : undefined;
  const live = progressOut === undefined ? undefined : new LiveProgress(
    (text) => progressOut.writeSync(encoder.encode(text)),
    {
      tty: isTerminal(progressOut),
      color: isTerminal(progressOut) && !noColor,
      verbose: args.options.verbose,
    },
  );
  // Ctrl-C, SIGTERM (a CI timeout), SIGHUP: lib/server_process.ts stops
  // the spawned server's process group and exits 128 + the signal; this
  // only says so (Deno.exit's unload kills any group left as well).
  const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
  const interrupted = (signal: keyof typeof SIGNALS) => () => {
    const code = 128 + SIGNALS[signal];
    if (args.options.spawn === undefined) {
      console.error(`\n${PROGRAM}: interrupted (${signal})`);
      Deno.exit(code);
    }
    console.error(`\n${PROGRAM}: interrupted (${signal}); stopping the server`);
    // lib/server_process.ts exits once the group is stopped; if it has not
    // started one yet, exit all the same.
    setTimeout(() => Deno.exit(code), 5000);
  };
  const listeners = (Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]).map(
    (signal) => {
      const listener = interrupted(signal);
      try {
        Deno.addSignalListener(signal, listener);
      } catch {
        // Not supported here.
      }
      return [signal, listener] as const;
    },
  );
  let report;
  try {
    report = await runConformance({
      ...args.options,
      onProgress: live ? (event) => live.handle(event) : undefined,
    });
  } catch (error) {
    if (error instanceof HarnessError) {
      console.error(`${PROGRAM}: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  } finally {
    for (const [signal, listener] of listeners) {
      try {
        Deno.removeSignalListener(signal, listener);
      } catch {
        // Not supported here.
      }
    }
  }
  const text = {
    pretty: () =>
      formatPretty(report, {
        color: prettyToStdout && stdoutTty && !noColor,
        verbose: args.options.verbose,
        listCases: live === undefined || !prettyToStdout,
      }),
    json: () => formatJson(report),
    junit: () => formatJunit(report),
    tap: () => formatTap(report),
  }[args.format as Exclude<typeof args.format, "markdown">]();
  if (args.out !== undefined) {
    await Deno.writeTextFile(args.out, text);
  } else {
    await Deno.stdout.write(encoder.encode(text));
  }
  if (args.html !== undefined) {
    await Deno.writeTextFile(args.html, formatHtml(report));
  }
  if (args.out !== undefined && live !== undefined) {
    const s = report.summary;
    console.error(
      `${s.counted} of ${s.total} cases failed; ${args.format} report written to ${args.out}`,
    );
  }
  Deno.exit(report.summary.exitCode);
}

if (import.meta.main) await runMain(PROGRAM, main);
