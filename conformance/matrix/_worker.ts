// The child process behind `runMatrix`: runs the suite against one server
// (argument: a JSON WorkerRequest), prints progress as JSON lines on stdout
// and writes a WorkerResult to the request's resultPath.

import type { Report } from "../types.ts";
import { type MatrixSettings, runServer } from "./running.ts";
import type { MatrixServer } from "./servers.ts";

/** What the worker reads from its argument. */
export interface WorkerRequest {
  server: MatrixServer;
  settings: MatrixSettings;
  /** Where the worker writes its {@linkcode WorkerResult} as JSON. */
  resultPath: string;
}

/** What the worker writes to `resultPath`. */
export interface WorkerResult {
  report: Report | null;
  error?: string;
}

function stopOn(signal: Deno.Signal): void {
  Deno.addSignalListener(signal, () => {
    // The suite's ServerProcess kills the server's process group on
    // "unload"; a signal would otherwise end this process without it.
    dispatchEvent(new Event("unload"));
    Deno.exit(128 + (signal === "SIGINT" ? 2 : 15));
  });
}

if (import.meta.main) {
  const request = JSON.parse(Deno.args[0]) as WorkerRequest;
  stopOn("SIGTERM");
  stopOn("SIGINT");
  const encoder = new TextEncoder();
  const run = await runServer(request.server, {
    settings: request.settings,
    onProgress(event) {
      Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
    },
  });
  const result: WorkerResult = { report: run.report, error: run.error };
  await Deno.writeTextFile(request.resultPath, JSON.stringify(result));
  Deno.exit(0);
}
