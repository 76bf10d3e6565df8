/**
 * `deno run -A server/main.ts [options]`: runs the line-chat server until
 * SIGINT or SIGTERM. See `--help` and the README.
 *
 * With a cluster flag (`--redis`, `--room`, `--bus-…`) it runs
 * `cluster/node.ts` with the same arguments instead, as a child whose
 * exit it shares: the server does not load the cluster's code.
 *
 * @module
 */

import { runMain } from "../lib/args.ts";
import { clusterFlagIn, parseServerArgs, SERVER_USAGE } from "./cli.ts";
import { runServer } from "./run.ts";

const NODE_MAIN = new URL("../cluster/node.ts", import.meta.url).pathname;

await runMain("linechat-server", async () => {
  if (clusterFlagIn(Deno.args) !== undefined) {
    Deno.exit(await runAsNode(Deno.args));
  }
  const args = parseServerArgs(Deno.args);
  if (args.help) {
    console.log(SERVER_USAGE);
    return;
  }
  await runServer(args);
});

/** Runs the arguments as a cluster node; resolves with its exit code. */
async function runAsNode(args: string[]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", NODE_MAIN, ...args],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      try {
        child.kill(signal);
      } catch {
        // It exited meanwhile.
      }
    });
  }
  const status = await child.status;
  return status.signal ? 128 + signalNumber(status.signal) : status.code;
}

function signalNumber(signal: Deno.Signal): number {
  return { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal as string] ?? 1;
}
