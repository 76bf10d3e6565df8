import { deepEqual, equal, ok } from "node:assert/strict";
import { startServer } from "../../lib/server_process.ts";
import { RunClock } from "./clock.ts";
import {
  groupProbe,
  MeasurementWindow,
  processProbe,
  RssTrack,
  type ServerProbe,
} from "./window.ts";

Deno.test("processProbe reads one live process, and says when it is gone", async () => {
  const self = processProbe(Deno.pid);
  equal(await self.alive(), true);
  ok(((await self.sample())?.cpuSeconds ?? 0) > 0);
  const gone = processProbe(2 ** 22 + 17);
  equal(await gone.alive(), false);
  equal(await gone.sample(), undefined);
});

Deno.test("groupProbe sums a started server's group: the shell and the server", async () => {
  const server = await startServer({
    command: "ncat -l --broker 127.0.0.1 {port}",
  });
  const probe = groupProbe(server);
  equal(probe.pid, server.pid);
  equal(await probe.alive(), true);
  const group = await probe.sample();
  const shell = await processProbe(server.pid!).sample();
  ok(group !== undefined && shell !== undefined);
  ok(group.rssBytes > shell.rssBytes, "more than the shell alone");
  await server.stop();
  equal(await probe.alive(), false);
  equal(await probe.sample(), undefined);
});

/** A server probe that reports the RSS values given, in turn. */
function fakeServer(rss: number[]): ServerProbe {
  let cpu = 0;
  return {
    pid: 42,
    sample: () => {
      const rssBytes = rss.shift();
      return Promise.resolve(
        rssBytes === undefined
          ? undefined
          : { atMs: performance.now(), cpuSeconds: cpu += 0.5, rssBytes },
      );
    },
    alive: () => Promise.resolve(true),
  };
}

Deno.test("RssTrack: ramp samples for the fit, the connected RSS apart, the peak of all", async () => {
  const rss = new RssTrack(fakeServer([100, 200, 300, 250]));
  await rss.atClients(0);
  await rss.atClients(10);
  await rss.atClients(20);
  await rss.afterJoin();
  rss.see(280);
  deepEqual(rss.samples, [[0, 100], [10, 200], [20, 300]]);
  deepEqual([rss.connected, rss.peak], [250, 300]);
  const none = new RssTrack(undefined);
  equal(await none.atClients(5), 0);
  deepEqual(none.samples, []);
});

Deno.test("the window is read at both edges, and can end early", async () => {
  const clock = new RunClock();
  const rss = new RssTrack(undefined);
  const window = new MeasurementWindow(
    clock,
    fakeServer([10, 20]),
    () => 7,
    rss,
  );
  equal(Number.isNaN(window.seconds), true, "not scheduled yet");
  const now = performance.now();
  window.schedule(now + 10, now + 1000);
  let opened = false;
  await window.open(now + 10, new Promise(() => {}), () => opened = true);
  equal(opened, true);
  window.shrinkTo(window.startUs + 50_000);
  await window.close();
  ok(Math.abs(window.seconds - 0.05) < 1e-9);
  const samples = window.samples!;
  deepEqual(
    [samples.start.server?.rssBytes, samples.end.server?.rssBytes],
    [10, 20],
  );
  deepEqual([samples.start.spinMs, samples.end.spinMs], [7, 7]);
  ok(samples.end.self.atMs >= samples.start.self.atMs);
  equal(rss.peak, 20, "the closing edge's RSS counts for the peak");
});
