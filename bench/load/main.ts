/**
 * `deno task load`: drives a line-chat server with many clients and
 * reports throughput, delivery accounting and latency. With `--spawn` it
 * starts the server itself (with `sh -c`, through `lib/server_process.ts`)
 * and measures its whole process group. See `--help` and docs/load.md.
 *
 * @module
 */

import { runMain, UsageError } from "../../lib/args.ts";
import { type ServerProcess, startServer } from "../../lib/server_process.ts";
import { discardStdout, signalOf } from "../spawn.ts";
import { formatCount } from "../units.ts";
import { LOAD_USAGE, parseLoadArgs, resolveTargets } from "./cli.ts";
import {
  exitCodeOf,
  failedBeforeSending,
  formatLatencyDistribution,
  formatLoadReport,
} from "./format.ts";
import type { LoadProgress } from "./options.ts";
import type { LoadReport } from "./report.ts";
import { payloadBodies } from "./payload.ts";
import { runLoad } from "./run.ts";
import { groupProbe } from "./window.ts";

await runMain("linechat-load", async () => {
  const args = parseLoadArgs(Deno.args);
  if (args.help) {
    console.log(LOAD_USAGE);
    return;
  }
  // Ctrl-C ends the run early, and it still reports what it measured;
  // SIGTERM stops a started server's group and exits as SIGTERM would.
  const abort = new AbortController();
  let server: ServerProcess | undefined;
  const onInterrupt = () => abort.abort();
  const onTerminate = async () => {
    await server?.stop();
    Deno.exit(143);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onTerminate);
  let report: LoadReport | undefined;
  const live = !args.json && !args.quiet && Deno.stderr.isTerminal();
  // Files named by flags are read (and --hdr-out created) before anything
  // starts: a typo in a path is a usage error, not a failed run.
  const caCerts = args.caFiles.map((file) => readFlagFile("--ca", file, true));
  const payloadLines = args.load.payloadFile === undefined
    ? undefined
    : payloadOf(args.load.payloadFile);
  if (args.hdrOut !== undefined) {
    try {
      Deno.writeTextFileSync(args.hdrOut, "");
    } catch (error) {
      throw new UsageError(
        `--hdr-out: cannot write ${args.hdrOut}: ${(error as Error).message}`,
      );
    }
  }
  try {
    if (args.spawn !== undefined) {
      server = await startServer({
        command: discardStdout(args.spawn),
        handleSignals: false,
      });
    }
    const [main, ...extraTargets] = resolveTargets(args.targets, server?.port);
    report = await runLoad({
      ...args.load,
      payloadLines,
      ...main,
      extraTargets,
      caCerts,
      serverPid: args.pid,
      server: server && groupProbe(server),
      latencyDistribution: args.latency,
      hdrOut: args.hdrOut,
      onProgress: live ? showProgress : undefined,
      signal: abort.signal,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    if (live) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
    const status = await server?.stop();
    Deno.removeSignalListener("SIGTERM", onTerminate);
    if (
      report && status && !report.failure && signalOf(status) === null &&
      status.code !== 0
    ) {
      report.failure = `the server exited with code ${status.code}`;
    }
  }
  const stderr = server?.outputTail().trim();
  if (report.failure && stderr) {
    report.failure += ` (server stderr: ${stderr.slice(-300)})`;
  }
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else if (failedBeforeSending(report)) {
    // Nothing was measured: one line, as for any other failure to run.
    throw new Error(report.failure!);
  } else {
    console.log(formatLoadReport(report));
    if (report.latency.distribution) {
      console.log(formatLatencyDistribution(report.latency.distribution));
    }
  }
  Deno.exitCode = exitCodeOf(report);
});

/** A file a flag names, as text or bytes; unreadable: a usage error. */
function readFlagFile(flag: string, file: string, text: true): string;
function readFlagFile(flag: string, file: string, text: false): Uint8Array;
function readFlagFile(
  flag: string,
  file: string,
  text: boolean,
): string | Uint8Array {
  try {
    return text ? Deno.readTextFileSync(file) : Deno.readFileSync(file);
  } catch (error) {
    throw new UsageError(
      `${flag}: cannot read ${file}: ${(error as Error).message}`,
    );
  }
}

/** The bodies of `--payload-file`; an unusable file is a usage error. */
function payloadOf(file: string): Uint8Array[] {
  try {
    return payloadBodies(readFlagFile("--payload-file", file, false));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--payload-file: ${(error as Error).message}`);
  }
}

/** The live progress line on a terminal's stderr. */
function showProgress(p: LoadProgress): void {
  const text = `\r\x1b[K${p.phase.padEnd(6)} ${
    p.elapsedSeconds.toFixed(1)
  } s  connected ${formatCount(p.connected)}  sent ${
    formatCount(p.linesSent)
  }  delivered ${formatCount(p.delivered)} (${
    formatCount(p.deliveredPerSecond)
  }/s)  p99 ${p.p99Ms} ms`;
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}
