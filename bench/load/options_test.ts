import { deepEqual, equal, throws } from "node:assert/strict";
import { resolveLoadOptions } from "./options.ts";
import { processProbe } from "./window.ts";

Deno.test("resolveLoadOptions fills in every default", () => {
  const settings = resolveLoadOptions({ port: 7000 });
  const { tag, ...config } = settings.config;
  equal(/^[a-z0-9]{4}$/.test(tag), true);
  deepEqual(config, {
    target: "127.0.0.1:7000",
    clients: 100,
    senders: 1,
    rate: 100,
    rateRamp: null,
    size: 64,
    payloadFile: null,
    payloadLines: null,
    payloadMeanBytes: null,
    workers: 1,
    durationMs: 10_000,
    warmupMs: 2000,
    lines: null,
    connectRate: 1000,
    window: 256,
    slowConsumers: 0,
    drainMs: 5000,
    spinMs: 0,
  });
  deepEqual(settings.targets, [
    { kind: "tcp", hostname: "127.0.0.1", port: 7000, path: "" },
  ]);
  equal(settings.server, undefined);
  equal(settings.rampSteps, 1, "no server to measure: one step");
  equal(settings.rampTimeoutMs, 30_000 + 100);
  equal(settings.joinTimeoutMs, 10_000 + 200);
  deepEqual(
    [settings.maxLagMs, settings.maxCpu, settings.maxOtherCpu],
    [20, 0.9, 1],
  );
});

Deno.test("resolveLoadOptions: the nodes of one room, and a server to measure", () => {
  const settings = resolveLoadOptions({
    hostname: "10.0.0.1",
    port: 7000,
    extraTargets: [{ port: 7001 }],
    serverPid: Deno.pid,
    connectRate: 0,
    slowConsumers: 5,
  });
  equal(settings.config.target, "10.0.0.1:7000 127.0.0.1:7001");
  equal(settings.server?.pid, Deno.pid);
  equal(settings.rampSteps, 10);
  equal(settings.rampTimeoutMs, 30_000);
  const probe = processProbe(1);
  equal(
    resolveLoadOptions({ port: 1, server: probe, serverPid: 2 }).server,
    probe,
  );
});

Deno.test("resolveLoadOptions: counts a run cannot hold are RangeErrors", () => {
  for (
    const bad of [
      { clients: 0 },
      { clients: 1.5 },
      { senders: -1 },
      { clients: 5, senders: 6 },
      { clients: 100_000, senders: 1000 },
      { workers: 0 },
      { workers: 65 },
    ]
  ) {
    throws(() => resolveLoadOptions({ port: 1, ...bad }), RangeError);
  }
});
