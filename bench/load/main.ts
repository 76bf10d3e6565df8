/**
 * `deno task load`: drives a line-chat server with many clients and
 * reports throughput, delivery accounting and latency. With `--spawn` it
 * starts the server itself (with `sh -c`, through `lib/server_process.ts`)
 * and measures its whole process group. See `--help` and the README.
 *
 * @module
 */

import { runMain } from "../../lib/args.ts";
import { type ServerProcess, startServer } from "../../lib/server_process.ts";
import { discardStdout, signalOf } from "../spawn.ts";
import { formatCount } from "../units.ts";
import { LOAD_USAGE, parseLoadArgs } from "./cli.ts";
import { exitCodeOf, formatLoadReport } from "./format.ts";
import type { LoadProgress } from "./options.ts";
import type { LoadReport } from "./report.ts";
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
  try {
    if (args.spawn !== undefined) {
      server = await startServer({
        command: discardStdout(args.spawn),
        handleSignals: false,
      });
    }
    report = await runLoad({
      ...args.load,
      hostname: args.target?.hostname ?? "127.0.0.1",
      port: server?.port ?? args.target!.port,
      extraTargets: args.extraTargets,
      serverPid: args.pid,
      server: server && groupProbe(server),
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
  console.log(
    args.json ? JSON.stringify(report, null, 2) : formatLoadReport(report),
  );
  Deno.exitCode = exitCodeOf(report);
});

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
