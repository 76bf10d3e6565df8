// The conformance suite's MUST cases against 2 and 3 node processes joined
// through a real redis-server, one target per node: each case's clients
// are spread across the nodes, so every clause is checked across nodes.

import { deepEqual, equal } from "node:assert/strict";
import type { Report } from "../conformance/types.ts";
import { ServerProcess } from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";
import { redisTest, waitFor } from "./_testing.ts";
import { startRedisServer } from "./redis_server.ts";

const SERVER_MAIN = new URL("../server/main.ts", import.meta.url).pathname;
const CONFORMANCE_MAIN =
  new URL("../conformance/main.ts", import.meta.url).pathname;

/** Runs `deno task conformance` as a user would, and reads its JSON report. */
async function runConformanceCli(args: string[]): Promise<Report> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CONFORMANCE_MAIN, ...args, "--format", "json"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code === 2 || text.trim() === "") {
    throw new Error(
      `the conformance suite could not run (exit ${code}): ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
  return JSON.parse(text) as Report;
}

/**
 * A node process, as `server/main.ts --redis` runs it, ready once it has
 * joined the room (its port listens and its log says `cluster-joined`).
 */
async function startNodeProcess(redisUrl: string): Promise<ServerProcess> {
  let joined = false;
  const node = new ServerProcess({
    command: shellJoin([
      Deno.execPath(),
      "run",
      "-A",
      SERVER_MAIN,
      "--quiet",
      "--log",
      "json",
      "--redis",
      redisUrl,
    ]) + " --port {port}",
    onLine: (line) => {
      if (line.includes('"event":"cluster-joined"')) joined = true;
    },
  });
  await node.start();
  await waitFor(() => joined, "a node to join", 20_000);
  return node;
}

for (const count of [2, 3]) {
  redisTest(
    `conformance: every MUST case passes on ${count} nodes, one target per node`,
    async () => {
      await using redis = await startRedisServer();
      const nodes: ServerProcess[] = [];
      try {
        for (let i = 0; i < count; i++) {
          nodes.push(await startNodeProcess(redis.url));
        }
        const report = await runConformanceCli([
          ...nodes.flatMap((node) => ["--target", `127.0.0.1:${node.port}`]),
          "--level",
          "must",
        ]);
        const skipped = report.cases.filter((c) => c.verdict === "skipped");
        console.log(
          `${count} nodes: ${report.summary.pass} of ${report.summary.total} MUST cases passed, ` +
            `${skipped.length} skipped, needing --spawn (${
              skipped.map((c) => c.id).join(", ") || "none"
            })`,
        );
        deepEqual(
          report.cases.filter((c) => c.counted).map((c) =>
            `${c.id} ${c.verdict}: ${c.message}`
          ),
          [],
        );
        equal(report.summary.pass > 30, true);
      } finally {
        await Promise.all(nodes.map((node) => node.stop()));
      }
    },
  );
}
