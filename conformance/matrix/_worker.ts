// The child process behind `runMatrix`: runs the suite against one server
// (argument: a JSON WorkerRequest), prints progress as JSON lines on stdout
// and writes a WorkerResult to the request's resultPath. On SIGTERM or
// SIGINT, lib/server_process.ts stops the server's process group and exits.

import {
  runMatrixServer,
  type WorkerRequest,
  type WorkerResult,
} from "./server_run.ts";

if (import.meta.main) {
  const request = JSON.parse(Deno.args[0]) as WorkerRequest;
  const encoder = new TextEncoder();
  const run = await runMatrixServer(request.server, {
    settings: request.settings,
    onProgress(event) {
      Deno.stdout.writeSync(encoder.encode(JSON.stringify(event) + "\n"));
    },
  });
  const result: WorkerResult = { report: run.report, error: run.error };
  await Deno.writeTextFile(request.resultPath, JSON.stringify(result));
  Deno.exit(0);
}
