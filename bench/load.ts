/**
 * `deno task load`: drives a line-chat server with many clients and
 * reports throughput, delivery accounting and latency. See `--help` and
 * the README.
 *
 * @module
 */

import { runMain } from "../lib/args.ts";
import {
  exitCodeOf,
  formatCount,
  formatLoadReport,
  LOAD_USAGE,
  parseLoadArgs,
} from "./load_cli.ts";
import { type LoadProgress, runLoad } from "./load_generator.ts";
import { type ServerProcess, startServer } from "./server_process.ts";

await runMain("linechat-load", async () => {
  const args = parseLoadArgs(Deno.args);
  if (args.help) {
    console.log(LOAD_USAGE);
    return;
  }
  let server: ServerProcess | undefined;
  if (args.spawn !== undefined) {
    server = await startServer(args.spawn);
  }
  const hostname = args.target?.hostname ?? "127.0.0.1";
  const port = server?.port ?? args.target!.port;
  const live = !args.json && !args.quiet && Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const onProgress = live
    ? (p: LoadProgress) => {
      const text = `\r\x1b[K${p.phase.padEnd(6)} ${
        p.elapsedSeconds.toFixed(1)
      } s  connected ${formatCount(p.connected)}  sent ${
        formatCount(p.linesSent)
      }  delivered ${formatCount(p.delivered)} (${
        formatCount(p.deliveredPerSecond)
      }/s)  p99 ${p.p99Ms} ms`;
      Deno.stderr.writeSync(encoder.encode(text));
    }
    : undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  let report;
  try {
    report = await runLoad({
      ...args.load,
      hostname,
      port,
      extraTargets: args.extraTargets,
      serverPid: server?.pid ?? args.pid,
      onProgress,
      signal: abort.signal,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    if (live) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    if (server) {
      const status = await server.stop();
      if (
        report && !report.failure && status.signal === null && status.code !== 0
      ) {
        report.failure = `the server exited with code ${status.code}`;
      }
    }
  }
  const stderr = server?.stderrTail();
  if (report.failure && stderr) {
    report.failure += ` (server stderr: ${stderr.slice(-300)})`;
  }
  console.log(
    args.json ? JSON.stringify(report, null, 2) : formatLoadReport(report),
  );
  Deno.exitCode = exitCodeOf(report);
});
