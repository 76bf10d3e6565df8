/**
 * `deno task cluster [options] [-- server options]`: runs N server nodes
 * on this machine, joined into one room through Redis (optionally a
 * redis-server it starts), until SIGINT or SIGTERM. See `--help`.
 *
 * @module
 */

import { runMain } from "../lib/args.ts";
import { CLUSTER_USAGE, parseClusterArgs } from "./cli.ts";
import { type RedisServer, startRedisServer } from "./redis_server.ts";

const NODE_MAIN = new URL("./node.ts", import.meta.url).pathname;

await runMain("linechat-cluster", async () => {
  const args = parseClusterArgs(Deno.args);
  if (args.help) {
    console.log(CLUSTER_USAGE);
    return;
  }
  let redis: RedisServer | undefined;
  if (args.startRedis) {
    redis = await startRedisServer({ port: args.redis.port });
    console.log(
      `cluster: started redis-server on 127.0.0.1:${redis.port} (no persistence, dir ${redis.dir})`,
    );
  }
  const ports = Array.from(
    { length: args.nodes },
    (_, i) => args.basePort === 0 ? 0 : args.basePort + i,
  );
  console.log(
    `cluster: ${args.nodes} nodes on ${args.hostname} port${
      args.nodes > 1 ? "s" : ""
    } ${
      args.basePort === 0 ? "(free ports)" : ports.join(", ")
    }, room ${args.room}, Redis ${args.redis.redacted}`,
  );
  const nodes = ports.map((port, i) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        NODE_MAIN,
        "--host",
        args.hostname,
        "--port",
        String(port),
        "--redis",
        args.redis.url,
        "--room",
        args.room,
        ...args.serverArgs,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([
      prefixLines(
        child.stdout,
        `node${i} `,
        (line) => print(console.log, line),
      ),
      prefixLines(
        child.stderr,
        `node${i} `,
        (line) => print(console.error, line),
      ),
    ]);
    return { index: i, child, output };
  });

  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const { child } of nodes) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
    }
    await Promise.all(
      nodes.map(({ child, output }) => Promise.all([child.status, output])),
    );
    await redis?.stop();
  };
  const onSignal = async () => {
    if (stopping) return;
    await stopAll();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  // A node that exits by itself (Redis unreachable, port in use, crash)
  // takes the cluster down with it.
  const first = await Promise.race(
    nodes.map(async (node) => ({ node, status: await node.child.status })),
  );
  if (stopping) return;
  await first.node.output;
  await stopAll();
  throw new Error(
    `node${first.node.index} exited with code ${first.status.code}; stopped the others`,
  );
});

/**
 * Writes a line; if our own output is gone (the reader of a pipe exited),
 * drops it and goes on, so the nodes are still drained, watched and
 * stopped.
 */
function print(write: (line: string) => void, line: string): void {
  try {
    write(line);
  } catch {
    // Broken pipe: nobody is reading.
  }
}

/** Copies a stream's lines to `write`, each with `prefix`. */
async function prefixLines(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
  write: (line: string) => void,
): Promise<void> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const line of lines) write(prefix + line);
  }
  if (pending !== "") write(prefix + pending);
}
