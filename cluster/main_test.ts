// The cluster as a user runs it: `server/main.ts --redis` and
// `deno task cluster`, as processes.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect } from "../client/chat_client.ts";
import { textLines } from "../_testing/lines.ts";
import { freePort } from "../lib/free_port.ts";
import { startServer as startProcess } from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";
import { readTexts, redisTest, waitFor } from "./_testing.ts";
import { startRedisServer } from "./redis_server.ts";

const SERVER_MAIN = new URL("../server/main.ts", import.meta.url).pathname;
const CLUSTER_MAIN = new URL("./main.ts", import.meta.url).pathname;

Deno.test("server --redis with Redis unreachable: one line on stderr, exit 1", async () => {
  const port = freePort();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      SERVER_MAIN,
      "--port",
      "0",
      "--redis",
      `redis://127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  equal(code, 1);
  const text = new TextDecoder().decode(stderr).trimEnd();
  equal(text.split("\n").length, 1, text);
  match(
    text,
    /^linechat-server: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
  );
});

redisTest(
  "deno task cluster --start-redis: N nodes relay across processes and stop on SIGTERM",
  async () => {
    const redisPort = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLUSTER_MAIN,
        "--nodes",
        "3",
        "--base-port",
        "0",
        "--start-redis",
        "--redis",
        `redis://127.0.0.1:${redisPort}`,
        "--",
        "--log",
        "json",
        "--bus-max-delay-ms",
        "1500",
        "--bus-stall-timeout-ms",
        "800",
        "--bus-backlog-bytes",
        "4m",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    const reading = (async () => {
      for await (const line of textLines(child.stdout)) lines.push(line);
    })();
    const stderr = new Response(child.stderr).text();
    let status: Deno.CommandStatus;
    try {
      const ports = new Map<string, number>();
      await waitFor(
        () => {
          for (const line of lines) {
            const match = /^(node\d) (\{.*"event":"listening".*\})$/.exec(line);
            if (match) {
              ports.set(
                match[1],
                Number(JSON.parse(match[2]).addr.split(":")[1]),
              );
            }
          }
          return ports.size === 3;
        },
        "three nodes listening",
        20000,
      );
      await waitFor(
        () => lines.filter((l) => l.includes("cluster-joined")).length === 3,
        "joined",
      );
      // The bus flags reach every node through `--`.
      for (const line of lines.filter((l) => l.includes("cluster-joined"))) {
        const joined = JSON.parse(line.slice(line.indexOf("{")));
        deepEqual(
          [
            joined.max_delay_ms,
            joined.stall_timeout_ms,
            joined.max_backlog_bytes,
          ],
          [1500, 800, 4 * 1024 * 1024],
        );
      }
      const clients = await Promise.all(
        ["node0", "node1", "node2"].map((node) =>
          connect({ port: ports.get(node)! })
        ),
      );
      await waitFor(
        () => lines.filter((l) => l.includes('"event":"connect"')).length === 3,
        "connects",
      );
      await clients[0].send("from node0");
      deepEqual(await readTexts(clients[1], 1), ["from node0"]);
      deepEqual(await readTexts(clients[2], 1), ["from node0"]);
      await clients[2].send(new Uint8Array([0, 0xff, 0x0d, 0x41]));
      const got = await clients[1].readLine({ timeoutMs: 5000 });
      deepEqual(got?.bytes, new Uint8Array([0, 0xff, 0x0d, 0x41]));
      for (const client of clients) client.close();
    } finally {
      // Always reap it (and so its nodes and redis-server), pass or fail.
      child.kill("SIGTERM");
      status = await child.status;
      await reading;
    }
    equal(status.code, 0, await stderr);
    const closed = lines.filter((l) => l.includes('"event":"cluster-closed"'));
    equal(closed.length, 3, lines.join("\n"));
    for (const line of closed) {
      const summary = JSON.parse(line.slice(line.indexOf("{")));
      for (
        const counter of [
          "lines_late",
          "lines_missed",
          "lines_expired",
          "lines_backlog_full",
          "publisher_stalls",
          "subscriber_stalls",
        ]
      ) {
        equal(summary[counter], 0, counter);
      }
    }
    ok(lines.some((l) => l.startsWith("cluster: started redis-server")));
    // The redis-server it started is gone.
    await waitFor(() => {
      try {
        Deno.listen({ hostname: "127.0.0.1", port: redisPort }).close();
        return true;
      } catch {
        return false;
      }
    }, "redis-server stopped");
  },
);

redisTest(
  "deno task cluster --start-redis on a port another Redis holds: one clear line, exit 1, no node joins it",
  async () => {
    await using other = await startRedisServer();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLUSTER_MAIN,
        "--nodes",
        "1",
        "--base-port",
        "0",
        "--start-redis",
        "--redis",
        other.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 1);
    const stderr = new TextDecoder().decode(out.stderr).trim();
    equal(stderr.split("\n").length, 1, stderr);
    match(
      stderr,
      new RegExp(
        `^linechat-cluster: redis-server did not start on 127\\.0\\.0\\.1:${other.port}: .*(in use|Address)`,
      ),
    );
    equal(new TextDecoder().decode(out.stdout).includes("node0"), false);
  },
);

redisTest(
  "a node's /metrics shows its bus: connected, and the lines it published",
  async () => {
    await using redis = await startRedisServer();
    const log: string[] = [];
    await using node = await startProcess({
      command: `${
        shellJoin([Deno.execPath(), "run", "-A", SERVER_MAIN])
      } --redis ${redis.url} --http-port 0 --port {port}`,
      onLine: (line) => log.push(line),
    });
    await waitFor(
      () => log.some((l) => l.includes("cluster-joined")),
      "joined",
    );
    const httpPort = Number(/http_addr=[\d.]+:(\d+)/.exec(log.join("\n"))?.[1]);
    const [a, b] = await Promise.all([
      connect({ port: node.port }),
      connect({ port: node.port }),
    ]);
    await waitFor(
      () => log.filter((l) => l.includes(" connect ")).length === 2,
      "two clients",
    );
    await a.send("to the cluster");
    deepEqual(await readTexts(b, 1), ["to the cluster"]);
    let text = "";
    for (let tries = 0; tries < 50; tries++) {
      text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      if (text.includes("linechat_bus_lines_published_total 1\n")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    match(text, /\nlinechat_bus_connected 1\n/);
    match(text, /\nlinechat_bus_lines_published_total 1\n/);
    a.close();
    b.close();
  },
);
