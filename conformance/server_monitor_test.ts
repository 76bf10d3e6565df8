import { equal, ok } from "node:assert/strict";
import { startServer } from "../lib/server_process.ts";
import { ServerMonitor } from "./server_monitor.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("the monitor samples the spawned server, signals it and waits for its exit", async () => {
  await using server = await startServer({
    command: "deno run -A conformance/faulty/main.ts --port {port}",
    cwd: ROOT,
  });
  const monitor = new ServerMonitor(server);
  const sample = await monitor.sample();
  ok(sample !== null && sample.rssBytes > 1024 * 1024 && sample.fds > 2);
  const sampled = await monitor.sampleWhile(
    new Promise((resolve) => setTimeout(resolve, 120, "done")),
    20,
  );
  equal(sampled.result, "done");
  ok(sampled.samples >= 2 && sampled.peakRssBytes > 0);
  equal(await monitor.waitExit(10), null, "still running");
  equal(monitor.exitExpected, false);
  monitor.expectExit();
  monitor.signal("SIGTERM");
  const status = await monitor.waitExit(5000);
  ok(status !== null, "it exited on SIGTERM");
  equal(monitor.exitExpected, true);
  equal(monitor.alive, false);
  equal(await monitor.sample(), null);
});
