import { equal, ok, rejects } from "node:assert/strict";
import { describeStatus, freePort, ServerProcess } from "./server_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("a spawned server is reachable, measurable, and stopped with its group", async () => {
  const server = new ServerProcess({
    command: "deno run -A conformance/faulty/correct.ts --port {port}",
    cwd: ROOT,
  });
  await server.start();
  try {
    ok(server.alive);
    const conn = await Deno.connect(server.target);
    conn.close();
    const sample = await server.sample();
    ok(sample !== null && sample.rssBytes > 1024 * 1024 && sample.fds > 2);
    ok(server.outputTail().includes("listening"));
  } finally {
    await server.stop();
  }
  equal(server.alive, false);
  equal(await server.sample(), null);
});

Deno.test("a server that dies before accepting is reported with its last line", async () => {
  const server = new ServerProcess({
    command: "echo 'cannot bind' >&2; exit 4 # {port}",
    cwd: ROOT,
  });
  await rejects(server.start(), /exit code 4.*cannot bind/);
});

Deno.test("helpers: a free port, a status in words", () => {
  ok(freePort() > 0);
  equal(
    describeStatus({ success: false, code: 0, signal: "SIGTERM" }),
    "killed by SIGTERM",
  );
});
